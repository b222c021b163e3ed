// Long format of everything the tables show (`results --format csv|json`): one record per
// (target, method, measure, language) with its unit, n, standard error and change vs base, so
// pandas reads a whole run with one read_csv. Columns in RECORD_COLUMNS; README documents them.
import { paperTable, withinNoise, type Measured } from "./paper.js";
import type { AlignmentRow, RunResults, ScoreRow, TargetResult, WeightChange } from "./results.js";

export const RECORD_COLUMNS = ["target", "method", "measure", "language", "unit", "value", "stderr", "n", "delta", "relative_change", "within_2se"] as const;
export type ResultRecord = Record<(typeof RECORD_COLUMNS)[number], string | number | boolean | null>;

/** Weight-change figures the table shows: down / gate (whole matrices) and the down change's share in the last third of layers. */
export function weightSummary(w: WeightChange): { downOverGate: number | null; downLateShare: number } {
  const layerCount = Math.max(0, ...w.layers.map((l) => l.layer)) + 1;
  const late = w.layers.filter((l) => l.layer >= Math.floor((2 * layerCount) / 3)).reduce((sum, l) => sum + (l.down_proj?.matrix ?? 0) ** 2, 0);
  return {
    downOverGate: w.total.gate_proj.matrix > 0 ? w.total.down_proj.matrix / w.total.gate_proj.matrix : null,
    downLateShare: w.total.down_proj.matrix > 0 ? late / w.total.down_proj.matrix ** 2 : 0,
  };
}

/** Mean relative perplexity change over the non-target languages (the table's "others, mean change"). */
export function othersMeanChange(scores: ScoreRow[], base: ScoreRow[], target: string): number | null {
  const before = new Map(base.map((s) => [s.language, s.perplexity]));
  const changes = scores.filter((s) => s.language !== target && before.has(s.language)).map((s) => s.perplexity / before.get(s.language)! - 1);
  return changes.length ? changes.reduce((a, b) => a + b, 0) / changes.length : null;
}

export function resultRecords(results: RunResults): ResultRecord[] {
  const records: ResultRecord[] = [];
  const push = (fields: Partial<ResultRecord> & Pick<ResultRecord, "target" | "method" | "measure">, value: number | null, before?: number | null) => {
    const compared = value !== null && before !== undefined && before !== null && fields.method !== "base";
    records.push({
      language: "",
      unit: "",
      stderr: null,
      n: null,
      within_2se: null,
      ...fields,
      value,
      delta: compared ? value - before : null,
      relative_change: compared && before !== 0 ? value / before - 1 : null,
    });
  };
  const base = results.base ?? [];
  const baseAlignment = results.base_alignment ?? [];
  const targets = [...new Set(results.targets.map((t) => t.language))];

  for (const target of targets) {
    const { columns, rows } = paperTable(results, target);
    const first = rows[0];
    for (const row of rows) {
      const measured = (measure: string, language: string, value: Measured | null, before: Measured | null, n: number | null) => {
        const compared = value !== null && before !== null && row.method !== "base";
        push({ target, method: row.method, measure, language, unit: "points", stderr: value?.stderr ?? null, n, within_2se: compared ? withinNoise(value, before) : null }, value?.value ?? null, before?.value ?? null);
      };
      measured("target_average", target, row.targetAverage, first.targetAverage, null);
      measured("general_average", "", row.generalAverage, first.generalAverage, null);
      for (const c of columns) measured(c.title, c.language, row.values.get(c.key) ?? null, first.values.get(c.key) ?? null, c.items);
    }
  }

  const perplexities = (target: string, method: string, scores: ScoreRow[]) => {
    const before = new Map(base.map((s) => [s.language, s]));
    for (const s of scores) {
      push({ target, method, measure: "perplexity", language: s.language, unit: "perplexity", n: s.tokens }, s.perplexity, before.get(s.language)?.perplexity);
    }
    if (method !== "base") push({ target, method, measure: "perplexity_others_mean_change", unit: "fraction" }, othersMeanChange(scores, base, target));
  };
  const alignment = (target: string, method: string, rows: AlignmentRow[]) => {
    for (const a of rows.filter((r) => target === "" || r.language === target)) {
      const before = baseAlignment.find((b) => b.language === a.language);
      push({ target, method, measure: "alignment_mean", language: a.language, unit: "cosine", n: a.pairs }, a.mean, before?.mean);
      push({ target, method, measure: "alignment_last_layer", language: a.language, unit: "cosine", n: a.pairs }, a.per_layer.at(-1) ?? null, before?.per_layer.at(-1));
    }
  };

  for (const target of targets.length ? targets : [""]) {
    perplexities(target, "base", base);
    alignment(target, "base", baseAlignment);
  }
  for (const t of results.targets) {
    if (t.scores) perplexities(t.language, t.label, t.scores);
    if (t.alignment) alignment(t.language, t.label, t.alignment);
    if (t.weight_change) weightRecords(t, push);
    trainingRecords(t, push);
    for (const c of t.component_share ?? []) {
      const before = base.find((b) => b.language === t.language);
      const score = t.scores?.find((s) => s.language === t.language);
      push({ target: t.language, method: t.label, measure: `perplexity_${c.component}_only`, language: t.language, unit: "perplexity", n: score?.tokens ?? null }, c.perplexity, before?.perplexity);
      push({ target: t.language, method: t.label, measure: `gain_share_${c.component}`, language: t.language, unit: "fraction" }, c.share);
    }
  }
  for (const search of results.selection_search?.targets ?? []) {
    for (const c of search.candidates) {
      const at = { target: search.language, method: `search:${c.id}`, language: search.language };
      push({ ...at, measure: "search_neurons", unit: "neurons" }, c.neurons);
      push({ ...at, measure: "search_validation_loss", unit: "nats/token", n: search.steps }, c.validation_loss);
      push({ ...at, measure: "search_chosen", unit: "bool" }, c.id === search.chosen ? 1 : 0);
    }
  }
  for (const r of results.steering ?? []) {
    const at = { target: r.to, method: `steer:${r.from}@${r.strength}${r.control === "random" ? ":random" : ""}`, unit: "fraction" };
    const shares = [["target", r.to, r.base.target, r.steered.target], ["source", r.from, r.base.source, r.steered.source]] as const;
    for (const [which, language, before, after] of shares) {
      if (!before || !after) continue;
      const stderr = (s: typeof before) => Math.sqrt((s.share * (1 - s.share)) / s.n);
      push({ ...at, measure: `steering_${which}_share_base`, language, n: before.n, stderr: stderr(before) }, before.share);
      push({ ...at, measure: `steering_${which}_share`, language, n: after.n, stderr: stderr(after) }, after.share, before.share);
    }
  }
  for (const set of results.selection?.neuron_sets ?? []) {
    push({ target: "", method: "lape", measure: "selected_neurons", language: set.language, unit: "neurons" }, set.neuron_count);
  }
  return records;
}

type Push = (fields: Partial<ResultRecord> & Pick<ResultRecord, "target" | "method" | "measure">, value: number | null) => void;

function weightRecords(t: TargetResult, push: Push): void {
  const w = t.weight_change!;
  const at = { target: t.language, method: t.label, unit: "l2" };
  for (const projection of ["gate_proj", "up_proj", "down_proj"] as const) {
    push({ ...at, measure: `weight_change_${projection}_neurons` }, w.total[projection].neurons);
    push({ ...at, measure: `weight_change_${projection}_matrix` }, w.total[projection].matrix);
  }
  const { downOverGate, downLateShare } = weightSummary(w);
  push({ ...at, measure: "weight_change_down_over_gate", unit: "ratio" }, downOverGate);
  push({ ...at, measure: "weight_change_down_last_third_share", unit: "fraction" }, downLateShare);
}

function trainingRecords(t: TargetResult, push: Push): void {
  const at = { target: t.language, method: t.label };
  const fields: [string, number | null, string][] = [
    ["neurons", t.neuron_count, "neurons"],
    ["trainable_parameters", t.trainable_parameters, "parameters"],
    ["parameter_share", t.parameter_share, "fraction"],
    ["steps", t.steps, "steps"],
    ["tokens", t.tokens, "tokens"],
    ["tokens_per_second", t.tokens_per_second, "tokens/s"],
    ["peak_memory_bytes", t.peak_memory_bytes, "bytes"],
    ["optimizer_state_bytes", t.optimizer_state_bytes, "bytes"],
    ["best_step", t.best_step, "step"],
    ["diverged_step", t.diverged_step, "step"],
    ["seconds", t.seconds, "s"],
  ];
  for (const [name, value, unit] of fields) push({ ...at, measure: `training_${name}`, unit }, value);
}
