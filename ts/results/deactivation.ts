// The deactivation matrix (Tang et al.'s test): rows = language whose neurons were switched off
// (and its random same-size control), columns = language scored, cells = relative change of
// held-out perplexity against the base model with nothing switched off.
import type { EvaluateResult } from "../gen/sparse_sub/v1/worker.js";
import { jobIds } from "../ids.js";
import { deactivationLanguages, randomControl } from "../plan/deactivation.js";
import type { Plan } from "../plan/schema.js";

export interface DeactivationRow {
  deactivated: string; // whose neurons were off
  control: "language" | "random"; // the language's own set, or a random set of the same size per layer
  neurons: number; // neurons switched off
  perplexity: Record<string, number>; // per evaluated language
  change: Record<string, number | null>; // perplexity / base - 1; null without a base score
}

/** Per deactivated language: how much its own perplexity rose against the others and the control. */
export interface DeactivationSummary {
  language: string;
  own_change: number | null; // the diagonal
  others_mean_change: number | null; // mean of the rest of its row
  others_max_change: number | null;
  random_own_change: number | null; // the control's diagonal
}

export interface DeactivationResult {
  evaluated: string[]; // column order
  base: Record<string, number> | null; // perplexity with nothing switched off
  rows: DeactivationRow[];
  summary: DeactivationSummary[];
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

export function deactivationResult(plan: Plan, result: <T>(id: string) => T | undefined): DeactivationResult | null {
  const languages = deactivationLanguages(plan);
  if (languages.length === 0) return null;
  const base = result<EvaluateResult>(jobIds.evaluateBase);
  const basePerplexity = base ? Object.fromEntries(base.scores.map((s) => [s.language, s.perplexity])) : null;
  const controls = randomControl(plan) ? (["language", "random"] as const) : (["language"] as const);
  const rows: DeactivationRow[] = languages.flatMap((language) =>
    controls.flatMap((control) => {
      const scored = result<EvaluateResult>(jobIds.deactivate(language, control));
      if (!scored) return [];
      const perplexity = Object.fromEntries(scored.scores.map((s) => [s.language, s.perplexity]));
      const change = Object.fromEntries(
        Object.entries(perplexity).map(([code, ppl]) => [code, basePerplexity?.[code] ? ppl / basePerplexity[code] - 1 : null]),
      );
      return [{ deactivated: language, control, neurons: Number(scored.deactivatedNeurons), perplexity, change }];
    }),
  );
  const evaluated = base ? base.scores.map((s) => s.language) : [...new Set(rows.flatMap((r) => Object.keys(r.perplexity)))];
  const summary = languages.flatMap((language): DeactivationSummary[] => {
    const own = rows.find((r) => r.deactivated === language && r.control === "language");
    if (!own) return [];
    const others = evaluated.filter((c) => c !== language).map((c) => own.change[c]).filter((x): x is number => typeof x === "number");
    const random = rows.find((r) => r.deactivated === language && r.control === "random");
    return [{
      language,
      own_change: own.change[language] ?? null,
      others_mean_change: mean(others),
      others_max_change: others.length ? Math.max(...others) : null,
      random_own_change: random?.change[language] ?? null,
    }];
  });
  return { evaluated, base: basePerplexity, rows, summary };
}
