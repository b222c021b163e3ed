// The results table and records from a hand-built results.json: every expected value below is
// worked out by hand from the inputs (no worker runs here), so a flipped sign, a wrong base or a
// swapped standard error shows up as a wrong number.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SparseSubError } from "../ts/errors.js";
import { readResults, renderResults } from "../ts/results/render.js";
import { paperTable, withinNoise } from "../ts/results/paper.js";
import { RECORD_COLUMNS, othersMeanChange, resultRecords, weightSummary } from "../ts/results/records.js";
import { RESULTS_SCHEMA } from "../ts/results/results.js";
import { fullResults, method, results, task } from "./helpers/hand-results.js";
import { resultsTable } from "../ts/results/table.js";

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

  it("paper rows carry the target's held-out perplexity (the API's), null where it was not scored", () => {
    const r = fullResults(); // af: base 40, sparse 30, random not evaluated
    expect(paperTable(r, "af").rows.map((row) => [row.method, row.perplexity])).toEqual([["base", 40], ["sparse", 30], ["random", null]]);
    r.base = null;
    expect(paperTable(r, "af").rows[0].perplexity).toBeNull();
    // scored, but not on the target: no perplexity either
    r.base = [{ language: "en", perplexity: 9, mean_loss: 2.2, tokens: 5 }];
    expect(paperTable(r, "af").rows[0].perplexity).toBeNull();
  });

  it("writes no benchmark table for a target without tasks", () => {
    const r = results();
    r.base_tasks = [];
    for (const t of r.targets) t.tasks = [];
    expect(paperTable(r, "af").columns).toEqual([]);
    const table = resultsTable(r);
    expect(table).not.toContain("benchmarks (score");
    // nothing where the benchmark table would be: the perplexity table follows the title
    expect(table.split("\n").slice(0, 3)).toEqual(["# hand", "", expect.stringMatching(/^## Target af: held-out perplexity/)]);
  });
});

describe("results records, edge cases", () => {
  it("base rows carry no change; a language without a base score has none; alignment keeps only the target", () => {
    const r = results();
    r.languages.push({ code: "xx", name: "Other", tokens_counted: null });
    r.targets[0].scores!.push({ language: "xx", perplexity: 5, mean_loss: 0, tokens: 3 });
    r.targets[0].alignment!.push({ language: "de", per_layer: [0.1, 0.2], mean: 0.15, pairs: 7 }); // not the target: left out
    const records = resultRecords(r);
    for (const base of records.filter((x) => x.method === "base")) expect([base.measure, base.delta, base.relative_change, base.within_2se]).toEqual([base.measure, null, null, null]);
    expect(records.find((x) => x.measure === "perplexity" && x.language === "xx")).toMatchObject({ method: "sparse", value: 5, n: 3, delta: null, relative_change: null });
    expect(records.filter((x) => x.measure.startsWith("alignment")).map((x) => [x.method, x.measure, x.language, x.value, x.delta])).toEqual([
      ["base", "alignment_mean", "af", 0.6, null],
      ["base", "alignment_last_layer", "af", 0.7, null],
      ["sparse", "alignment_mean", "af", 0.65, 0.65 - 0.6],
      ["sparse", "alignment_last_layer", "af", 0.9, 0.9 - 0.7],
    ]);
  });

  it("compares alignment with the base row of the same language, and has no change where the base has none", () => {
    const r = results();
    // base: de first, then af; three layers, so the last layer is not the second
    r.base_alignment = [{ language: "de", per_layer: [0.1, 0.1, 0.1], mean: 0.1, pairs: 3 }, { language: "af", per_layer: [0.5, 0.6, 0.7], mean: 0.6, pairs: 7 }];
    r.targets[0].alignment = [{ language: "af", per_layer: [0.4, 0.5, 0.9], mean: 0.6, pairs: 7 }, { language: "xx", per_layer: [0.2, 0.2, 0.2], mean: 0.2, pairs: 2 }];
    // a task only the method was scored on: no base to compare with
    r.targets[0].tasks!.push(task("sib200", "af", "accuracy", 0.3, 0.1, 9));
    const records = resultRecords(r);
    const sparse = (measure: string, language = "af") => records.find((x) => x.method === "sparse" && x.measure === measure && x.language === language)!;
    expect([sparse("alignment_mean").value, sparse("alignment_mean").delta, sparse("alignment_mean").relative_change]).toEqual([0.6, 0, 0]);
    expect([sparse("alignment_last_layer").value, sparse("alignment_last_layer").delta]).toEqual([0.9, 0.9 - 0.7]);
    const sib = records.find((x) => x.method === "sparse" && x.measure.startsWith("sib200"))!;
    expect([sib.value, sib.stderr, sib.n, sib.delta, sib.relative_change, sib.within_2se]).toEqual([30, 10, 9, null, null, null]);
    r.base_alignment = null; // the method's alignment has nothing to be compared with
    const alone = resultRecords(r).find((x) => x.method === "sparse" && x.measure === "alignment_last_layer")!;
    expect([alone.value, alone.delta, alone.relative_change]).toEqual([0.9, null, null]);
  });

  it("a run without targets still lists the base model's perplexity and alignment", () => {
    const r = results();
    r.targets = [];
    const records = resultRecords(r);
    expect(records.map((x) => [x.target, x.method, x.measure, x.language, x.value])).toEqual([
      ["", "base", "perplexity", "en", 10],
      ["", "base", "perplexity", "de", 20],
      ["", "base", "perplexity", "af", 40],
      ["", "base", "alignment_mean", "af", 0.6],
      ["", "base", "alignment_last_layer", "af", 0.7],
    ]);
  });

  it("weight summary: no down/gate ratio when gate did not move, and no late share when down did not", () => {
    const still = { neurons: 0, matrix: 0 };
    const moved = { neurons: 1, matrix: 2 };
    const layers = [0, 1, 2].map((layer) => ({ layer, gate_proj: still, up_proj: moved, down_proj: layer === 2 ? null : moved }));
    expect(weightSummary({ layers, total: { gate_proj: still, up_proj: moved, down_proj: moved } })).toEqual({ downOverGate: null, downLateShare: 0 });
    expect(weightSummary({ layers, total: { gate_proj: moved, up_proj: moved, down_proj: still } })).toEqual({ downOverGate: 0, downLateShare: 0 });
  });
});

describe("results records, all of them", () => {
  it("CSV records of every section, checked by hand (signed deltas, relative changes, n, the 2-SE flag)", () => {
    const [header, ...lines] = renderResults(fullResults(), "csv").trimEnd().split("\n").map((line) => line.split(","));
    expect(header).toEqual([...RECORD_COLUMNS]);
    const parse = (cell: string) => (cell === "" ? null : cell === "true" ? true : cell === "false" ? false : Number.isNaN(Number(cell)) ? cell : Number(cell));
    const got = lines.map((cells) => cells.map(parse));
    // (target, method, measure, language, unit, value, stderr, n, delta, relative_change, within_2se)
    const expected = [
      ["af", "base", "target_average", "af", "points", 40, 5.0990195136, null, null, null, null],
      ["af", "base", "general_average", null, "points", 60, 5, null, null, null, null],
      ["af", "base", "udhr_translation af eng-x (chrF)", "af", "points", 30, 2, 10, null, null, null],
      ["af", "base", "udhr_reading af loglik (acc)", "af", "points", 50, 10, 20, null, null, null],
      ["af", "base", "mmlu (acc)", null, "points", 60, 5, 40, null, null, null],
      ["af", "sparse", "target_average", "af", "points", 38, 5.0990195136, null, -2, -0.05, true],
      ["af", "sparse", "general_average", null, "points", 58, 5, null, -2, -0.0333333333, true],
      ["af", "sparse", "udhr_translation af eng-x (chrF)", "af", "points", 36, 2, 10, 6, 0.2, false],
      ["af", "sparse", "udhr_reading af loglik (acc)", "af", "points", 40, 10, 20, -10, -0.2, true],
      ["af", "sparse", "mmlu (acc)", null, "points", 58, 5, 40, -2, -0.0333333333, true],
      ["af", "random", "target_average", "af", "points", null, null, null, null, null, null],
      ["af", "random", "general_average", null, "points", null, null, null, null, null, null],
      ["af", "random", "udhr_translation af eng-x (chrF)", "af", "points", null, null, 10, null, null, null],
      ["af", "random", "udhr_reading af loglik (acc)", "af", "points", null, null, 20, null, null, null],
      ["af", "random", "mmlu (acc)", null, "points", null, null, 40, null, null, null],
      ["af", "base", "perplexity", "en", "perplexity", 10, null, 100, null, null, null],
      ["af", "base", "perplexity", "de", "perplexity", 20, null, 200, null, null, null],
      ["af", "base", "perplexity", "af", "perplexity", 40, null, 300, null, null, null],
      ["af", "base", "alignment_mean", "af", "cosine", 0.6, null, 7, null, null, null],
      ["af", "base", "alignment_last_layer", "af", "cosine", 0.7, null, 7, null, null, null],
      ["af", "sparse", "perplexity", "en", "perplexity", 11, null, 100, 1, 0.1, null],
      ["af", "sparse", "perplexity", "de", "perplexity", 18, null, 200, -2, -0.1, null],
      ["af", "sparse", "perplexity", "af", "perplexity", 30, null, 300, -10, -0.25, null],
      ["af", "sparse", "perplexity_others_mean_change", null, "fraction", 0, null, null, null, null, null],
      ["af", "sparse", "alignment_mean", "af", "cosine", 0.65, null, 7, 0.05, 0.0833333333, null],
      ["af", "sparse", "alignment_last_layer", "af", "cosine", 0.9, null, 7, 0.2, 0.2857142857, null],
      ["af", "sparse", "weight_change_gate_proj_neurons", null, "l2", 1.7320508076, null, null, null, null, null],
      ["af", "sparse", "weight_change_gate_proj_matrix", null, "l2", 1.7320508076, null, null, null, null, null],
      ["af", "sparse", "weight_change_up_proj_neurons", null, "l2", 1.7320508076, null, null, null, null, null],
      ["af", "sparse", "weight_change_up_proj_matrix", null, "l2", 1.7320508076, null, null, null, null, null],
      ["af", "sparse", "weight_change_down_proj_neurons", null, "l2", 3, null, null, null, null, null],
      ["af", "sparse", "weight_change_down_proj_matrix", null, "l2", 3, null, null, null, null, null],
      ["af", "sparse", "weight_change_down_over_gate", null, "ratio", 1.7320508076, null, null, null, null, null],
      ["af", "sparse", "weight_change_down_last_third_share", null, "fraction", 0.4444444444, null, null, null, null, null],
      ["af", "sparse", "training_neurons", null, "neurons", 10, null, null, null, null, null],
      ["af", "sparse", "training_trainable_parameters", null, "parameters", 100, null, null, null, null, null],
      ["af", "sparse", "training_parameter_share", null, "fraction", 0.001, null, null, null, null, null],
      ["af", "sparse", "training_steps", null, "steps", 4, null, null, null, null, null],
      ["af", "sparse", "training_tokens", null, "tokens", 2048, null, null, null, null, null],
      ["af", "sparse", "training_tokens_per_second", null, "tokens/s", 1024, null, null, null, null, null],
      ["af", "sparse", "training_peak_memory_bytes", null, "bytes", 1048576, null, null, null, null, null],
      ["af", "sparse", "training_optimizer_state_bytes", null, "bytes", 800, null, null, null, null, null],
      ["af", "sparse", "training_best_step", null, "step", 4, null, null, null, null, null],
      ["af", "sparse", "training_diverged_step", null, "step", null, null, null, null, null, null],
      ["af", "sparse", "training_seconds", null, "s", 2, null, null, null, null, null],
      ["af", "random", "training_neurons", null, "neurons", 10, null, null, null, null, null],
      ["af", "random", "training_trainable_parameters", null, "parameters", 960, null, null, null, null, null],
      ["af", "random", "training_parameter_share", null, "fraction", 0.0123456, null, null, null, null, null],
      ["af", "random", "training_steps", null, "steps", 3, null, null, null, null, null],
      ["af", "random", "training_tokens", null, "tokens", 1536, null, null, null, null, null],
      ["af", "random", "training_tokens_per_second", null, "tokens/s", 1228.8, null, null, null, null, null],
      ["af", "random", "training_peak_memory_bytes", null, "bytes", 3145728, null, null, null, null, null],
      ["af", "random", "training_optimizer_state_bytes", null, "bytes", 800, null, null, null, null, null],
      ["af", "random", "training_best_step", null, "step", 2, null, null, null, null, null],
      ["af", "random", "training_diverged_step", null, "step", 3, null, null, null, null, null],
      ["af", "random", "training_seconds", null, "s", 1.25, null, null, null, null, null],
      [null, "lape", "selected_neurons", "af", "neurons", 10, null, null, null, null, null],
      [null, "lape", "selected_neurons", "de", "neurons", 2, null, null, null, null, null],
    ];
    expect(got).toHaveLength(expected.length);
    got.forEach((row, i) => row.forEach((cell, j) => {
      const want = expected[i][j];
      if (typeof want === "number") expect(cell as number, `row ${i} ${header[j]}`).toBeCloseTo(want, 9);
      else expect(cell, `row ${i} ${header[j]}`).toBe(want);
    }));
  });
});

describe("results table (Markdown)", () => {
  it("renders every section as checked by hand (averages, errors, shares, rates, a diverged and an unevaluated method)", () => {
    // each number below was worked out from fullResults() by hand: e.g. af average (30 + 50) / 2
    // ± sqrt(2^2 + 10^2) / 2; down / gate 3 / sqrt(3); last third 2^2 / 3^2; 1228.8 tok/s shown 1229
    expect(resultsTable(fullResults())).toBe(`# hand

## Target af: benchmarks (score ± standard error; change vs base in points)

chrF 0-100 for translation, accuracy % for multiple choice; n = items scored. A change marked ~ is within two standard errors of the difference: not distinguishable from no change.

| method | **af average** | general average | udhr_translation af eng-x (chrF) n=10 | udhr_reading af loglik (acc) n=20 | mmlu (acc) n=40 |
|---|---|---|---|---|---|
| base | 40.0 ±5.1 | 60.0 ±5.0 | 30.0 ±2.0 | 50.0 ±10.0 | 60.0 ±5.0 |
| sparse | 38.0 ±5.1 (-2.0 ~) | 58.0 ±5.0 (-2.0 ~) | 36.0 ±2.0 (+6.0) | 40.0 ±10.0 (-10.0 ~) | 58.0 ±5.0 (-2.0 ~) |
| random | missing | missing | missing | missing | missing |

## Target af: held-out perplexity (lower is better; change vs base)

| method | en | de | **af** (target) | others, mean change |
|---|---|---|---|---|
| base | 10.00 | 20.00 | 40.00 | - |
| sparse | 11.00 (+10.0%) | 18.00 (-10.0%) | 30.00 (-25.0%) | +0.0% |
| random | not evaluated | not evaluated | not evaluated | - |

## Target af: where the MLP weights moved (L2 norm of adapted - base, all layers; over af's neurons / whole matrix)

| method | gate | up | down | down / gate (whole) | share of down change in the last third of layers |
|---|---|---|---|---|---|
| sparse | 1.732 / 1.732 | 1.732 / 1.732 | 3.000 / 3.000 | 1.73 | 44% |

## Target af: cross-lingual alignment with English (mean cosine of mean-pooled hidden states over layers)

| method | mean | change | last layer |
|---|---|---|---|
| base | 0.6000 | - | 0.7000 |
| sparse | 0.6500 | +0.0500 | 0.9000 |

## Training

| target | method | neurons | trainable params | share of model | steps | tokens | tok/s | peak memory | best step | wall time | worker |
|---|---|---|---|---|---|---|---|---|---|---|---|
| af | sparse | 10 | 100 | 0.100% | 4 | 2,048 | 1024 | 1 MiB | 4 | 2.0 s | local-1 |
| af | random | 10 | 960 | 1.235% | 3 (**diverged** at 3) | 1,536 | 1229 | 3 MiB | 2 | 1.3 s | local-1 |

**random (af) diverged**: its loss was NaN or infinite at step 3; training stopped and its scores are those of step 2. Lower its learning_rate.

## Neuron selection (LAPE, top_rate 0.05)

12 of 192 neurons selected.

| language | neurons | layers (count) |
|---|---|---|
| af | 10 | 0:4 2:6 |
| de | 2 | 1:2 |

**Run failed**: worker local-1 is gone
`);
  });

  const table = resultsTable(results());

  it("renders two targets, a language only a method scored, exact zero changes, a missing ratio and given neuron sets", () => {
    const r = results();
    r.neuron_source = "reference_file";
    r.languages.push({ code: "xx", name: "Other", tokens_counted: null });
    r.targets.push(method({
      language: "de", method: "lora", label: "lora", neuron_count: null, trainable_parameters: 5000, parameter_share: 0.005,
      // en and af unchanged (exactly +0.0%), de 20 -> 16 (-20%), xx scored by lora only (no change to show)
      scores: [
        { language: "en", perplexity: 10, mean_loss: 0, tokens: 1 }, { language: "de", perplexity: 16, mean_loss: 0, tokens: 1 },
        { language: "af", perplexity: 40, mean_loss: 0, tokens: 1 }, { language: "xx", perplexity: 5, mean_loss: 0, tokens: 1 },
      ],
      tasks: [],
      // gate did not move: down / gate has no value; one layer, so all of down's change is in the "last third"
      weight_change: {
        layers: [{ layer: 0, gate_proj: null, up_proj: { neurons: 1, matrix: 1 }, down_proj: { neurons: 2, matrix: 2 } }],
        total: { gate_proj: { neurons: 0, matrix: 0 }, up_proj: { neurons: 1, matrix: 1 }, down_proj: { neurons: 2, matrix: 2 } },
      },
    }));
    const note = "chrF 0-100 for translation, accuracy % for multiple choice; n = items scored. A change marked ~ is within two standard errors of the difference: not distinguishable from no change.";
    expect(resultsTable(r)).toBe(`# hand

## Target af: benchmarks (score ± standard error; change vs base in points)

${note}

| method | **af average** | general average | udhr_translation af eng-x (chrF) n=10 | udhr_reading af loglik (acc) n=20 | mmlu (acc) n=40 |
|---|---|---|---|---|---|
| base | 40.0 ±5.1 | 60.0 ±5.0 | 30.0 ±2.0 | 50.0 ±10.0 | 60.0 ±5.0 |
| sparse | 38.0 ±5.1 (-2.0 ~) | 58.0 ±5.0 (-2.0 ~) | 36.0 ±2.0 (+6.0) | 40.0 ±10.0 (-10.0 ~) | 58.0 ±5.0 (-2.0 ~) |

## Target de: benchmarks (score ± standard error; change vs base in points)

${note}

| method | **de average** | general average | mmlu (acc) n=40 |
|---|---|---|---|
| base | - | 60.0 ±5.0 | 60.0 ±5.0 |
| lora | - | - | - |

## Target af: held-out perplexity (lower is better; change vs base)

| method | en | de | **af** (target) | others, mean change |
|---|---|---|---|---|
| base | 10.00 | 20.00 | 40.00 | - |
| sparse | 11.00 (+10.0%) | 18.00 (-10.0%) | 30.00 (-25.0%) | +0.0% |

## Target de: held-out perplexity (lower is better; change vs base)

| method | en | **de** (target) | af | xx | others, mean change |
|---|---|---|---|---|---|
| base | 10.00 | 20.00 | 40.00 | - | - |
| lora | 10.00 (+0.0%) | 16.00 (-20.0%) | 40.00 (+0.0%) | 5.00 | +0.0% |

## Target af: where the MLP weights moved (L2 norm of adapted - base, all layers; over af's neurons / whole matrix)

| method | gate | up | down | down / gate (whole) | share of down change in the last third of layers |
|---|---|---|---|---|---|
| sparse | 1.732 / 1.732 | 1.732 / 1.732 | 3.000 / 3.000 | 1.73 | 44% |

## Target af: cross-lingual alignment with English (mean cosine of mean-pooled hidden states over layers)

| method | mean | change | last layer |
|---|---|---|---|
| base | 0.6000 | - | 0.7000 |
| sparse | 0.6500 | +0.0500 | 0.9000 |

## Target de: where the MLP weights moved (L2 norm of adapted - base, all layers; over de's neurons / whole matrix)

| method | gate | up | down | down / gate (whole) | share of down change in the last third of layers |
|---|---|---|---|---|---|
| lora | 0.000 / 0.000 | 1.000 / 1.000 | 2.000 / 2.000 | - | 100% |

## Training

| target | method | neurons | trainable params | share of model | steps | tokens | tok/s | peak memory | best step | wall time | worker |
|---|---|---|---|---|---|---|---|---|---|---|---|
| af | sparse | 10 | 100 | 0.100% | 4 | 2,048 | 1024 | 1 MiB | 4 | 2.0 s | local-1 |
| de | lora | - | 5,000 | 0.500% | 4 | 2,048 | 1024 | 1 MiB | 4 | 2.0 s | local-1 |

Neuron sets: given in the plan (reference file).
`);
  });

  it("shows alignment for a target with the base's row only, or the method's only, and no weight table without weight change", () => {
    const r = results();
    r.targets[0].weight_change = null;
    r.targets[0].alignment = [{ language: "de", per_layer: [0.3, 0.3, 0.3], mean: 0.3, pairs: 7 }, { language: "af", per_layer: [0.4, 0.5, 0.9], mean: 0.6, pairs: 7 }];
    r.base_alignment = [{ language: "af", per_layer: [0.5, 0.6, 0.7], mean: 0.6, pairs: 7 }];
    const section = (table: string) => table.slice(table.indexOf("## Target af: cross-lingual"), table.indexOf("## Training"));
    const table = resultsTable(r);
    expect(table).not.toContain("where the MLP weights moved");
    expect(section(table)).toBe(`## Target af: cross-lingual alignment with English (mean cosine of mean-pooled hidden states over layers)

| method | mean | change | last layer |
|---|---|---|---|
| base | 0.6000 | - | 0.7000 |
| sparse | 0.6000 | +0.0000 | 0.9000 |

`);
    r.targets[0].alignment = null; // the base alone
    expect(section(resultsTable(r))).toContain("| base | 0.6000 | - | 0.7000 |\n\n");
    r.targets[0].alignment = [{ language: "de", per_layer: [0.3, 0.3, 0.3], mean: 0.3, pairs: 7 }]; // another language's only: no row
    expect(section(resultsTable(r))).toContain("|---|---|---|---|\n| base | 0.6000 | - | 0.7000 |\n\n");
    r.targets[0].alignment = [{ language: "af", per_layer: [0.4, 0.5, 0.9], mean: 0.6, pairs: 7 }];
    r.base_alignment = null; // the method alone
    expect(section(resultsTable(r))).toContain("| base | missing | | |\n| sparse | 0.6000 | - | 0.9000 |\n");
  });

  it("lists a language only a method scored even when another method was not evaluated", () => {
    const r = results();
    r.languages.push({ code: "xx", name: "Other", tokens_counted: null });
    r.targets[0].scores!.push({ language: "xx", perplexity: 5, mean_loss: 0, tokens: 3 });
    r.targets.unshift(method({ method: "random", label: "random" })); // trained, never evaluated: scores null
    const table = resultsTable(r);
    expect(table).toContain("| method | en | de | **af** (target) | xx | others, mean change |");
    expect(table).toContain("| random | not evaluated | not evaluated | not evaluated | not evaluated | - |");
  });

  it("shows a run without targets as the base model's perplexity alone", () => {
    const r = results();
    r.targets = [];
    r.base_tasks = null;
    expect(resultsTable(r)).toBe(`# hand

## Base model: held-out perplexity (lower is better)

| method | en | de | af | others, mean change |
|---|---|---|---|---|
| base | 10.00 | 20.00 | 40.00 | - |

`);
  });

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
