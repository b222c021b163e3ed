// The paper-style comparison (REFERENCE §5): per target language, rows = base + each method,
// columns = target-language average, general average and each task score, each with its change
// vs base. One primary number per task: chrF (sentence-level mean, the reference's) for
// translation, accuracy x 100 for multiple choice. Missing scores (a partial run) stay missing.
import type { RunResults, TaskRow } from "./results.js";

export interface Column {
  key: string; // label|language|direction|mode
  title: string; // e.g. "udhr_translation af eng-x (chrF)"
  language: string; // "" = an English (general) task
}

export interface PaperRow {
  target: string;
  method: string; // "base" or a method label
  values: Map<string, number>; // column key -> primary score
  targetAverage: number | null;
  generalAverage: number | null;
  perplexity: number | null; // held-out perplexity of the target language
  evaluated: boolean;
}

const columnKey = (t: TaskRow) => [t.label, t.language, t.direction, t.mode].join("|");
export const primary = (t: TaskRow): number => ("chrf" in t.metrics ? t.metrics.chrf : (t.metrics.accuracy ?? 0) * 100);

function title(t: TaskRow): string {
  const parts = [t.label, t.language, t.direction, t.mode === "loglik" ? "loglik" : ""].filter(Boolean).join(" ");
  return `${parts} (${"chrf" in t.metrics ? "chrF" : "acc"})`;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

export function paperTable(results: RunResults, target: string): { columns: Column[]; rows: PaperRow[] } {
  const methods = results.targets.filter((t) => t.language === target);
  const all = [...(results.base_tasks ?? []), ...methods.flatMap((m) => m.tasks ?? [])].filter((t) => t.language === "" || t.language === target);
  const columns: Column[] = [];
  for (const t of all) if (!columns.some((c) => c.key === columnKey(t))) columns.push({ key: columnKey(t), title: title(t), language: t.language });
  const row = (method: string, tasks: TaskRow[] | null, perplexity: number | null): PaperRow => {
    const values = new Map((tasks ?? []).filter((t) => t.language === "" || t.language === target).map((t) => [columnKey(t), primary(t)]));
    const pick = (general: boolean) => columns.filter((c) => (c.language === "") === general && values.has(c.key)).map((c) => values.get(c.key)!);
    return { target, method, values, targetAverage: mean(pick(false)), generalAverage: mean(pick(true)), perplexity, evaluated: tasks !== null };
  };
  const ppl = (scores: { language: string; perplexity: number }[] | null) => scores?.find((s) => s.language === target)?.perplexity ?? null;
  return {
    columns,
    rows: [row("base", results.base_tasks, ppl(results.base)), ...methods.map((m) => row(m.label, m.tasks, ppl(m.scores)))],
  };
}

/** Long format: one line per (target, method, measure) with the change vs base. */
export function paperRecords(results: RunResults): Record<string, string | number | null>[] {
  const records: Record<string, string | number | null>[] = [];
  for (const target of [...new Set(results.targets.map((t) => t.language))]) {
    const { columns, rows } = paperTable(results, target);
    const base = rows[0];
    for (const row of rows) {
      const measures: [string, number | null, number | null][] = [
        ["target_average", row.targetAverage, base.targetAverage],
        ["general_average", row.generalAverage, base.generalAverage],
        ...columns.map((c): [string, number | null, number | null] => [c.title, row.values.get(c.key) ?? null, base.values.get(c.key) ?? null]),
        ["perplexity", row.perplexity, base.perplexity],
      ];
      for (const [measure, value, before] of measures) {
        records.push({ target, method: row.method, measure, value, delta: value !== null && before !== null && row.method !== "base" ? value - before : null });
      }
    }
  }
  return records;
}
