// runPlan: plan -> corpora -> workers -> job graph -> run directory. Reads top to bottom:
// check inputs, set up, run, and always record what finished and shut workers down.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { prepareCorpora, type LanguageCorpora } from "../corpora/prepare.js";
import type { Progress } from "../gen/sparse_sub/v1/worker.js";
import { SparseSubError, formatWarning } from "../errors.js";
import { checkLocalInputs, languageCodeWarnings } from "../plan/checks.js";
import { loadPlan, type LoadedPlan } from "../plan/load.js";
import type { Plan } from "../plan/schema.js";
import { methodsNotKnown } from "../plan/methods/index.js";
import { assembleResults, type RunResults } from "../results/results.js";
import { writeFileAtomic, writeJsonAtomic } from "../atomic-files.js";
import { resultsTable } from "../results/table.js";
import { REPORT_FILE, writeReport } from "../report/report.js";
import { silentDisplay, type ProgressDisplay } from "../telemetry/progress.js";
import { WorkerFiles } from "../worker/files.js";
import { WorkerPool, type PooledWorker } from "../worker/pool.js";
import { MAX_ATTEMPTS, runGraph, type JobRecord } from "./graph.js";
import { pipelineJobs, runLayout, type Stage } from "./jobs.js";
import { EventLog } from "./event-log.js";
import { claimRunDirectory, relativeToRun } from "./run-directory.js";
import { followTelemetry } from "./telemetry-follower.js";

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

export async function runPlan(planOrPath: LoadedPlan | string, options: RunOptions = {}): Promise<RunOutcome> {
  const loaded = typeof planOrPath === "string" ? loadPlan(planOrPath) : planOrPath;
  const { plan } = loaded;
  const display = options.display ?? silentDisplay;
  const dir = resolve(options.outDir ?? plan.output!.dir);
  checkLocalInputs(loaded, dir);
  const layout = runLayout(dir);
  const prepared = prepareCorpora(plan.languages, layout.corpora); // input problems surface here, before anything starts
  const release = claimRunDirectory(dir); // a file, a folder of other files or another run's: refused here
  const events = new EventLog(); // nothing is written until the workers are up: a worker that cannot start leaves no files
  for (const warning of languageCodeWarnings(plan)) {
    display.log(formatWarning(warning));
    events.log({ event: "plan_warning", ...warning });
  }
  let pool: WorkerPool;
  try {
    pool = options.pool ?? (await WorkerPool.start(plan.workers, { onStderr: (worker, line) => events.log({ event: "worker_log", worker, line }) }));
  } catch (error) {
    release({ removeIfEmpty: true });
    throw error;
  }
  try {
    checkWorkerMethods(plan, pool);
    if (options.fresh) rmSync(join(dir, "checkpoints"), { recursive: true, force: true }); // fresh means from step 1 too
    prepared.write();
    writeJsonAtomic(join(dir, "plan.resolved.json"), plan);
    events.open(join(dir, "events.jsonl"));
    return await runJobs({ plan, dir, layout, corpora: prepared.corpora, pool, display, events, options });
  } finally {
    if (!options.pool) await pool.close(); // whatever fails below, local workers stop
    release();
  }
}

/** A method the plan trains must be one every worker knows. */
function checkWorkerMethods(plan: Plan, pool: WorkerPool): void {
  for (const worker of pool.workers) {
    const missing = methodsNotKnown(plan.training.methods, worker.info.methods);
    if (missing.length > 0) {
      throw new SparseSubError("PLAN_INVALID", `worker ${worker.name} (sparse-sub worker ${worker.info.version}) cannot train ${missing.join(", ")}: update it`, {
        issues: missing.map((method) => ({ path: "training.methods", message: `'${method}' is unknown to worker ${worker.name}` })),
      });
    }
  }
}

interface RunContext {
  plan: Plan;
  dir: string;
  layout: ReturnType<typeof runLayout>;
  corpora: LanguageCorpora[];
  pool: WorkerPool;
  display: ProgressDisplay;
  events: EventLog;
  options: RunOptions;
}

/** The job graph of the plan on the pool; state.json, results.json and results.md saved after
 * every finished job and at the end, whatever the end. */
async function runJobs({ plan, dir, layout, corpora, pool, display, events, options }: RunContext): Promise<RunOutcome> {
  const log = events.log;
  const records = loadRecords(dir, options.fresh ?? false);
  const reused = new Set<string>();
  const startedAt = new Date();
  const runId = `${plan.name}-${startedAt.getTime().toString(36)}`;
  log({ event: "run_started", run: plan.name, run_id: runId, resumed_jobs: records.size });
  const telemetry = followTelemetry(pool, runId, display, log);

  let status: RunResults["status"] = "complete";
  let failure: unknown;
  const save = () => saveRun(dir, records, assembleResults({
    plan,
    languages: corpora.map((c) => ({ code: c.code, name: c.name })),
    workers: pool.workers.map((w) => ({ name: w.name, address: w.client.address, info: w.info })),
    records,
    reused,
    startedAt,
    status,
    error: failure === undefined ? null : failure instanceof Error ? failure.message : String(failure),
  }));

  try {
    // The RPC stream carries the same progress: it drives the display only when telemetry does
    // not arrive (e.g. a remote worker whose ZeroMQ port is not forwarded).
    const onProgress = (jobId: string, progress: Progress) => {
      if (!telemetry.seen.has(jobId)) display.update(jobId, progress);
    };
    const jobs = pipelineJobs({ plan, corpora, layout, runId, onProgress, stage: fileStaging(dir, log) });
    let finished = 0;
    display.jobs?.(finished, jobs.length);
    await runGraph(jobs, pool, records, {
      signal: options.signal,
      hooks: {
        onStart: (job, worker) => log({ event: "job_started", job: job.id, worker: worker.name }),
        onFinish: (job, record, wasReused) => {
          if (wasReused) reused.add(job.id);
          log({ event: "job_finished", job: job.id, worker: record.worker, seconds: record.seconds, reused: wasReused });
          display.finish(job.id, wasReused ? "reused from an earlier run" : `${record.seconds.toFixed(1)} s on ${record.worker}`);
          display.jobs?.(++finished, jobs.length);
          save(); // finished work is on disk before the next job can fail
        },
        onRetry: (job, worker, error, attempt) => {
          const message = error instanceof Error ? error.message : String(error);
          log({ event: "job_retried", job: job.id, worker: worker.name, attempt, error: message });
          display.log(`[${job.id}] worker ${worker.name} was lost (${message}); ${attempt < MAX_ATTEMPTS ? "retrying" : "giving up"}`);
        },
        onFail: (job, error) => log({ event: "job_failed", job: job.id, error: error instanceof Error ? error.message : String(error) }),
      },
    });
  } catch (error) {
    failure = error;
    status = error instanceof SparseSubError && error.code === "CANCELLED" ? "cancelled" : "failed";
  } finally {
    telemetry.stop();
    display.stop();
  }
  const { results, table } = save();
  try {
    writeReport(dir); // the page of what exists, whatever the end
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    display.log(`sparse-sub: could not write ${REPORT_FILE} (${message}); \`sparse-sub report ${dir}\` tries again`);
    log({ event: "report_failed", error: message });
  }
  log({ event: "run_finished", status });
  if (failure !== undefined) throw failure;
  return { results, dir, table };
}

/** state.json (what a rerun reuses), results.json and results.md, paths relative to the run. */
function saveRun(dir: string, records: Map<string, JobRecord>, assembled: RunResults): { results: RunResults; table: string } {
  writeJsonAtomic(join(dir, STATE_FILE), relativeToRun({ run: assembled.run, jobs: Object.fromEntries(records) }, dir));
  const results = relativeToRun(assembled, dir);
  writeJsonAtomic(join(dir, "results.json"), results);
  const table = resultsTable(results);
  writeFileAtomic(join(dir, "results.md"), table);
  return { results, table };
}
