// The results table and records from a hand-built results.json: every expected value below is
// worked out by hand from the inputs (no worker runs here), so a flipped sign, a wrong base or a
// swapped standard error shows up as a wrong number.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SparseSubError } from "../ts/errors.js";
import { readResults } from "../ts/results/render.js";
import { paperTable, withinNoise } from "../ts/results/paper.js";
import { othersMeanChange, resultRecords, weightSummary } from "../ts/results/records.js";
import { RESULTS_SCHEMA, type RunResults, type TargetResult, type TaskRow } from "../ts/results/results.js";
import { resultsTable } from "../ts/results/table.js";

const task = (label: string, language: string, headline: string, value: number, stderr: number, items: number, extra: Partial<TaskRow> = {}): TaskRow => ({
  label,
  task: label,
  language,
  direction: "",
  mode: "",
  metrics: { [headline]: value, [`${headline}_stderr`]: stderr },
  headline,
  items,
  seconds: 1,
  examples: [],
  ...extra,
});

function method(overrides: Partial<TargetResult>): TargetResult {
  return {
    language: "af",
    method: "sparse",
    label: "sparse",
    settings: { method: "sparse" } as TargetResult["settings"],
    output: "packs/af.sparse.safetensors",
    output_kind: "pack",
    neuron_count: 10,
    drawn_neuron_set: null,
    trainable_parameters: 100,
    parameter_share: 0.001,
    steps: 4,
    tokens: 2048,
    seconds: 2,
    tokens_per_second: 1024,
    peak_memory_bytes: 2 ** 20,
    optimizer_state_bytes: 800,
    best_step: 4,
    diverged_step: null,
    train_loss: [],
    validation_loss: [],
    scores: null,
    tasks: null,
    alignment: null,
    weight_change: null,
    worker: "local-1",
    ...overrides,
  };
}

function results(): RunResults {
  return {
    schema: RESULTS_SCHEMA,
    run: "hand",
    status: "complete",
    error: null,
    started_at: "",
    finished_at: "",
    model: { source: "m" } as RunResults["model"],
    workers: [],
    languages: [
      { code: "en", name: "English", tokens_counted: 1 },
      { code: "de", name: "German", tokens_counted: 1 },
      { code: "af", name: "Afrikaans", tokens_counted: 1 },
    ],
    neuron_source: "lape",
    selection: null,
    base: [
      { language: "en", perplexity: 10, mean_loss: Math.log(10), tokens: 100 },
      { language: "de", perplexity: 20, mean_loss: Math.log(20), tokens: 200 },
      { language: "af", perplexity: 40, mean_loss: Math.log(40), tokens: 300 },
    ],
    // chrF 30 ±2 on af; reading accuracy 0.50 ±0.10 on af; an English task 0.60 ±0.05
    base_tasks: [
      task("udhr_translation", "af", "chrf", 30, 2, 10, { direction: "eng-x" }),
      task("udhr_reading", "af", "accuracy", 0.5, 0.1, 20, { mode: "loglik" }),
      task("mmlu", "", "accuracy", 0.6, 0.05, 40),
    ],
    base_alignment: [{ language: "af", per_layer: [0.5, 0.7], mean: 0.6, pairs: 7 }],
    targets: [
      method({
        // af 40 -> 30 (-25%); en 10 -> 11 (+10%), de 20 -> 18 (-10%): others mean 0%
        scores: [
          { language: "en", perplexity: 11, mean_loss: Math.log(11), tokens: 100 },
          { language: "de", perplexity: 18, mean_loss: Math.log(18), tokens: 200 },
          { language: "af", perplexity: 30, mean_loss: Math.log(30), tokens: 300 },
        ],
        // chrF 36 ±2 (+6, beyond 2*sqrt(8)=5.66); reading 0.40 ±0.10 (-10 points, within 2*14.1); mmlu 0.58 ±0.05
        tasks: [
          task("udhr_translation", "af", "chrf", 36, 2, 10, { direction: "eng-x" }),
          task("udhr_reading", "af", "accuracy", 0.4, 0.1, 20, { mode: "loglik" }),
          task("mmlu", "", "accuracy", 0.58, 0.05, 40),
        ],
        alignment: [{ language: "af", per_layer: [0.4, 0.9], mean: 0.65, pairs: 7 }],
        weight_change: {
          // three layers: the last third is layer 2 only
          layers: [
            { layer: 0, gate_proj: { neurons: 1, matrix: 1 }, up_proj: { neurons: 1, matrix: 1 }, down_proj: { neurons: 1, matrix: 1 } },
            { layer: 1, gate_proj: { neurons: 1, matrix: 1 }, up_proj: { neurons: 1, matrix: 1 }, down_proj: { neurons: 2, matrix: 2 } },
            { layer: 2, gate_proj: { neurons: 1, matrix: 1 }, up_proj: { neurons: 1, matrix: 1 }, down_proj: { neurons: 2, matrix: 2 } },
          ],
          total: { gate_proj: { neurons: Math.sqrt(3), matrix: Math.sqrt(3) }, up_proj: { neurons: Math.sqrt(3), matrix: Math.sqrt(3) }, down_proj: { neurons: 3, matrix: 3 } },
        },
      }),
    ],
    jobs: [],
  };
}

const record = (measure: string, language = "", m = "sparse") => {
  const found = resultRecords(results()).filter((r) => r.measure === measure && r.language === language && r.method === m);
  expect(found).toHaveLength(1);
  return found[0];
};

describe("results records (CSV / JSON)", () => {
  it("perplexity: delta and relative change are method minus base, signed", () => {
    expect(record("perplexity", "af")).toMatchObject({ value: 30, delta: -10, n: 300, unit: "perplexity" });
    expect(record("perplexity", "af").relative_change).toBeCloseTo(-0.25, 12);
    expect(record("perplexity", "en")).toMatchObject({ value: 11, delta: 1 });
    expect(record("perplexity", "en").relative_change).toBeCloseTo(0.1, 12);
    expect(record("perplexity", "af", "base")).toMatchObject({ value: 40, delta: null, relative_change: null });
  });

  it("others' mean change averages the non-target languages' relative changes", () => {
    expect(record("perplexity_others_mean_change").value).toBeCloseTo((0.1 - 0.1) / 2, 12);
    const r = results();
    r.targets[0].scores![0].perplexity = 15; // en +50%, de -10%: mean +20%
    expect(othersMeanChange(r.targets[0].scores!, r.base!, "af")).toBeCloseTo(0.2, 12);
  });

  it("task scores: points, stderr, n, signed delta and the two-standard-error flag", () => {
    const chrf = record("udhr_translation af eng-x (chrF)", "af");
    expect(chrf).toMatchObject({ value: 36, stderr: 2, n: 10, delta: 6, within_2se: false });
    const reading = record("udhr_reading af loglik (acc)", "af");
    expect(reading.value).toBeCloseTo(40, 10);
    expect(reading.stderr).toBeCloseTo(10, 10);
    expect(reading.delta).toBeCloseTo(-10, 10);
    expect(reading.within_2se).toBe(true);
  });

  it("averages: the target average's standard error is sqrt(sum se^2) / k", () => {
    const target = record("target_average", "af");
    expect(target.value).toBeCloseTo((36 + 40) / 2, 10);
    expect(target.stderr).toBeCloseTo(Math.sqrt(2 ** 2 + 10 ** 2) / 2, 10);
    expect(target.delta).toBeCloseTo((36 + 40) / 2 - (30 + 50) / 2, 10);
    const general = record("general_average");
    expect(general.value).toBeCloseTo(58, 10);
    expect(general.delta).toBeCloseTo(-2, 10);
  });

  it("alignment: mean and last layer against base", () => {
    expect(record("alignment_mean", "af").delta).toBeCloseTo(0.05, 12);
    expect(record("alignment_last_layer", "af").delta).toBeCloseTo(0.2, 12);
  });

  it("weight change: down/gate over whole matrices and the last third's share of the down change", () => {
    const w = results().targets[0].weight_change!;
    const summary = weightSummary(w);
    expect(summary.downOverGate).toBeCloseTo(3 / Math.sqrt(3), 12);
    expect(summary.downLateShare).toBeCloseTo(4 / 9, 12); // layer 2's 2^2 of the total 3^2
    expect(record("weight_change_down_last_third_share").value).toBeCloseTo(4 / 9, 12);
  });

  it("within two standard errors is inclusive at the bound and unpaired", () => {
    expect(withinNoise({ value: 10, stderr: 3 }, { value: 0, stderr: 4 })).toBe(true); // 10 = 2 * 5
    expect(withinNoise({ value: 10.01, stderr: 3 }, { value: 0, stderr: 4 })).toBe(false);
  });

  it("a method that was not evaluated is missing, not zero", () => {
    const r = results();
    r.targets[0].tasks = null;
    const { rows } = paperTable(r, "af");
    expect(rows[1]).toMatchObject({ evaluated: false, targetAverage: null });
    expect(resultsTable(r)).toContain("| sparse | missing | missing | missing | missing | missing |");
  });
});

describe("results table (Markdown)", () => {
  const table = resultsTable(results());

  it("perplexity cells show the signed relative change", () => {
    expect(table).toContain("| sparse | 11.00 (+10.0%) | 18.00 (-10.0%) | 30.00 (-25.0%) | +0.0% |");
    expect(table).toContain("| base | 10.00 | 20.00 | 40.00 | - |");
  });

  it("benchmark cells show score ±se and the signed change, ~ when within noise", () => {
    expect(table).toContain("| udhr_translation af eng-x (chrF) n=10 | udhr_reading af loglik (acc) n=20 | mmlu (acc) n=40 |");
    expect(table).toContain("| sparse | 38.0 ±5.1 (-2.0 ~) | 58.0 ±5.0 (-2.0 ~) | 36.0 ±2.0 (+6.0) | 40.0 ±10.0 (-10.0 ~) | 58.0 ±5.0 (-2.0 ~) |");
  });

  it("alignment rows show the change vs base", () => {
    expect(table).toContain("| sparse | 0.6500 | +0.0500 | 0.9000 |");
  });
});

describe("reading a run's results.json", () => {
  const code = (contents: string | null) => {
    const dir = mkdtempSync(join(tmpdir(), "sparse-sub-results-"));
    if (contents !== null) writeFileSync(join(dir, "results.json"), contents);
    try {
      readResults(dir);
      return "read";
    } catch (error) {
      expect(error).toBeInstanceOf(SparseSubError);
      return (error as SparseSubError).code;
    }
  };

  it("names what is wrong with the file, not with a plan", () => {
    expect(code(null)).toBe("NOT_A_RUN");
    expect(code("{ not json")).toBe("RESULTS_INVALID");
    expect(code(JSON.stringify({ ...results(), schema: "sparse-sub/results@1" }))).toBe("RESULTS_INVALID");
    expect(code(JSON.stringify(results()))).toBe("read");
  });
});
