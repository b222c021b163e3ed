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

describe("steering records", async () => {
  const { resultRecords } = await import("../ts/results/records.js");
  const { results } = await import("./helpers/hand-results.js");
  it("has the target and source shares, base and steered, with n, binomial stderr and the change", () => {
    const r = results();
    const share = (count: number, n: number) => ({ count, n, share: count / n, low: 0, high: 1 });
    const row = {
      from: "en", to: "de", mode: "mean" as const, strength: 2, target_code: "de", source_code: "en", identifiable: true,
      base: { target: share(0, 4), source: share(4, 4) }, steered: { target: share(1, 4), source: share(2, 4) },
      changed: 4, off_neurons: 1, boost_neurons: 1, mean_active_value: 1, seconds: 1, outputs: [],
    };
    r.steering = [{ ...row, control: "language" }, { ...row, control: "random", steered: { target: share(0, 4), source: null } }];
    const none = { within_2se: null, target: "de", unit: "fraction" };
    expect(resultRecords(r).filter((x) => x.method.startsWith("steer:"))).toEqual([
      { ...none, method: "steer:en@2", measure: "steering_target_share_base", language: "de", value: 0, n: 4, stderr: 0, delta: null, relative_change: null },
      // sqrt(0.25 x 0.75 / 4) = 0.2165
      { ...none, method: "steer:en@2", measure: "steering_target_share", language: "de", value: 0.25, n: 4, stderr: Math.sqrt(0.1875 / 4), delta: 0.25, relative_change: null },
      { ...none, method: "steer:en@2", measure: "steering_source_share_base", language: "en", value: 1, n: 4, stderr: 0, delta: null, relative_change: null },
      { ...none, method: "steer:en@2", measure: "steering_source_share", language: "en", value: 0.5, n: 4, stderr: 0.25, delta: -0.5, relative_change: -0.5 },
      { ...none, method: "steer:en@2:random", measure: "steering_target_share_base", language: "de", value: 0, n: 4, stderr: 0, delta: null, relative_change: null },
      { ...none, method: "steer:en@2:random", measure: "steering_target_share", language: "de", value: 0, n: 4, stderr: 0, delta: 0, relative_change: null },
    ]);
  });
});

describe("steeringRuns", async () => {
  const { steeringRuns } = await import("../ts/plan/steering.js");
  const languages = [{ code: "af", udhr: { id: "afr" } }, { code: "nl", udhr: { id: "nld" } }];
  it("lists one run per (pair, strength, control), a single strength as one, none without steering", () => {
    const plan = (evaluation: object) => parsePlan({ name: "s", model: { source: "m" }, languages, evaluation }, "/p").plan;
    expect(steeringRuns(plan({}))).toEqual([]);
    expect(steeringRuns(plan({ steering: { pairs: [{ from: "af", to: "nl" }], strength: 3, random_control: false } }))).toEqual([{ from: "af", to: "nl", strength: 3, control: "language" }]);
    expect(steeringRuns(plan({ steering: { pairs: [{ from: "af", to: "nl" }, { from: "nl", to: "af" }], strength: [1, 2] } })).map((r) => `${r.from}${r.strength}${r.control[0]}`))
      .toEqual(["af1l", "af1r", "af2l", "af2r", "nl1l", "nl1r", "nl2l", "nl2r"]);
  });
  it("gives an empty share the whole interval", () => {
    expect(wilson(0, 0)).toEqual({ count: 0, n: 0, share: 0, low: 0, high: 1 });
  });
});
