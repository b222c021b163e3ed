// The job graph: jobs with dependencies, run on a worker pool as soon as their inputs exist
// and a worker is free. A completed job is recorded (with a key of its inputs) so that a
// rerun over the same run directory skips it: Ctrl-C leaves a resumable run.
import { setMaxListeners } from "node:events";
import { SparseSubError } from "../errors.js";
import type { PooledWorker, WorkerPool } from "../worker/pool.js";

export interface Job<T = unknown> {
  id: string; // unique, stable across runs: "collect:af"
  deps: string[];
  /** Identifies the job's inputs; a recorded result is reused only when the key matches. */
  key: () => string;
  run: (context: JobContext) => Promise<T>;
  /** Processes (GPUs of one worker) the job needs; default 1. */
  processes?: number;
  /** The model the job loads on its worker (any string naming it): a freed worker goes first to
   * a waiting job on the model it already holds, since loading another model can take minutes. */
  model?: string;
  /** Whether a recorded result is still usable (e.g. its output files exist). */
  reusable?: (result: T) => boolean;
}

/** Erases a job's result type so jobs of different kinds share one list. */
export function defineJob<T>(job: Job<T>): Job {
  return job as unknown as Job;
}

export interface JobContext {
  worker: PooledWorker;
  signal: AbortSignal;
  result<T>(jobId: string): T; // a dependency's result
}

export interface JobRecord {
  key: string;
  result: unknown;
  worker: string;
  seconds: number;
  finishedAt: string;
}

/** Attempts a job gets when the worker running it dies or disconnects (then it fails). */
export const MAX_ATTEMPTS = 3;

/** The worker went away under the job (killed, rebooted, network): worth retrying elsewhere. */
const workerLost = (error: unknown) => error instanceof SparseSubError && error.code === "WORKER_UNREACHABLE";

export interface GraphHooks {
  onRetry?: (job: Job, worker: PooledWorker, error: unknown, attempt: number) => void;
  onStart?: (job: Job, worker: PooledWorker) => void;
  onFinish?: (job: Job, record: JobRecord, reused: boolean) => void;
  onFail?: (job: Job, error: unknown) => void;
}

/** Checks ids are unique, deps exist and there is no cycle. */
export function validateGraph(jobs: Job[]): void {
  const ids = new Set<string>();
  for (const job of jobs) {
    if (ids.has(job.id)) throw new Error(`duplicate job id ${job.id}`);
    ids.add(job.id);
  }
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const state = new Map<string, "visiting" | "done">();
  const visit = (id: string, path: string[]) => {
    if (state.get(id) === "done") return;
    if (state.get(id) === "visiting") throw new Error(`job graph has a cycle: ${[...path, id].join(" -> ")}`);
    const job = byId.get(id);
    if (!job) throw new Error(`job ${path.at(-1)} depends on unknown job ${id}`);
    state.set(id, "visiting");
    for (const dep of job.deps) visit(dep, [...path, id]);
    state.set(id, "done");
  };
  for (const job of jobs) visit(job.id, []);
}

/**
 * Runs every job. `records` holds earlier completed jobs (resume) and receives new ones as
 * they finish. On the first failure no new job starts, running ones are cancelled, and the
 * failure is thrown once they have stopped; finished records stay.
 */
export async function runGraph(
  jobs: Job[],
  pool: WorkerPool,
  records: Map<string, JobRecord>,
  options: { signal?: AbortSignal; hooks?: GraphHooks } = {},
): Promise<void> {
  validateGraph(jobs);
  const hooks = options.hooks ?? {};
  const internal = new AbortController();
  setMaxListeners(0, internal.signal); // every waiting job listens for cancellation
  const onOuterAbort = () => internal.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  const done = new Set<string>();
  const started = new Set<string>();
  const running = new Set<Promise<void>>();
  // Workers of finished jobs go back to the pool only after the jobs they unblocked are queued,
  // so the pool can choose among all of them (pool.ts prefers a job on the worker's loaded model).
  const freed: PooledWorker[] = [];
  const releaseFreed = () => {
    for (const worker of freed.splice(0)) pool.release(worker);
  };
  const attempts = new Map<string, number>();
  let failure: unknown;

  const resultOf = <T>(id: string) => records.get(id)!.result as T;
  // A job's inputs include its dependencies' outputs: chain their keys into its own.
  const keyOf = (job: Job) => [job.key(), ...job.deps.map((d) => records.get(d)?.key ?? "?")].join("|");

  // Reuse recorded results whose inputs did not change (walk in dependency order).
  const reuse = (job: Job): boolean => {
    const record = records.get(job.id);
    if (!record || !job.deps.every((d) => done.has(d))) return false;
    try {
      if (record.key !== keyOf(job) || (job.reusable && !job.reusable(record.result))) return false;
    } catch {
      return false;
    }
    done.add(job.id);
    started.add(job.id);
    hooks.onFinish?.(job, record, true);
    return true;
  };

  const launch = (job: Job) => {
    started.add(job.id);
    const task = (async () => {
      let worker: PooledWorker | undefined;
      try {
        worker = await pool.acquire(internal.signal, job.processes, job.model);
        if (internal.signal.aborted) return;
        hooks.onStart?.(job, worker);
        const begin = performance.now();
        const result = await job.run({ worker, signal: internal.signal, result: resultOf });
        const record: JobRecord = {
          key: keyOf(job),
          result,
          worker: worker.name,
          seconds: (performance.now() - begin) / 1000,
          finishedAt: new Date().toISOString(),
        };
        records.set(job.id, record);
        done.add(job.id);
        hooks.onFinish?.(job, record, false);
      } catch (error) {
        if (worker && workerLost(error) && !internal.signal.aborted) {
          const attempt = (attempts.get(job.id) ?? 0) + 1;
          attempts.set(job.id, attempt);
          pool.retire(worker); // not released: the pool puts it back if it restarts or reconnects
          hooks.onRetry?.(job, worker, error, attempt);
          worker = undefined;
          if (attempt < MAX_ATTEMPTS && pool.liveCount > 0) {
            started.delete(job.id); // the scheduling loop starts it again on a live worker
            return;
          }
        }
        if (options.signal?.aborted) return; // the user cancelled: jobs stopping because of it did not fail
        if (failure === undefined) {
          failure = error;
          hooks.onFail?.(job, error);
        }
        internal.abort(error);
      } finally {
        if (worker) freed.push(worker);
      }
    })();
    running.add(task);
    void task.finally(() => running.delete(task));
  };

  try {
    for (;;) {
      let progressed = true;
      while (progressed) {
        progressed = false;
        for (const job of jobs) if (!started.has(job.id) && reuse(job)) progressed = true;
      }
      if (failure === undefined && !internal.signal.aborted) {
        for (const job of jobs) {
          if (!started.has(job.id) && job.deps.every((d) => done.has(d))) launch(job);
        }
      }
      releaseFreed();
      if (running.size === 0) break;
      await Promise.race(running);
    }
  } finally {
    releaseFreed();
    options.signal?.removeEventListener("abort", onOuterAbort);
  }
  if (failure !== undefined) throw failure;
  if (options.signal?.aborted) throw new SparseSubError("CANCELLED", "cancelled");
  const missing = jobs.filter((j) => !done.has(j.id)).map((j) => j.id);
  if (missing.length > 0) throw new Error(`jobs never became ready: ${missing.join(", ")}`);
}
