// The run directory's claim and lock, and its relocatable paths. The lock is held by a real
// second process (the built dist/, as the CLI runs it), killed with SIGKILL for the stale case.
import { execa, type ResultPromise } from "execa";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SparseSubError } from "../ts/errors.js";
import { LOCK_FILE, claimRunDirectory, lockRunDirectory, relativeToRun } from "../ts/pipeline/run-directory.js";

const dist = join(import.meta.dirname, "../dist/pipeline/run-directory.js");
const bin = join(import.meta.dirname, "../bin/sparse-sub.js");
let holder: ResultPromise | undefined;

/** Another process that takes the lock and keeps it until killed. */
async function holdLock(dir: string): Promise<number> {
  const script = `const m = await import(${JSON.stringify(dist)}); m.lockRunDirectory(${JSON.stringify(dir)}); console.log("locked"); setInterval(() => {}, 1000);`;
  holder = execa("node", ["--input-type=module", "-e", script], { reject: false });
  await new Promise<void>((resolve, reject) => {
    holder!.stdout!.on("data", (chunk: Buffer) => chunk.toString().includes("locked") && resolve());
    void holder!.then((r) => reject(new Error(`lock holder exited: ${r.stderr}`)));
  });
  return holder.pid!;
}

const errorOf = (f: () => unknown) => {
  try {
    f();
  } catch (error) {
    return error as SparseSubError;
  }
  throw new Error("expected an error");
};

afterEach(async () => {
  holder?.kill("SIGKILL");
  await holder;
  holder = undefined;
});

describe("run directory lock", () => {
  it("refuses a second run while the first lives, naming its pid, and takes over once it was SIGKILLed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sparse-sub-lock-"));
    const pid = await holdLock(dir);
    const refused = errorOf(() => lockRunDirectory(dir));
    expect(refused.code).toBe("RUN_LOCKED");
    expect(refused.message).toContain(`pid ${pid}`);

    holder!.kill("SIGKILL");
    await holder;
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true); // SIGKILL runs no cleanup...
    const release = lockRunDirectory(dir); // ...but a dead owner's lock is stale
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8")).pid).toBe(process.pid);
    release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it("`sparse-sub run` on a locked directory exits 3 before starting a worker", async () => {
    const root = mkdtempSync(join(tmpdir(), "sparse-sub-lock-"));
    const dir = join(root, "run");
    mkdirSync(dir);
    const pid = await holdLock(dir);
    const plan = join(root, "plan.json");
    writeFileSync(plan, JSON.stringify({ name: "x", model: { source: "HuggingFaceTB/SmolLM2-135M" }, languages: [{ code: "af", udhr: { id: "afr" } }, { code: "en", udhr: { id: "eng" } }], training: { targets: ["af"] } }));
    const started = Date.now();
    const result = await execa("node", [bin, "run", plan, "--out", dir], { reject: false, env: { CI: "1" } });
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain(`is in use by another sparse-sub run (pid ${pid}`);
    expect(Date.now() - started).toBeLessThan(10_000); // no worker (torch import) was started
  });
});

describe("claiming a run directory", () => {
  it("refuses a file and a folder of other files, and removes only a folder it created", () => {
    const root = mkdtempSync(join(tmpdir(), "sparse-sub-claim-"));
    writeFileSync(join(root, "file"), "x");
    expect(errorOf(() => claimRunDirectory(join(root, "file")))).toMatchObject({ code: "OUTPUT_INVALID", message: expect.stringContaining("is a file") });
    mkdirSync(join(root, "mine"));
    writeFileSync(join(root, "mine", "notes.txt"), "keep me");
    const refused = errorOf(() => claimRunDirectory(join(root, "mine")));
    expect(refused.code).toBe("OUTPUT_INVALID");
    expect(refused.message).toContain("notes.txt");
    expect(readFileSync(join(root, "mine", "notes.txt"), "utf8")).toBe("keep me");

    const release = claimRunDirectory(join(root, "new"));
    release({ removeIfEmpty: true });
    expect(existsSync(join(root, "new"))).toBe(false);
    mkdirSync(join(root, "empty"));
    claimRunDirectory(join(root, "empty"))({ removeIfEmpty: true });
    expect(existsSync(join(root, "empty"))).toBe(true); // not ours to remove
  });
});

describe("relativeToRun", () => {
  it("rewrites paths inside the run directory only, not a sibling that shares its prefix", () => {
    const value = { a: "/r/run/packs/af.safetensors", b: ["/r/run", "/r/run2/x", "/elsewhere"], c: 3, d: { e: "/r/run/neurons/af.json" } };
    expect(relativeToRun(value, "/r/run")).toEqual({ a: "packs/af.safetensors", b: [".", "/r/run2/x", "/elsewhere"], c: 3, d: { e: "neurons/af.json" } });
  });
});
