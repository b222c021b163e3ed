// The reviewer checks over the real stack (real worker, real gRPC, tiny model): a selection
// search over LAPE parameter lists, transfer without re-selection, and each pack component's
// share of the gain, checked against the files the jobs wrote and against perplexities computed
// independently (the pack's slices copied into the weights by hand).
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runPlan } from "../ts/pipeline/run.js";
import type { RunResults } from "../ts/results/results.js";
import { tinyPlan, UDHR_LANGUAGES } from "./helpers/tiny-plan.js";
import { makeTinyModel, runFixture } from "./helpers/worker-env.js";

let modelDir: string;
const languages = [UDHR_LANGUAGES.en, UDHR_LANGUAGES.af, UDHR_LANGUAGES.nl];
const training = { targets: ["af"], methods: [{ method: "sparse", learning_rate: 0.01 }], batch_size: 2, sequence_length: 64, epochs: 1, validate_every: 10 };
const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8"));

beforeAll(async () => {
  modelDir = await makeTinyModel(["eng", "afr", "nld"]);
});

describe("a selection search over top_rate and activation_bar_ratio lists", () => {
  let dir: string;
  let results: RunResults;

  beforeAll(async () => {
    dir = join(mkdtempSync(join(tmpdir(), "sparse-sub-search-")), "run");
    const identification = { sequence_length: 64, batch_size: 4, top_rate: [0.05, 0.2], activation_bar_ratio: [0.9, 0.95] };
    const plan = tinyPlan(modelDir, { languages, identification, training: { ...training, selection_search: { steps: 3 } } });
    ({ results } = await runPlan(plan, { outDir: dir }));
  });

  it("selects once per combination, with the top_rate's share of all neurons", () => {
    const candidates = results.selection_search!.candidates;
    expect(candidates.map((c) => [c.top_rate, c.activation_bar_ratio])).toEqual([[0.05, 0.9], [0.05, 0.95], [0.2, 0.9], [0.2, 0.95]]);
    expect(candidates.map((c) => c.selected_neuron_count)).toEqual([6, 6, 26, 26]); // round(2 layers x 64 x rate)
    expect(results.selection).toBeNull(); // no single selection
    for (const c of candidates) {
      const af = readJson(join(dir, "neurons", "candidates", c.id, "af.json"));
      const count = af.layers.reduce((n: number, layer: number[]) => n + layer.length, 0);
      expect(c.neuron_sets!.find((s) => s.language === "af")!.neuron_count).toBe(count);
    }
  });

  it("trains each candidate the same number of steps and keeps the lowest validation loss", () => {
    const [choice] = results.selection_search!.targets;
    expect(choice).toMatchObject({ language: "af", method: "sparse", steps: 3 });
    const trained = choice.candidates.filter((c) => c.validation_loss !== null);
    expect(trained.length).toBeGreaterThan(1);
    const lowest = trained.reduce((a, b) => (b.validation_loss! < a.validation_loss! ? b : a));
    expect(choice.chosen).toBe(lowest.id);
    const jobs = results.jobs.map((j) => j.id);
    for (const c of choice.candidates) expect(jobs).toContain(`search:af:${c.id}`);
    // the losses differ between candidates: the choice is not a tie broken by order
    expect(new Set(trained.map((c) => c.validation_loss)).size).toBe(trained.length);
  });

  it("trains the target's methods on the chosen set", () => {
    const [choice] = results.selection_search!.targets;
    expect(readFileSync(join(dir, "neurons", "af.json"), "utf8")).toBe(readFileSync(join(dir, "neurons", "candidates", choice.chosen, "af.json"), "utf8"));
    const chosen = choice.candidates.find((c) => c.id === choice.chosen)!;
    expect(results.targets[0].neuron_count).toBe(chosen.neurons);
    const md = readFileSync(join(dir, "results.md"), "utf8");
    expect(md).toContain("## Target af: choosing its selection (3-step sparse training per candidate");
    expect(md).toContain(`| ${chosen.top_rate} | 0.95 | ${chosen.activation_bar_ratio} | ${chosen.neurons} | ${chosen.validation_loss!.toFixed(4)} | **chosen** |`);
  });
});

describe("transfer without re-selection and each component's share", () => {
  let dir: string;
  let results: RunResults;

  beforeAll(async () => {
    dir = join(mkdtempSync(join(tmpdir(), "sparse-sub-transfer-")), "run");
    const transfer = [{ text: "af", neurons: "nl" }, { text: "nl", neurons: "af" }];
    const plan = tinyPlan(modelDir, { languages, training: { ...training, transfer }, evaluation: { sequence_length: 64, batch_size: 4, component_share: true } });
    ({ results } = await runPlan(plan, { outDir: dir }));
  });

  it("trains each text on the other language's neurons, beside the target's own", async () => {
    expect(results.targets.map((t) => [t.language, t.label, t.neurons_of])).toEqual([["af", "sparse", "af"], ["af", "sparse@nl", "nl"], ["nl", "sparse@af", "af"]]);
    const setOf = (code: string) => Object.fromEntries(readJson(join(dir, "neurons", `${code}.json`)).layers.map((l: number[], i: number) => [String(i), l]).filter(([, l]: [string, number[]]) => l.length > 0));
    expect(setOf("af")).not.toEqual(setOf("nl"));
    const packNeurons = (file: string) => runFixture<Record<string, number[]>>("pack-neurons", join(dir, "packs", file));
    expect(await packNeurons("af.sparse@nl.safetensors")).toEqual(setOf("nl"));
    expect(await packNeurons("nl.sparse@af.safetensors")).toEqual(setOf("af"));
    expect(await packNeurons("af.sparse.safetensors")).toEqual(setOf("af"));
    const md = readFileSync(join(dir, "results.md"), "utf8");
    expect(md).toContain("Transfer without re-selection: sparse@nl = sparse on nl's neurons.");
    expect(md).toContain("## Target nl: held-out perplexity");
  });

  it("scores each component alone as the pack's slices copied into the weights by hand", async () => {
    const own = results.targets[0];
    expect(own.component_share!.map((c) => c.component)).toEqual(["gate", "up", "down"]);
    const heldout = join(dir, "corpora", "af", "heldout.jsonl");
    for (const c of own.component_share!) {
      const expected = await runFixture<number>("one-component-perplexity", modelDir, join(dir, "packs", "af.sparse.safetensors"), c.component, heldout, "64");
      expect(c.perplexity / expected - 1, c.component).toBeCloseTo(0, 5);
    }
    const base = results.base!.find((s) => s.language === "af")!;
    const whole = own.scores!.find((s) => s.language === "af")!;
    for (const c of own.component_share!) {
      expect(Math.abs(c.perplexity / base.perplexity - 1), `${c.component} moves the perplexity 10x above the tolerance (5e-6)`).toBeGreaterThan(5e-5);
      expect(c.share!).toBeCloseTo((base.mean_loss - c.mean_loss) / (base.mean_loss - whole.mean_loss), 10);
    }
    expect(readFileSync(join(dir, "results.md"), "utf8")).toContain("## Target af: which component carries the gain");
  });
});
