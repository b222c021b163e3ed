// The real CLI binary (built dist/, as `npx sparse-sub` runs it): messages and exit codes.
import { mkdtempSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "../bin/sparse-sub.js");
const cli = (...args: string[]) => execa("node", [bin, ...args], { reject: false, env: { CI: "1" } });

function planFile(plan: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), "sparse-sub-cli-"));
  const path = join(dir, "plan.json");
  writeFileSync(path, JSON.stringify(plan));
  return path;
}

describe("sparse-sub CLI", () => {
  it("validates the demo plan", async () => {
    const result = await cli("validate", join(import.meta.dirname, "../configs/demo.plan.json"));
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/demo\.plan\.json: valid\. 6 languages \(en, de, nl, af, mt, cy\), targets af, 10 jobs, 1 worker\(s\)/);
  });

  it("lists every plan problem with its JSON path and exits 2", async () => {
    const path = planFile({ name: "x", model: { source: "m", dtype: 3 }, languages: [{ code: "af", udhr: { id: "afr" } }], training: { targets: ["af"] }, extra: 1 });
    const result = await cli("validate", path);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(
      [
        `sparse-sub: ${path}: invalid plan (3 problems)`,
        `  model.dtype: Invalid option: expected one of "auto"|"float32"|"bfloat16"|"float16"`,
        `  languages: LAPE compares languages: give at least 2`,
        `  (plan): unknown key 'extra'`,
      ].join("\n"),
    );
  });

  it("refuses to run with an empty corpus file, naming it, and writes nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sparse-sub-cli-"));
    writeFileSync(join(dir, "empty.txt"), "");
    const out = join(dir, "run");
    const path = planFile({
      name: "x",
      model: { source: "meta-llama/Llama-3.1-8B" },
      languages: [{ code: "af", udhr: { id: "afr" } }, { code: "xx", train: { files: [join(dir, "empty.txt")] } }],
      training: { targets: ["af"] },
    });
    const result = await cli("run", path, "--out", out);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(`sparse-sub: 1 corpus problem\n  languages[1].train.files[0]: file is empty: ${join(dir, "empty.txt")}`);
    expect(existsSync(out)).toBe(false);
  });

  it("names a missing plan file", async () => {
    const result = await cli("run", "/nonexistent/plan.json");
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe("sparse-sub: cannot read plan /nonexistent/plan.json: ENOENT");
  });
});
