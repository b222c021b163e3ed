// A worker that does not share the controller's filesystem: a real worker confined to its own
// data root, reached by address. Every input (the model folder, corpora, counts, packs) reaches
// it over gRPC, every output comes back, and the run gives exactly the numbers of a worker that
// reads the same paths. A second run sends nothing the worker already holds.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPlan } from "../ts/pipeline/run.js";
import type { RunResults } from "../ts/results/results.js";
import { startLocalWorker, type LocalWorker } from "../ts/worker/launch.js";
import { tinyPlan } from "./helpers/tiny-plan.js";
import { makeTinyModel } from "./helpers/worker-env.js";

let modelDir: string;
let root: string;
let remote: LocalWorker;

const plan = (workers: unknown[]) =>
  tinyPlan(modelDir, {
    name: "copies",
    training: { targets: ["af"], methods: [{ method: "sparse", learning_rate: 0.01 }, "lora"], batch_size: 2, sequence_length: 32, max_steps: 12, validate_every: 6 },
    workers,
  });

const events = (dir: string) => readFileSync(join(dir, "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
const numbers = (r: RunResults) => ({
  base: r.base,
  targets: r.targets.map((t) => ({ label: t.label, params: t.trainable_parameters, validation: t.validation_loss, scores: t.scores, weights: t.weight_change })),
  neurons: r.selection!.neuron_sets.map((s) => [s.language, s.neuron_count, s.per_layer]),
});

beforeAll(async () => {
  modelDir = await makeTinyModel(["eng", "afr"]);
  root = mkdtempSync(join(tmpdir(), "sparse-sub-box-"));
  remote = await startLocalWorker({ args: ["--data-root", root] }); // sees nothing outside `root`
}, 120_000);

afterAll(async () => {
  await remote?.stop();
});

describe("a worker without a shared filesystem", () => {
  let copyDir: string;
  let copied: RunResults;

  beforeAll(async () => {
    copyDir = join(mkdtempSync(join(tmpdir(), "sparse-sub-copy-")), "run");
    ({ results: copied } = await runPlan(plan([{ address: remote.address }]), { outDir: copyDir }));
  }, 300_000);

  it("is detected, receives the inputs in its staging folder and sends every output back", () => {
    const log = events(copyDir);
    expect(log.find((e) => e.event === "worker_files")).toMatchObject({ sharing: "copy", staging_dir: join(root, "staging") });
    expect(copied.status).toBe("complete");
    const staged = join(root, "staging", hostname());
    expect(existsSync(join(staged, modelDir, "config.json"))).toBe(true); // the model folder went over
    expect(existsSync(join(staged, copyDir, "corpora"))).toBe(true);
    for (const file of ["activations/en.safetensors", "neurons/af.json", "packs/af.sparse.safetensors", "adapters/af.lora/adapter_config.json"]) {
      expect(existsSync(join(copyDir, file)), file).toBe(true);
    }
    // results name this machine's files, not the worker's copies
    expect(copied.targets.map((t) => t.output)).toEqual(["packs/af.sparse.safetensors", "adapters/af.lora"]); // relative to the run directory
    expect(JSON.stringify(copied)).not.toContain(join(root, "staging"));
    const moved = log.filter((e) => e.event === "files_moved");
    expect(moved.reduce((n, e) => n + e.sent, 0)).toBeGreaterThan(0);
    expect(moved.reduce((n, e) => n + e.received, 0)).toBeGreaterThan(0);
  });

  it("gives the numbers of a worker that reads the same paths", async () => {
    const sharedDir = join(mkdtempSync(join(tmpdir(), "sparse-sub-shared-")), "run");
    const { results: shared } = await runPlan(plan([{ local: true }]), { outDir: sharedDir });
    expect(events(sharedDir).find((e) => e.event === "worker_files")).toMatchObject({ sharing: "shared" });
    expect(events(sharedDir).some((e) => e.event === "files_moved")).toBe(false);
    expect(numbers(copied)).toEqual(numbers(shared));
  }, 300_000);

  it("sends nothing the worker already holds on a second run", async () => {
    await runPlan(plan([{ address: remote.address, files: "copy" }]), { outDir: copyDir, fresh: true });
    const second = events(copyDir).slice(events(copyDir).findLastIndex((e) => e.event === "run_started"));
    expect(second.filter((e) => e.event === "job_finished" && !e.reused).length).toBeGreaterThan(5); // everything ran again
    expect(second.filter((e) => e.event === "files_moved").reduce((n, e) => n + e.sent, 0)).toBe(0);
  }, 300_000);
});
