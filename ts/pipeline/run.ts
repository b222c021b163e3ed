// runPlan: plan -> corpora -> workers -> job graph -> run directory. Reads top to bottom:
// check inputs, set up, run, and always record what finished and shut workers down.
import { appendFileSync, existsSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { prepareCorpora } from "../corpora/prepare.js";
import type { Progress } from "../gen/sparse_sub/v1/worker.js";
import { SparseSubError, formatWarning } from "../errors.js";
import { checkLocalInputs, languageCodeWarnings } from "../plan/checks.js";
import { loadPlan, type LoadedPlan } from "../plan/load.js";
import { methodsNotKnown } from "../plan/methods/index.js";
import { assembleResults, type RunResults } from "../results/results.js";
import { writeFileAtomic, writeJsonAtomic } from "../results/files.js";
import { resultsTable } from "../results/table.js";
import { silentDisplay, type ProgressDisplay } from "../telemetry/progress.js";
import { subscribeTelemetry, type TelemetrySubscription } from "../telemetry/subscriber.js";
import { WorkerFiles } from "../worker/files.js";
import { WorkerPool, type PooledWorker } from "../worker/pool.js";
import { MAX_ATTEMPTS, runGraph, type JobRecord } from "./graph.js";
import { pipelineJobs, runLayout, type Stage } from "./jobs.js";
import { claimRunDirectory, relativeToRun } from "./run-directory.js";

export interface RunOptions {
  outDir?: string; // run directory; default plan.output.dir (runs/<name>)
  signal?: AbortSignal; // abort = cancel running jobs; the run directory stays resumable
  display?: ProgressDisplay; // default: silent
  pool?: WorkerPool; // reuse running workers instead of starting plan.workers
  fresh?: boolean; // ignore results of an earlier run in the same directory
}

export interface RunOutcome {
  results: RunResults;
  dir: string;
  table: string;
}

const STATE_FILE = "state.json";

function loadRecords(dir: string, fresh: boolean): Map<string, JobRecord> {
  const path = join(dir, STATE_FILE);
  if (fresh || !existsSync(path)) return new Map();
  try {
    return new Map(Object.entries(JSON.parse(readFileSync(path, "utf8")).jobs as Record<string, JobRecord>));
  } catch {
    return new Map(); // an unreadable state only costs recomputation
  }
}

/** Per worker, how its jobs see the run's files: the same paths, or copies moved over gRPC. */
function fileStaging(dir: string, logEvent: (event: Record<string, unknown>) => void): Stage {
  const views = new Map<PooledWorker, Promise<WorkerFiles>>();
  const viewOf = (worker: PooledWorker) => {
    let view = views.get(worker);
    if (!view) {
      view = (async () => {
        const wanted = worker.files ?? "shared";
        const sharing = wanted === "auto" ? await WorkerFiles.detect(worker.client, join(dir, "plan.resolved.json")) : wanted;
        if (sharing === "copy" && !worker.info.stagingDir) {
          throw new SparseSubError("WORKER_FAILED", `worker ${worker.name} does not share this machine's files and is too old to receive copies (no staging_dir in its info): update it`);
        }
        logEvent({ event: "worker_files", worker: worker.name, sharing, staging_dir: sharing === "copy" ? worker.info.stagingDir : undefined });
        return new WorkerFiles(worker, sharing, worker.info.stagingDir, dir, (moved, request) => {
          const wireId = (request as { jobId?: string }).jobId ?? "";
          logEvent({ event: "files_moved", job: wireId.slice(wireId.indexOf("/") + 1), worker: worker.name, ...moved }); // job id without the run id
        });
      })();
      views.set(worker, view);
    }
    return view;
  };
  return async (worker, request, call, outputFields) => (await viewOf(worker)).call(request, call, outputFields);
}

/** One events.jsonl line: `time` first, every field snake_case (protobuf messages spread in
 * arrive camelCase: `tokensPerSecond` is written `tokens_per_second`). */
function eventLine(event: Record<string, unknown>): string {
  const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const fields = Object.entries(event).filter(([, v]) => v !== undefined).map(([k, v]) => [snake(k), v]);
  return JSON.stringify({ time: new Date().toISOString(), ...Object.fromEntries(fields) }) + "\n";
}

export async function runPlan(planOrPath: LoadedPlan | string, options: RunOptions = {}): Promise<RunOutcome> {
  const loaded = typeof planOrPath === "string" ? loadPlan(planOrPath) : planOrPath;
  const { plan } = loaded;
  const display = options.display ?? silentDisplay;
  const dir = resolve(options.outDir ?? plan.output!.dir);
  checkLocalInputs(loaded, dir);
  const layout = runLayout(dir);
  const prepared = prepareCorpora(plan.languages, layout.corpora); // input problems surface here, before anything starts
  const corpora = prepared.corpora;
  const release = claimRunDirectory(dir); // a file, a folder of other files or another run's: refused here
  const warnings = languageCodeWarnings(plan);
  for (const warning of warnings) display.log(formatWarning(warning));
  // Nothing is written until the workers are up: a worker that cannot start leaves no files.
  const early: string[] = [];
  let logEvent = (event: Record<string, unknown>): void => {
    early.push(eventLine(event));
  };
  for (const warning of warnings) logEvent({ event: "plan_warning", ...warning });
  const onStderr = (worker: string, line: string) => logEvent({ event: "worker_log", worker, line });
  let pool: WorkerPool;
  try {
    pool = options.pool ?? (await WorkerPool.start(plan.workers, { onStderr }));
  } catch (error) {
    release({ removeIfEmpty: true });
    throw error;
  }
  try {
    return await execute();
  } finally {
    if (!options.pool) await pool.close(); // whatever fails below, local workers stop
    release();
  }

  async function execute(): Promise<RunOutcome> {
    for (const worker of pool.workers) {
      const missing = methodsNotKnown(plan.training.methods, worker.info.methods);
      if (missing.length > 0) {
        throw new SparseSubError("PLAN_INVALID", `worker ${worker.name} (sparse-sub worker ${worker.info.version}) cannot train ${missing.join(", ")}: update it`, {
          issues: missing.map((method) => ({ path: "training.methods", message: `'${method}' is unknown to worker ${worker.name}` })),
        });
      }
    }
    if (options.fresh) rmSync(join(dir, "checkpoints"), { recursive: true, force: true }); // fresh means from step 1 too
    prepared.write();
    writeJsonAtomic(join(dir, "plan.resolved.json"), plan);
    const eventsPath = join(dir, "events.jsonl");
    logEvent = (event) => appendFileSync(eventsPath, eventLine(event));
    for (const line of early) appendFileSync(eventsPath, line);

    const records = loadRecords(dir, options.fresh ?? false);
    const reused = new Set<string>();
    const startedAt = new Date();
    const runId = `${plan.name}-${startedAt.getTime().toString(36)}`;
    logEvent({ event: "run_started", run: plan.name, run_id: runId, resumed_jobs: records.size });

    const subscriptions = new Map<PooledWorker, TelemetrySubscription>();
    const telemetrySeen = new Set<string>(); // jobs whose live events arrive over ZeroMQ
    const follow = (worker: PooledWorker) => {
      // Telemetry is not authenticated, so a worker publishes it on its own loopback only: a remote
      // worker's progress arrives over the (authenticated) gRPC stream instead.
      if (worker.local === false || !worker.info.telemetryEndpoint) return; // none: `--telemetry off`
      subscriptions.get(worker)?.close();
      subscriptions.set(
        worker,
        subscribeTelemetry(worker.info.telemetryEndpoint, (topic, event) => {
          if (!topic.startsWith(`${runId}/`) || !event.progress) return;
          const jobId = topic.slice(runId.length + 1);
          telemetrySeen.add(jobId);
          display.update(jobId, event.progress);
          const { jobId: _wireId, ...progress } = event.progress;
          logEvent({ event: "progress", job: jobId, worker: worker.name, memory_used_bytes: event.memoryUsedBytes, ...progress });
        }),
      );
    };
    for (const worker of pool.workers) {
      display.log(`worker ${worker.name} at ${worker.client.address}: ${worker.info.device}, sparse-sub worker ${worker.info.version}`);
      follow(worker);
    }
    const stopFollowingLifecycle = pool.onLifecycle((event, worker) => {
      logEvent(event);
      if (event.event === "worker_rejoined") follow(worker); // a restarted local worker has a new endpoint
      const said =
        event.event === "worker_lost" ? (event.recovering ? "was lost; bringing it back" : "was lost")
        : event.event === "worker_rejoined" ? "is back"
        : `is gone for good: ${event.error}`;
      display.log(`worker ${worker.name} ${said}`);
    });

    let status: RunResults["status"] = "complete";
    let failure: unknown;
    const save = () => {
      writeJsonAtomic(join(dir, STATE_FILE), relativeToRun({ run: plan.name, jobs: Object.fromEntries(records) }, dir));
      const results = relativeToRun(assembleResults({
        plan,
        languages: corpora.map((c) => ({ code: c.code, name: c.name })),
        workers: pool.workers.map((w) => ({ name: w.name, address: w.client.address, info: w.info })),
        records,
        reused,
        startedAt,
        status,
        error: failure === undefined ? null : failure instanceof Error ? failure.message : String(failure),
      }), dir);
      writeJsonAtomic(join(dir, "results.json"), results);
      const table = resultsTable(results);
      writeFileAtomic(join(dir, "results.md"), table);
      return { results, table };
    };

    try {
      // The RPC stream carries the same progress: it drives the display only when telemetry does
      // not arrive (e.g. a remote worker whose ZeroMQ port is not forwarded).
      const onProgress = (jobId: string, progress: Progress) => {
        if (!telemetrySeen.has(jobId)) display.update(jobId, progress);
      };
      const jobs = pipelineJobs({ plan, corpora, layout, runId, onProgress, stage: fileStaging(dir, logEvent) });
      let finished = 0;
      display.jobs?.(finished, jobs.length);
      await runGraph(jobs, pool, records, {
        signal: options.signal,
        hooks: {
          onStart: (job, worker) => logEvent({ event: "job_started", job: job.id, worker: worker.name }),
          onFinish: (job, record, wasReused) => {
            if (wasReused) reused.add(job.id);
            logEvent({ event: "job_finished", job: job.id, worker: record.worker, seconds: record.seconds, reused: wasReused });
            display.finish(job.id, wasReused ? "reused from an earlier run" : `${record.seconds.toFixed(1)} s on ${record.worker}`);
            display.jobs?.(++finished, jobs.length);
            save(); // finished work is on disk before the next job can fail
          },
          onRetry: (job, worker, error, attempt) => {
            const message = error instanceof Error ? error.message : String(error);
            logEvent({ event: "job_retried", job: job.id, worker: worker.name, attempt, error: message });
            display.log(`[${job.id}] worker ${worker.name} was lost (${message}); ${attempt < MAX_ATTEMPTS ? "retrying" : "giving up"}`);
          },
          onFail: (job, error) => logEvent({ event: "job_failed", job: job.id, error: error instanceof Error ? error.message : String(error) }),
        },
      });
    } catch (error) {
      failure = error;
      status = error instanceof SparseSubError && error.code === "CANCELLED" ? "cancelled" : "failed";
    } finally {
      stopFollowingLifecycle();
      for (const subscription of subscriptions.values()) subscription.close();
      display.stop();
    }
    const { results, table } = save();
    logEvent({ event: "run_finished", status });
    if (failure !== undefined) throw failure;
    return { results, dir, table };
  }
}
