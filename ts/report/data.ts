// What a run's report shows, gathered from its results.json, its resolved plan and its neuron
// set files: flat rows per chart (what the page draws and offers as CSV) and what is missing.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { jobIds } from "../ids.js";
import { methodLabel, trainsGivenNeurons, type MethodSpec } from "../plan/methods/index.js";
import { weightSummary } from "../results/records.js";
import type { RunResults } from "../results/results.js";

export const PROJECTIONS = ["gate_proj", "up_proj", "down_proj"] as const;

export interface ReportData {
  run: string;
  status: RunResults["status"];
  error: string | null;
  targets: string[];
  methods: string[]; // labels, in plan order
  loss: { target: string; method: string; curve: "training" | "validation"; step: number; loss: number }[];
  weights: { target: string; method: string; layer: number; projection: string; change: number }[];
  downOverGate: { target: string; method: string; ratio: number }[]; // as the results table: whole matrices, over all layers
  neurons: { language: string; layer: number; neurons: number }[];
  shared: { layer: number; neurons: number; languages: number }[]; // neurons selected for >= `languages` languages
  alignment: { target: string; model: string; layer: number; similarity: number }[];
  jobs: { job: string; stage: string; worker: string; seconds: number; reused: boolean }[];
  /** Deactivation matrix cells: relative perplexity change of `evaluated` with `row`'s neurons off. */
  deactivation: { row: string; evaluated: string; change: number }[];
  /** Atlas overlap cells (Jaccard), languages in cluster order; empty above OVERLAP_CHART_LIMIT languages. */
  overlap: { a: string; b: string; jaccard: number }[];
  missing: string[]; // what the plan asked for that this run has not produced
}

interface PlannedRun {
  training?: { targets?: string[]; methods?: MethodSpec[]; transfer?: { text: string; neurons: string }[] };
  evaluation?: { weight_change?: boolean; deactivation?: unknown; steering?: unknown };
  atlas?: unknown;
}

/** Above this many languages the overlap heatmap would be unreadable: atlas/overlap.csv has it. */
export const OVERLAP_CHART_LIMIT = 60;

/** The plan the run was started with (plan.resolved.json), when the run directory has it. */
export function readPlannedRun(runDir: string): PlannedRun | null {
  const path = join(runDir, "plan.resolved.json");
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as PlannedRun;
  } catch {
    return null; // the report still shows what results.json holds
  }
}

export function reportData(results: RunResults, runDir: string): ReportData {
  const planned = readPlannedRun(runDir);
  const plannedMethods = (planned?.training?.methods ?? []).flatMap((spec) => {
    try {
      return [methodLabel(spec)]; // the label its jobs and results carry (e.g. a suffix for a setting)
    } catch {
      return []; // a method this version does not know: results.json still names what ran
    }
  });
  const methods = unique([...plannedMethods, ...results.targets.map((t) => t.label)]);
  const targets = unique([...(planned?.training?.targets ?? []), ...results.targets.map((t) => t.language)]);
  return {
    run: results.run,
    status: results.status,
    error: results.error,
    targets,
    methods,
    loss: results.targets.flatMap((t) => [
      ...t.train_loss.map((p) => ({ target: t.language, method: t.label, curve: "training" as const, ...p })),
      ...t.validation_loss.map((p) => ({ target: t.language, method: t.label, curve: "validation" as const, ...p })),
    ]),
    weights: results.targets.flatMap((t) =>
      (t.weight_change?.layers ?? []).flatMap((l) =>
        PROJECTIONS.filter((p) => l[p] !== null).map((p) => ({ target: t.language, method: t.label, layer: l.layer, projection: p, change: l[p]!.matrix })),
      ),
    ),
    downOverGate: results.targets.flatMap((t) => {
      const ratio = t.weight_change ? weightSummary(t.weight_change).downOverGate : null;
      return ratio === null ? [] : [{ target: t.language, method: t.label, ratio }];
    }),
    neurons: (results.selection?.neuron_sets ?? []).flatMap((s) =>
      Object.entries(s.per_layer).map(([layer, neurons]) => ({ language: s.language, layer: Number(layer), neurons })),
    ),
    shared: sharedNeurons(results, runDir),
    alignment: [
      ...(results.base_alignment ?? []).flatMap((a) => a.per_layer.map((similarity, layer) => ({ target: a.language, model: "base", layer, similarity }))),
      ...results.targets.flatMap((t) =>
        (t.alignment ?? []).filter((a) => a.language === t.language).flatMap((a) => a.per_layer.map((similarity, layer) => ({ target: t.language, model: t.label, layer, similarity }))),
      ),
    ],
    jobs: results.jobs.map((j) => ({ job: j.id, stage: j.id.split(":")[0], worker: j.worker, seconds: j.seconds, reused: j.reused })),
    deactivation: (results.deactivation?.rows ?? []).flatMap((r) =>
      Object.entries(r.change).flatMap(([evaluated, change]) =>
        change === null ? [] : [{ row: r.control === "random" ? `${r.deactivated} (random)` : r.deactivated, evaluated, change }],
      ),
    ),
    overlap: overlapCells(results, runDir),
    missing: missingParts(results, plannedPairs(planned, plannedMethods), planned),
  };
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

/** Per layer, how many neurons are in the sets of two or more languages (read from the set files). */
function sharedNeurons(results: RunResults, runDir: string): ReportData["shared"] {
  const sets = (results.selection?.neuron_sets ?? []).map((s) => readLayers(resolve(runDir, s.path)));
  if (sets.length < 2 || sets.some((s) => s === null)) return [];
  const layerCount = Math.max(...sets.map((s) => s!.length));
  return Array.from({ length: layerCount }, (_, layer) => {
    const seen = new Map<number, number>();
    for (const set of sets) for (const neuron of set![layer] ?? []) seen.set(neuron, (seen.get(neuron) ?? 0) + 1);
    return { layer, neurons: [...seen.values()].filter((n) => n >= 2).length, languages: 2 };
  });
}

/** The atlas's overlap.csv as cells, languages grouped by cluster (clusters.csv), small atlases only. */
function overlapCells(results: RunResults, runDir: string): ReportData["overlap"] {
  if (!results.atlas || results.atlas.languages > OVERLAP_CHART_LIMIT) return [];
  try {
    const dir = resolve(runDir, results.atlas.dir);
    const [header, ...rows] = readFileSync(join(dir, "overlap.csv"), "utf8").trim().split("\n").map((line) => line.split(","));
    const codes = header.slice(1);
    const cluster = new Map(readFileSync(join(dir, "clusters.csv"), "utf8").trim().split("\n").slice(1).map((line) => line.split(",") as [string, string]));
    const order = [...codes].sort((x, y) => Number(cluster.get(x)) - Number(cluster.get(y)) || codes.indexOf(x) - codes.indexOf(y));
    const cells = rows.flatMap((row) => codes.map((b, j) => ({ a: row[0], b, jaccard: Number(row[j + 1]) })));
    return cells.sort((p, q) => order.indexOf(p.a) - order.indexOf(q.a) || order.indexOf(p.b) - order.indexOf(q.b));
  } catch {
    return []; // the atlas files moved away: the chart is left out, not the report
  }
}

function readLayers(path: string): number[][] | null {
  try {
    const layers = JSON.parse(readFileSync(path, "utf8")).layers;
    return Array.isArray(layers) ? layers : null;
  } catch {
    return null; // a set file moved away: the shared-neuron chart is left out, not the report
  }
}

/** The (target, label) trainings the plan asked for: each method on each target, and each transfer. */
function plannedPairs(planned: PlannedRun | null, labels: string[]): { target: string; label: string }[] {
  const own = (planned?.training?.targets ?? []).flatMap((target) => labels.map((label) => ({ target, label })));
  const methods = planned?.training?.methods ?? [];
  const transfers = (planned?.training?.transfer ?? []).flatMap(({ text, neurons }) =>
    methods.flatMap((spec) => {
      try {
        return trainsGivenNeurons(spec.method) ? [{ target: text, label: jobIds.transferLabel(methodLabel(spec), neurons) }] : [];
      } catch {
        return []; // a method this version does not know
      }
    }),
  );
  return [...own, ...transfers];
}

function missingParts(results: RunResults, pairs: { target: string; label: string }[], planned: PlannedRun | null): string[] {
  const missing: string[] = [];
  const targets = pairs.map((p) => p.target);
  const deactivates = Boolean(planned?.evaluation?.deactivation);
  if (!results.base && (targets.length > 0 || deactivates)) missing.push(`${jobIds.evaluateBase}: the base model has not been scored`);
  if (planned?.atlas && !results.atlas) missing.push(`${jobIds.atlas}: the atlas has not been written`);
  if (deactivates && !results.deactivation?.rows.length) missing.push("deactivate: no language's neurons have been switched off yet");
  const steers = planned?.evaluation?.steering;
  if (steers && !results.steering?.length) missing.push("steer: nothing has been generated with steering yet");
  const wantsWeights = planned?.evaluation?.weight_change ?? true;
  const ran = results.targets.map((t) => ({ target: t.language, label: t.label }));
  const seen = new Set<string>();
  for (const { target, label: method } of [...pairs, ...ran]) {
    if (seen.has(`${target}\0${method}`)) continue;
    seen.add(`${target}\0${method}`);
    const trained = results.targets.find((t) => t.language === target && t.label === method);
    if (!trained) missing.push(`${jobIds.train(target, method)}: not trained`);
    else if (!trained.scores) missing.push(`${jobIds.evaluateTrained(target, method)}: trained, not evaluated`);
    if (trained && wantsWeights && !trained.weight_change) missing.push(`${jobIds.analyze(target, method)}: weight change not analyzed`);
  }
  return missing;
}
