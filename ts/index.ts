// sparse-sub's programmatic API.
export { runPlan, type RunOptions, type RunOutcome } from "./pipeline/run.js";
export { loadPlan, parsePlan, type LoadedPlan } from "./plan/load.js";
export { Plan as PlanSchema, type Plan, type PlanInput } from "./plan/schema.js";
export { METHOD_NAMES, methodLabel, outputKind, type MethodName, type MethodSpec, type OutputKind } from "./plan/methods.js";
export { readPackInfo, describePack, type PackInfo } from "./packs/info.js";
export { mergePacks, type MergePacksOptions, type OverlapRule } from "./packs/merge.js";
export { WorkerClient, type CallOptions } from "./worker/client.js";
export { WorkerPool, type PooledWorker } from "./worker/pool.js";
export { startLocalWorker, type LocalWorker, type LaunchOptions } from "./worker/launch.js";
export { SparseSubError, formatError, type ErrorCode, type PlanIssue } from "./errors.js";
export { createProgressDisplay, silentDisplay, type ProgressDisplay } from "./telemetry/progress.js";
export { subscribeTelemetry } from "./telemetry/subscriber.js";
export { resultsTable } from "./results/table.js";
export { readResults, renderResults, type ResultsFormat } from "./results/render.js";
export { paperTable, paperRecords } from "./results/paper.js";
export { RESULTS_SCHEMA, type RunResults, type TargetResult, type ScoreRow } from "./results/results.js";
export { readDeclaration, splitDeclaration, udhrIds } from "./corpora/udhr.js";
export * as proto from "./gen/sparse_sub/v1/worker.js";
