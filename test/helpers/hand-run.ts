// A run directory on disk from hand-built results (see hand-results.ts): results.json, the plan
// it was started with and the neuron set files the selection names, for the report tests.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parsePlan } from "../../ts/plan/load.js";
import type { RunResults } from "../../ts/results/results.js";
import { fullResults } from "./hand-results.js";

/** af's and de's sets over 3 layers: layer 0 shares neurons 1 and 2, layer 1 shares none, layer 2 shares 7. */
export const HAND_SETS = { af: [[1, 2, 3], [4], [7, 8]], de: [[1, 2], [5], [7]] };

export function handRun(results: RunResults = withCurves(fullResults()), plan: object = handPlan()): string {
  const dir = mkdtempSync(join(tmpdir(), "sparse-sub-report-"));
  mkdirSync(join(dir, "neurons"));
  for (const [language, layers] of Object.entries(HAND_SETS)) {
    writeFileSync(join(dir, `neurons/${language}.json`), JSON.stringify({ format: "sparse-sub/neuron-set@1", language, layers }));
  }
  writeFileSync(join(dir, "results.json"), JSON.stringify(results));
  writeFileSync(join(dir, "plan.resolved.json"), JSON.stringify(plan));
  return dir;
}

/** The plan behind fullResults, as plan.resolved.json holds it (parsed, defaults filled): sparse,
 * random and lora on af (lora never trained). `extra` overrides fields of its sections. */
export function handPlan(extra: Record<string, unknown> = {}): object {
  const { plan } = parsePlan(
    {
      name: "hand",
      model: { source: "org/m" },
      languages: [{ code: "en", udhr: { id: "eng" } }, { code: "de", udhr: { id: "deu_1996" } }, { code: "af", udhr: { id: "afr" } }],
      identification: { top_rate: 0.05 },
      training: { targets: ["af"], methods: ["sparse", "random", "lora"] },
    },
    "/plans",
  );
  const resolved = JSON.parse(JSON.stringify(plan)) as Record<string, unknown>;
  for (const [section, value] of Object.entries(extra)) {
    const merge = value && typeof value === "object" && !Array.isArray(value) && typeof resolved[section] === "object";
    resolved[section] = merge ? { ...(resolved[section] as object), ...value } : value;
  }
  return resolved;
}

/** Loss curves, alignment, timings and jobs on fullResults, so that every chart has data. */
export function withCurves(r: RunResults): RunResults {
  r.started_at = "2026-12-01T10:00:00.000Z";
  r.finished_at = "2026-12-01T10:05:00.000Z";
  r.workers = [{ name: "local-1", address: "127.0.0.1:5000", device: "cpu", version: "0.1.0" }];
  r.targets[0].train_loss = [1, 2, 3, 4].map((step) => ({ step, loss: 5 - step * 0.5 }));
  r.targets[0].validation_loss = [0, 2, 4].map((step) => ({ step, loss: 4.5 - step * 0.25 }));
  if (r.targets[1]) {
    r.targets[1].train_loss = [1, 2, 3].map((step) => ({ step, loss: 5 - step * 0.2 }));
    r.targets[1].validation_loss = [0, 2].map((step) => ({ step, loss: 4.6 - step * 0.1 }));
  }
  r.jobs = [
    { id: "collect:af", worker: "local-1", seconds: 3, reused: false },
    { id: "select", worker: "local-1", seconds: 1, reused: false },
    { id: "train:af:sparse", worker: "local-1", seconds: 20, reused: true },
    { id: "evaluate:base", worker: "local-1", seconds: 12, reused: false },
  ];
  return r;
}
