// The real CLI binary (built dist/, as `npx sparse-sub` runs it): messages and exit codes.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
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
    expect(result.stdout).toMatch(/demo\.plan\.json: valid\. 6 languages \(en, de, nl, af, mt, cy\), targets af, methods sparse, random, lora, 17 jobs, 1 worker\(s\)/);
  });

  it("lists every plan problem with its JSON path and exits 2", async () => {
    const path = planFile({ name: "x", model: { source: "m", dtype: 3 }, languages: [{ code: "af", udhr: { id: "afr", heldout_articles: [31] } }], training: { targets: ["af"] }, extra: 1 });
    const result = await cli("validate", path);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(
      [
        `sparse-sub: ${path}: invalid plan (3 problems)`,
        `  model.dtype: Invalid option: expected one of "auto"|"float32"|"bfloat16"|"float16"`,
        `  languages[0].udhr.heldout_articles[0]: Too big: expected number to be <=30`,
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

  it("takes remote workers from --worker flags, checked like the plan's", async () => {
    const out = mkdtempSync(join(tmpdir(), "sparse-sub-cli-"));
    const result = await cli("run", join(import.meta.dirname, "../configs/demo.plan.json"), "--worker", "gpu-box", "--out", join(out, "run"));
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("workers[0].address: expected HOST:PORT");
    expect(existsSync(join(out, "run"))).toBe(false);
  });

  it("names a missing plan file", async () => {
    const result = await cli("run", "/nonexistent/plan.json");
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe("sparse-sub: cannot read plan /nonexistent/plan.json: ENOENT");
  });
});

describe("sparse-sub run, interrupted", () => {
  it("stops on Ctrl-C with exit 130, keeps finished jobs, and resumes on the next run", async () => {
    const { makeTinyModel } = await import("./helpers/worker-env.js");
    const model = await makeTinyModel(["eng", "afr"]);
    const dir = mkdtempSync(join(tmpdir(), "sparse-sub-cli-"));
    const out = join(dir, "run");
    const path = planFile({
      name: "interrupted",
      model: { source: model, device: "cpu" },
      languages: [{ code: "en", udhr: { id: "eng" } }, { code: "af", udhr: { id: "afr" } }],
      identification: { sequence_length: 32, batch_size: 2, top_rate: 0.2 },
      // far more steps than the test waits for: the interrupt lands during training
      training: { targets: ["af"], sequence_length: 32, batch_size: 1, epochs: 10_000, validate_every: 0 },
      evaluation: { sequence_length: 32 },
    });
    const child = execa("node", [bin, "run", path, "--out", out], { reject: false, env: { CI: "1" } });
    let training = false;
    child.stderr!.on("data", (chunk: Buffer) => {
      if (!training && chunk.toString().includes("[train:af:sparse] train")) {
        training = true;
        child.kill("SIGINT");
      }
    });
    const result = await child;
    expect(training).toBe(true);
    expect(result.exitCode).toBe(130);
    expect(result.stderr).toContain("sparse-sub: stopping (finished jobs are kept; run again to resume");
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    expect(results.status).toBe("cancelled");
    expect(results.jobs.map((j: { id: string }) => j.id).sort()).toEqual(["collect:af", "collect:en", "evaluate:base", "select"]);
    expect(existsSync(join(out, "packs/af.sparse.safetensors"))).toBe(false);

    // resume with a short budget: the four finished jobs are reused, only training and its evaluation run
    const plan = JSON.parse(readFileSync(path, "utf8"));
    plan.training.max_steps = 2;
    writeFileSync(path, JSON.stringify(plan));
    const resumed = await execa("node", [bin, "run", path, "--out", out], { reject: false, env: { CI: "1" } });
    expect(resumed.exitCode).toBe(0);
    const final = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    const reused = Object.fromEntries(final.jobs.map((j: { id: string; reused: boolean }) => [j.id, j.reused]));
    expect(reused).toEqual({ "collect:en": true, "collect:af": true, "evaluate:base": true, select: true, "train:af:sparse": false, "evaluate:af:sparse": false, "weights:af:sparse": false });
    expect(final.targets[0].steps).toBe(2);
    expect(resumed.stdout).toContain("| **af** (target) |");
  }, 240_000);
});

describe("sparse-sub run, controller killed", () => {
  it("leaves readable files after SIGKILL, its worker exits, and the rerun reuses finished jobs", async () => {
    const { makeTinyModel } = await import("./helpers/worker-env.js");
    const model = await makeTinyModel(["eng", "afr"]);
    const dir = mkdtempSync(join(tmpdir(), "sparse-sub-kill-"));
    const out = join(dir, "run");
    const path = planFile({
      name: "killed",
      model: { source: model, device: "cpu" },
      languages: [{ code: "en", udhr: { id: "eng" } }, { code: "af", udhr: { id: "afr" } }],
      identification: { sequence_length: 32, batch_size: 2, top_rate: 0.2 },
      training: { targets: ["af"], sequence_length: 32, batch_size: 1, epochs: 10_000, max_steps: 1500, validate_every: 0, checkpoint_every: 10 },
      evaluation: { sequence_length: 32 },
    });
    const child = execa("node", [bin, "run", path, "--out", out], { reject: false, env: { CI: "1" } });
    let exited = false;
    void child.then(() => (exited = true));
    // kill once training has written its first checkpoint
    while (!exited && !existsSync(join(out, "checkpoints", "af.sparse.pt"))) await new Promise((r) => setTimeout(r, 50));
    expect(exited).toBe(false);
    const state = JSON.parse(readFileSync(join(out, "state.json"), "utf8"));
    const workerPid = (await execa("pgrep", ["-f", "sparse_sub_worker serve", "-P", String(child.pid)], { reject: false })).stdout.trim().split("\n").map(Number)[0];
    expect(workerPid).toBeGreaterThan(0);
    child.kill("SIGKILL");
    await child;
    for (const file of ["state.json", "results.json", "plan.resolved.json"]) {
      expect(() => JSON.parse(readFileSync(join(out, file), "utf8")), file).not.toThrow();
    }
    // the orphaned worker notices and exits within seconds
    for (let i = 0; i < 50 && (await execa("kill", ["-0", String(workerPid)], { reject: false })).exitCode === 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect((await execa("kill", ["-0", String(workerPid)], { reject: false })).exitCode).not.toBe(0);

    const rerun = await execa("node", [bin, "run", path, "--out", out], { reject: false, env: { CI: "1" } });
    expect(rerun.exitCode).toBe(0);
    const final = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    const reused = new Set(final.jobs.filter((j: { reused: boolean }) => j.reused).map((j: { id: string }) => j.id));
    for (const id of Object.keys(state.jobs)) expect(reused.has(id), id).toBe(true);
    expect(final.targets[0].steps).toBe(1500);
    // the rerun's training continued from a checkpoint, not from step 1
    const events = readFileSync(join(out, "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const rerunStart = events.map((e) => e.event).lastIndexOf("run_started");
    const firstStep = events.slice(rerunStart).find((e) => e.event === "progress" && e.job === "train:af:sparse" && e.phase === "train");
    expect(firstStep.done).toBeGreaterThan(10);
  }, 240_000);
});
