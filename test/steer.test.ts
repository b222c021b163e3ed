import { describe, expect, it } from "vitest";
import { iso6391Of } from "../ts/steer/steer.js";

describe("iso6391Of", () => {
  it("reads the ISO 639-1 code of plan codes and UDHR ids", () => {
    expect(iso6391Of("nl")).toBe("nl");
    expect(iso6391Of("nld")).toBe("nl");
    expect(iso6391Of("deu_1996")).toBe("de");
    expect(iso6391Of("pt-BR")).toBe("pt");
    expect(iso6391Of("cmn_hans")).toBeNull(); // Mandarin has no 639-1 code of its own
    expect(iso6391Of("qqq")).toBeNull();
    expect(iso6391Of("xx")).toBeNull(); // two letters, not ISO 639-1
    expect(iso6391Of("zu")).toBe("zu");
  });
});

import { SteerResult } from "../ts/gen/sparse_sub/v1/worker.js";
import { parsePlan } from "../ts/plan/load.js";
import { steeringResult, wilson } from "../ts/results/steering.js";

describe("wilson", () => {
  it("gives the 95% Wilson score interval (0/n: upper z²/(n+z²); n/n: lower n/(n+z²); 3/12 worked out by hand)", () => {
    const zero = wilson(0, 6);
    expect(zero.share).toBe(0);
    expect(zero.low).toBeCloseTo(0, 12);
    expect(zero.high).toBeCloseTo(0.39033, 4);
    const some = wilson(3, 12);
    expect(some.share).toBe(0.25);
    expect(some.low).toBeCloseTo(0.08894, 4);
    expect(some.high).toBeCloseTo(0.53231, 4);
    const all = wilson(12, 12);
    expect(all.high).toBe(1);
    expect(all.low).toBeCloseTo(0.75751, 4);
  });
});

describe("steeringResult", () => {
  const { plan } = parsePlan({
    name: "s",
    model: { source: "m" },
    languages: [{ code: "af", udhr: { id: "afr" } }, { code: "nl", udhr: { id: "nld" } }, { code: "mt", udhr: { id: "mlt" } }],
    evaluation: { steering: { pairs: [{ from: "af", to: "nl" }, { from: "nl", to: "mt" }], strength: [2, 4], mode: "add" } },
  }, "/p");
  const output = (base: string, steered: string, baseLanguage: string, steeredLanguage: string) => ({ prompt: "p", base, steered, baseLanguage, steeredLanguage });
  const done: Record<string, SteerResult> = {
    "steer:af:nl:4": SteerResult.fromPartial({
      outputs: [output("a", "b", "af", "nl"), output("c", "c", "af", "af"), output("d", "e", "", "nl"), output("f", "g", "en", "de")],
      offNeurons: 10, boostNeurons: 12, identifiable: ["af", "de", "en", "nl"], meanActiveValue: 0.7,
    }),
    "steer:af:nl:4:random": SteerResult.fromPartial({ outputs: [output("a", "a", "af", "af")], identifiable: ["af", "nl"] }),
    "steer:nl:mt:2": SteerResult.fromPartial({ outputs: [output("a", "b", "nl", "en")], identifiable: ["af", "de", "en", "nl"] }),
  };
  const rows = steeringResult(plan, <T>(id: string) => done[id] as T | undefined)!;

  it("has a row per finished generation, in plan order, with the shares counted by hand", () => {
    expect(rows.map((r) => `${r.from}>${r.to}@${r.strength}:${r.control}`)).toEqual(["af>nl@4:language", "af>nl@4:random", "nl>mt@2:language"]);
    expect(rows[1]).toMatchObject({ changed: 0, steered: { target: { count: 0, n: 1 }, source: { count: 1, n: 1 } } });
    const [r] = rows;
    expect(r.base.target).toMatchObject({ count: 0, n: 4, share: 0 });
    expect(r.steered.target).toMatchObject({ count: 2, n: 4, share: 0.5 });
    expect(r.base.source).toMatchObject({ count: 2, n: 4, share: 0.5 });
    expect(r.steered.source).toMatchObject({ count: 1, n: 4, share: 0.25 });
    expect(r).toMatchObject({ changed: 3, off_neurons: 10, boost_neurons: 12, mode: "add", mean_active_value: null, identifiable: true });
  });

  it("counts nothing in a language the identifier does not know", () => {
    const mt = rows[2];
    expect(mt.identifiable).toBe(false);
    expect(mt.base.target).toBeNull();
    expect(mt.steered.target).toBeNull();
    expect(mt.base.source).toMatchObject({ count: 1, n: 1 });
  });
});
