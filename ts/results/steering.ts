// evaluation.steering's results: per (pair, strength), how many outputs are in the target
// language (and still in the source language), base vs steered, each share with its n and a
// 95% Wilson interval (a share of 12 outputs is not a precise number).
import type { SteerResult } from "../gen/sparse_sub/v1/worker.js";
import { jobIds } from "../ids.js";
import { iso6391Of } from "../language-codes.js";
import type { Plan } from "../plan/schema.js";
import { steeringRuns } from "../plan/steering.js";

export interface Share {
  count: number;
  n: number;
  share: number; // count / n
  low: number; // 95% Wilson interval
  high: number;
}

export interface SteeringRow {
  from: string;
  to: string;
  mode: "mean" | "add";
  strength: number;
  control: "language" | "random"; // random: same-size random sets in place of both languages' sets
  target_code: string; // ISO 639-1 the identifier reports for `to`
  source_code: string | null;
  identifiable: boolean; // false: the identifier does not know `to`, every share is null
  base: { target: Share | null; source: Share | null };
  steered: { target: Share | null; source: Share | null };
  changed: number; // outputs that differ from their base output
  off_neurons: number;
  boost_neurons: number;
  mean_active_value: number | null; // "mean": what strength multiplies, averaged over `to`'s neurons
  seconds: number;
  outputs: { prompt: string; base: string; steered: string; base_language: string; steered_language: string }[];
}

/** "2/12 (5-45%)": count / n with the interval, as results.md and the report show a share. */
export const formatShare = (s: Share | null): string => (s ? `${s.count}/${s.n} (${Math.round(100 * s.low)}-${Math.round(100 * s.high)}%)` : "-");

const Z = 1.959963984540054; // two-sided 95%

/** Wilson score interval of k successes in n. */
export function wilson(count: number, n: number): Share {
  if (n === 0) return { count, n, share: 0, low: 0, high: 1 };
  const p = count / n;
  const z2 = Z * Z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return { count, n, share: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

export function steeringResult(plan: Plan, result: <T>(id: string) => T | undefined): SteeringRow[] | null {
  const steering = plan.evaluation.steering;
  if (!steering) return null;
  return steeringRuns(plan).flatMap(({ from, to, strength, control }): SteeringRow[] => {
    const steered = result<SteerResult>(jobIds.steer(from, to, strength, control));
    if (!steered) return [];
    const target = iso6391Of(to)!; // the plan schema refuses a `to` without one
    const source = iso6391Of(from);
    const identifiable = steered.identifiable.includes(target);
    const share = (key: "baseLanguage" | "steeredLanguage", code: string | null) =>
      code && steered.identifiable.includes(code) ? wilson(steered.outputs.filter((o) => o[key] === code).length, steered.outputs.length) : null;
    return [{
      from,
      to,
      mode: steering.mode,
      strength,
      control,
      target_code: target,
      source_code: source,
      identifiable,
      base: { target: share("baseLanguage", target), source: share("baseLanguage", source) },
      steered: { target: share("steeredLanguage", target), source: share("steeredLanguage", source) },
      changed: steered.outputs.filter((o) => o.steered !== o.base).length,
      off_neurons: Number(steered.offNeurons),
      boost_neurons: Number(steered.boostNeurons),
      mean_active_value: steering.mode === "mean" ? steered.meanActiveValue : null,
      seconds: steered.seconds,
      outputs: steered.outputs.map((o) => ({ prompt: o.prompt, base: o.base, steered: o.steered, base_language: o.baseLanguage, steered_language: o.steeredLanguage })),
    }];
  });
}
