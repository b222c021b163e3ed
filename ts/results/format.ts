// How the results' numbers are written, the same in results.md and the HTML report.
import type { RunResults, TargetResult } from "./results.js";

export const fmt = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : String(value));
export const signed = (value: number, digits = 1) => `${value >= 0 ? "+" : ""}${value.toFixed(digits)}`;

/** The languages a target's perplexity table shows: those the base or one of its methods scored, in plan order. */
export function scoredLanguages(results: RunResults, methods: TargetResult[]): string[] {
  const base = new Set((results.base ?? []).map((s) => s.language));
  return results.languages.map((l) => l.code).filter((code) => base.has(code) || methods.some((m) => m.scores?.some((s) => s.language === code)));
}
