// The real CLI binary (built dist/, as `npx sparse-sub` runs it): messages and exit codes.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { handRun } from "./helpers/hand-run.js";

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
    expect(result.stdout).toMatch(/demo\.plan\.json: valid\. 6 languages \(en, de, nl, af, mt, cy\), targets af, methods sparse, random, lora, ffn, 20 jobs, 1 worker\(s\)/);
  });

  it("lists every plan problem with its JSON path and exits 2", async () => {
    const path = planFile({ name: "x", model: { source: "m", dtype: 3 }, languages: [{ code: "af", udhr: { id: "afr", heldout_articles: [31] } }], training: { targets: ["af"] }, extra: 1 });
    const result = await cli("validate", path);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(
      [
        `sparse-sub: ${path}: invalid plan (3 problems)`,
        `  model.dtype: unknown value 3 (expected one of "auto", "float32", "bfloat16", "float16")`,
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

  it("finds mistakes in the files a plan names before anything starts, each with its field", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sparse-sub-cli-"));
    mkdirSync(join(dir, "not-a-model"));
    writeFileSync(join(dir, "fake.gguf"), "definitely not gguf");
    writeFileSync(join(dir, "latin1.txt"), Buffer.concat([Buffer.from("line one\nline two\nCaf"), Buffer.from([0xe9]), Buffer.from("\n")]));
    writeFileSync(join(dir, "output-file"), "");
    const base = {
      name: "x",
      languages: [{ code: "af", udhr: { id: "afr" } }, { code: "en", udhr: { id: "eng" } }],
      training: { targets: ["af"] },
    };
    const validate = async (plan: object) => cli("validate", planFile({ ...base, ...plan }));
    const missing = await validate({ model: { source: join(dir, "nowhere") } });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain(`model.source: no such file or directory: ${join(dir, "nowhere")}`);
    expect((await validate({ model: { source: join(dir, "not-a-model") } })).stderr).toContain("model.source: " + join(dir, "not-a-model") + " has no config.json");
    expect((await validate({ model: { source: join(dir, "fake.gguf") } })).stderr).toContain("is a file but not a GGUF model");
    const notUtf8 = await validate({ model: { source: "HuggingFaceTB/SmolLM2-135M" }, languages: [...base.languages, { code: "fr", train: { files: [join(dir, "latin1.txt")] } }] });
    expect(notUtf8.exitCode).toBe(2);
    expect(notUtf8.stderr).toContain(`languages[2].train.files[0]: ${join(dir, "latin1.txt")}:3: not UTF-8 text`);
    const sets = await validate({ model: { source: "HuggingFaceTB/SmolLM2-135M" }, neuron_sets: { files: { af: join(dir, "af.json") } } });
    expect(sets.stderr).toContain(`neuron_sets.files.af: no such file: ${join(dir, "af.json")}`);
    const output = await validate({ model: { source: "HuggingFaceTB/SmolLM2-135M" }, output: { dir: join(dir, "output-file") } });
    expect(output.stderr).toContain(`output.dir: ${join(dir, "output-file")} is a file, not a folder`);
  });

  it("suggests the closest name for a misspelled method, task or mode, in one style", async () => {
    const result = await cli("validate", planFile({
      name: "x",
      model: { source: "HuggingFaceTB/SmolLM2-135M" },
      languages: [{ code: "af", udhr: { id: "afr" } }, { code: "en", udhr: { id: "eng" } }],
      training: { targets: ["af"], methods: [{ method: "sprase" }] },
      evaluation: { tasks: [{ task: "belebel" }, { task: "udhr_reading", modes: ["logllik"] }] },
    }));
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`training.methods[0].method: unknown value "sprase": did you mean "sparse"? (expected one of "sparse", "random", "ffn", "full", "lora", "ia3", "neuron-lora")`);
    expect(result.stderr).toContain(`evaluation.tasks[0].task: unknown value "belebel": did you mean "belebele"?`);
    expect(result.stderr).toContain(`evaluation.tasks[1].modes[0]: unknown value "logllik": did you mean "loglik"?`);
  });

  it("warns about language codes that are not ISO 639 / BCP 47, with the closest match, and prints --json", async () => {
    const path = planFile({
      name: "x",
      model: { source: "HuggingFaceTB/SmolLM2-135M" },
      languages: [{ code: "aff", udhr: { id: "afr" } }, { code: "EN", udhr: { id: "eng" } }, { code: "de", udhr: { id: "nld" } }],
      training: { targets: ["aff"] },
    });
    const text = await cli("validate", path);
    expect(text.exitCode).toBe(0);
    expect(text.stderr.split("\n")).toEqual([
      "sparse-sub: warning: languages[0].code: 'aff' is not an ISO 639 language code; did you mean 'af' (Afrikaans)?",
      "sparse-sub: warning: languages[1].code: 'EN' is written 'en' in BCP 47 (language subtags are lower case)",
      "sparse-sub: warning: languages[2].code: 'de' is German, but its corpus is the UDHR in Dutch (nl); did you mean 'nl'?",
    ]);
    const json = await cli("validate", path, "--json");
    expect(json.exitCode).toBe(0);
    const summary = JSON.parse(json.stdout);
    expect(summary).toMatchObject({ ok: true, languages: ["aff", "EN", "de"], targets: ["aff"], workers: 1 });
    expect(summary.warnings.map((w: { path: string }) => w.path)).toEqual(["languages[0].code", "languages[1].code", "languages[2].code"]);
    const invalid = await cli("validate", planFile({ name: "x" }), "--json");
    expect(invalid.exitCode).toBe(2);
    expect(JSON.parse(invalid.stdout)).toMatchObject({ ok: false, code: "PLAN_INVALID", issues: expect.arrayContaining([expect.objectContaining({ path: "model" })]) });
  });

  it("`results` on a folder that is not a run exits 4", async () => {
    const result = await cli("results", mkdtempSync(join(tmpdir(), "sparse-sub-cli-")));
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toMatch(/holds no results\.json/);
  });

  it("`report` writes a run's page (exit 0), and `compare` two runs' page; neither on a folder that is not a run", async () => {
    const run = handRun();
    const written = await cli("report", run);
    expect([written.exitCode, written.stdout]).toEqual([0, `wrote ${join(run, "report.html")}`]);
    expect(readFileSync(join(run, "report.html"), "utf8")).toMatch(/^<!doctype html>/);
    const out = join(run, "both.html");
    const compared = await cli("compare", run, handRun(), "--out", out);
    expect([compared.exitCode, compared.stdout]).toEqual([0, `wrote ${out}`]);
    const notRun = await cli("report", mkdtempSync(join(tmpdir(), "sparse-sub-cli-")));
    expect(notRun.exitCode).toBe(4);
    expect(notRun.stderr).toMatch(/holds no results\.json/);
    const one = await cli("compare", run);
    expect(one.exitCode).toBe(1);
    expect(one.stderr).toContain("compare needs at least two run directories");
  });

  it("`steer --mode mean` names the activation counts it could not find before starting a worker (exit 2)", async () => {
    const run = mkdtempSync(join(tmpdir(), "sparse-sub-steer-"));
    mkdirSync(join(run, "neurons"));
    for (const code of ["af", "nl"]) writeFileSync(join(run, "neurons", `${code}.json`), JSON.stringify({ language: code, layers: [[1]], intermediate_size: 4 }));
    const result = await cli("steer", "--model", "m", "--neurons", join(run, "neurons"), "--from", "af", "--to", "nl", "--mode", "mean", "--prompt", "Alle mense");
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`--counts: no activation counts ${join(run, "activations", "nl.safetensors")}`);
    const elsewhere = await cli("steer", "--model", "m", "--neurons", join(run, "neurons"), "--to", "nl", "--mode", "mean", "--counts", join(run, "c.safetensors"), "--prompt", "x");
    expect(elsewhere.stderr).toContain(`--counts: no activation counts ${join(run, "c.safetensors")}`);
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
    expect(result.stderr).toContain("sparse-sub: stopping (finished jobs are kept; Ctrl-C again to force)");
    expect(result.stderr).toContain(`sparse-sub: cancelled. Finished jobs are kept in ${out} (results.md and report.html show them); resume with: npx sparse-sub run ${path} --out ${out}`);
    expect(result.stderr).not.toContain("waiting for a worker");
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    expect(results).toMatchObject({ status: "cancelled", error: "cancelled" });
    const events = readFileSync(join(out, "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const finished = events.findIndex((e) => e.event === "run_finished");
    expect(finished).toBeGreaterThan(0);
    expect(JSON.stringify(events.slice(finished + 1))).not.toMatch(/Traceback|Error/);
    for (const event of events) for (const key of Object.keys(event)) expect(key, event.event).toMatch(/^[a-z0-9_]+$/); // one naming style
    expect(readFileSync(join(out, "results.md"), "utf8")).not.toMatch(/## Target :|## Target  /);
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
    expect(firstStep.message).toMatch(/^resumed from step \d+ \(checkpoint af\.sparse\.pt\)$/);
    expect(rerun.stderr).toContain("resumed from step");
  }, 240_000);
});
