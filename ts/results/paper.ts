// The paper-style comparison (docs/method.md, "Evaluation"): per target language, rows = base +
// each method, columns = target-language average, general average and each task score, each
// with its standard error, item count and change vs base. One headline number per task: chrF
// (sentence-level mean, the reference's) for translation; for multiple choice accuracy, or
// length-normalized accuracy where lm-eval reports it; both x 100. Missing scores stay missing.
import type { RunResults, TaskRow } from "./results.js";

export interface Column {
  key: string; // label|language|direction|mode
  title: string; // e.g. "udhr_translation af eng-x (chrF)"
  language: string; // "" = an English (general) task
  items: number; // n: items scored
}

/** A score with its standard error (both in the table's units). */
export interface Measured {
  value: number;
  stderr: number;
}

export interface PaperRow {
  target: string;
  method: string; // "base" or a method label
  values: Map<string, Measured>; // column key -> headline score
  targetAverage: Measured | null;
  generalAverage: Measured | null;
  perplexity: number | null; // held-out perplexity of the target language
  evaluated: boolean;
}

const columnKey = (t: TaskRow) => [t.label, t.language, t.direction, t.mode].join("|");
const METRIC_TITLES: Record<string, string> = { chrf: "chrF", bleu: "BLEU", chrf_pp: "chrF++", accuracy: "acc", acc_norm: "acc_norm" };
const PERCENT = new Set(["accuracy", "acc_norm", "unreadable"]); // fractions on the wire, shown x 100

/** The task's headline score and standard error, in the table's units. */
export function headline(t: TaskRow): Measured {
  const scale = PERCENT.has(t.headline) ? 100 : 1;
  return { value: (t.metrics[t.headline] ?? 0) * scale, stderr: (t.metrics[`${t.headline}_stderr`] ?? 0) * scale };
}

function title(t: TaskRow): string {
  const parts = [t.label, t.language, t.direction, t.mode === "loglik" ? "loglik" : ""].filter(Boolean).join(" ");
  return `${parts} (${METRIC_TITLES[t.headline] ?? t.headline})`;
}

/** Mean of independent scores; its standard error is sqrt(sum of squared errors) / k. */
const mean = (xs: Measured[]): Measured | null =>
  xs.length ? { value: xs.reduce((a, x) => a + x.value, 0) / xs.length, stderr: Math.sqrt(xs.reduce((a, x) => a + x.stderr ** 2, 0)) / xs.length } : null;

/** A change vs base within two standard errors of the difference (unpaired: sqrt(se1^2 + se2^2)). */
export const withinNoise = (a: Measured, b: Measured): boolean => Math.abs(a.value - b.value) <= 2 * Math.hypot(a.stderr, b.stderr);

export function paperTable(results: RunResults, target: string): { columns: Column[]; rows: PaperRow[] } {
  const methods = results.targets.filter((t) => t.language === target);
  const all = [...(results.base_tasks ?? []), ...methods.flatMap((m) => m.tasks ?? [])].filter((t) => t.language === "" || t.language === target);
  const columns: Column[] = [];
  for (const t of all) if (!columns.some((c) => c.key === columnKey(t))) columns.push({ key: columnKey(t), title: title(t), language: t.language, items: t.items });
  const row = (method: string, tasks: TaskRow[] | null, perplexity: number | null): PaperRow => {
    const values = new Map((tasks ?? []).filter((t) => t.language === "" || t.language === target).map((t) => [columnKey(t), headline(t)]));
    const pick = (general: boolean) => columns.filter((c) => (c.language === "") === general && values.has(c.key)).map((c) => values.get(c.key)!);
    return { target, method, values, targetAverage: mean(pick(false)), generalAverage: mean(pick(true)), perplexity, evaluated: tasks !== null };
  };
  const ppl = (scores: { language: string; perplexity: number }[] | null) => scores?.find((s) => s.language === target)?.perplexity ?? null;
  return {
    columns,
    rows: [row("base", results.base_tasks, ppl(results.base)), ...methods.map((m) => row(m.label, m.tasks, ppl(m.scores)))],
  };
}
