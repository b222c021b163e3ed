// The deactivation matrix's arithmetic from hand-made evaluation results.
import { describe, expect, it } from "vitest";
import type { EvaluateResult } from "../ts/gen/sparse_sub/v1/worker.js";
import { parsePlan } from "../ts/plan/load.js";
import { deactivationResult } from "../ts/results/deactivation.js";
import { deactivationTable } from "../ts/results/stage-tables.js";
import type { RunResults } from "../ts/results/results.js";

const plan = (deactivation: unknown) =>
  parsePlan({
    name: "d",
    model: { source: "m" },
    languages: ["af", "nl", "en"].map((code) => ({ code, udhr: { id: { af: "afr", nl: "nld", en: "eng" }[code] } })),
    evaluation: { deactivation },
  }, "/").plan;

const scored = (perplexity: Record<string, number>, neurons = 0) =>
  ({ scores: Object.entries(perplexity).map(([language, p]) => ({ language, perplexity: p, meanLoss: Math.log(p), tokens: 100 })), deactivatedNeurons: neurons }) as unknown as EvaluateResult;

const records: Record<string, EvaluateResult> = {
  "evaluate:base": scored({ af: 10, nl: 20, en: 40 }),
  "deactivate:af": scored({ af: 25, nl: 22, en: 40 }, 30),
  "deactivate:af:random": scored({ af: 10.5, nl: 20, en: 38 }, 30),
  "deactivate:nl": scored({ af: 12, nl: 30, en: 44 }, 12),
};
const lookup = <T>(id: string) => records[id] as T | undefined;

describe("deactivation results", () => {
  it("gives each cell's change vs the base and each language's summary, worked out by hand", () => {
    const d = deactivationResult(plan({ languages: ["af", "nl"] }), lookup)!;
    expect(d.evaluated).toEqual(["af", "nl", "en"]);
    expect(d.rows.map((r) => `${r.deactivated}/${r.control}`)).toEqual(["af/language", "af/random", "nl/language"]); // nl's control not run yet
    expect(d.rows[0].change).toEqual({ af: 1.5, nl: expect.closeTo(0.1, 12), en: 0 });
    expect(d.rows[1].change.en).toBeCloseTo(-0.05, 12);
    expect(d.summary[0]).toEqual({ language: "af", own_change: 1.5, others_mean_change: expect.closeTo(0.05, 12), others_max_change: expect.closeTo(0.1, 12), random_own_change: expect.closeTo(0.05, 12) });
    expect(d.summary[1]).toMatchObject({ language: "nl", own_change: 0.5, others_mean_change: expect.closeTo((0.2 + 0.1) / 2, 12), random_own_change: null });
    expect(d.rows[0].neurons).toBe(30);
  });

  it("is absent when the plan does not ask for it, and uses every language with a set when it says true", () => {
    expect(deactivationResult(plan(false), lookup)).toBeNull();
    expect(deactivationResult(plan(true), lookup)!.summary.map((s) => s.language)).toEqual(["af", "nl"]); // en has no rows yet
  });

  it("leaves the change empty without a base score, and the table marks the own column", () => {
    const withoutBase = <T>(id: string) => (id === "evaluate:base" ? undefined : lookup<T>(id));
    const d = deactivationResult(plan({ languages: ["af"] }), withoutBase)!;
    expect(d.base).toBeNull();
    expect(d.rows[0].change.af).toBeNull();
    // without a base, the columns are the languages the rows scored, each once
    expect(d.evaluated).toEqual(["af", "nl", "en"]);
    expect(d.summary).toEqual([{ language: "af", own_change: null, others_mean_change: null, others_max_change: null, random_own_change: null }]);
    // a language whose own row has not run has no summary, even when its control has
    const onlyRandom = <T>(id: string) => (id === "deactivate:af" ? undefined : lookup<T>(id));
    expect(deactivationResult(plan({ languages: ["af"] }), onlyRandom)!.summary).toEqual([]);
    const table = deactivationTable({ deactivation: deactivationResult(plan({ languages: ["af"] }), lookup) } as RunResults).join("\n");
    expect(table).toContain("| af | 30 | **+150.0%** | +10.0% | +0.0% | +5.0% |");
    expect(table).toContain("| af (random) | 30 | **+5.0%** | +0.0% | -5.0% | -2.5% |");
  });
});
