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
  const run = new GraphRun(jobs, pool, records, options.hooks ?? {}, options.signal);
  await run.schedule();
  if (run.failure !== undefined) throw run.failure;
  if (options.signal?.aborted) throw new SparseSubError("CANCELLED", "cancelled");
  const missing = jobs.filter((j) => !run.done.has(j.id)).map((j) => j.id);
  if (missing.length > 0) throw new Error(`jobs never became ready: ${missing.join(", ")}`);
}

/** One pass over a graph: which jobs are done, started and running, and the first failure. */
class GraphRun {
  readonly done = new Set<string>();
  failure: unknown;
  private readonly started = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private readonly attempts = new Map<string, number>();
  // Workers of finished jobs go back to the pool only after the jobs they unblocked are queued,
  // so the pool can choose among all of them (pool.ts prefers a job on the worker's loaded model).
  private readonly freed: PooledWorker[] = [];
  private readonly internal = new AbortController();

  constructor(
    private readonly jobs: Job[],
    private readonly pool: WorkerPool,
    private readonly records: Map<string, JobRecord>,
    private readonly hooks: GraphHooks,
    private readonly outer: AbortSignal | undefined,
  ) {
    setMaxListeners(0, this.internal.signal); // every waiting job listens for cancellation
  }

  /** Starts jobs as their dependencies finish until none is running; returns once all stopped. */
  async schedule(): Promise<void> {
    const onOuterAbort = () => this.internal.abort(this.outer?.reason);
    this.outer?.addEventListener("abort", onOuterAbort, { once: true });
    try {
      for (;;) {
        this.reuseRecorded();
        if (this.failure === undefined && !this.internal.signal.aborted) {
          for (const job of this.jobs) if (!this.started.has(job.id) && this.ready(job)) this.launch(job);
        }
        this.releaseFreed();
        if (this.running.size === 0) break;
        await Promise.race(this.running);
      }
    } finally {
      this.releaseFreed();
      this.outer?.removeEventListener("abort", onOuterAbort);
    }
  }

  private ready(job: Job): boolean {
    return job.deps.every((d) => this.done.has(d));
  }

  // A job's inputs include its dependencies' outputs: chain their keys into its own.
  private keyOf(job: Job): string {
    return [job.key(), ...job.deps.map((d) => this.records.get(d)?.key ?? "?")].join("|");
  }

  /** Marks done every job whose recorded result still matches its inputs (in dependency order). */
  private reuseRecorded(): void {
    let progressed = true;
    while (progressed) {
      progressed = false;
      for (const job of this.jobs) {
        if (!this.started.has(job.id) && this.reusable(job)) {
          this.done.add(job.id);
          this.started.add(job.id);
          this.hooks.onFinish?.(job, this.records.get(job.id)!, true);
          progressed = true;
        }
      }
    }
  }

  private reusable(job: Job): boolean {
    const record = this.records.get(job.id);
    if (!record || !this.ready(job)) return false;
    try {
      return record.key === this.keyOf(job) && (!job.reusable || job.reusable(record.result));
    } catch {
      return false; // a result that no longer reads (old format) is recomputed
    }
  }

  private launch(job: Job): void {
    this.started.add(job.id);
    const task = this.attempt(job);
    this.running.add(task);
    void task.finally(() => this.running.delete(task));
  }

  /** Runs the job once on a pooled worker and records its result, or handles its failure. */
  private async attempt(job: Job): Promise<void> {
    let worker: PooledWorker | undefined;
    try {
      worker = await this.pool.acquire(this.internal.signal, job.processes, job.model);
      if (this.internal.signal.aborted) return;
      this.hooks.onStart?.(job, worker);
      const begin = performance.now();
      const result = await job.run({
        worker,
        signal: this.internal.signal,
        result: <T>(id: string) => this.records.get(id)!.result as T,
      });
      const record: JobRecord = {
        key: this.keyOf(job),
        result,
        worker: worker.name,
        seconds: (performance.now() - begin) / 1000,
        finishedAt: new Date().toISOString(),
      };
      this.records.set(job.id, record);
      this.done.add(job.id);
      this.hooks.onFinish?.(job, record, false);
    } catch (error) {
      if (worker && workerLost(error) && !this.internal.signal.aborted) {
        const retried = this.retry(job, worker, error);
        worker = undefined; // retired, not released
        if (retried) return;
      }
      this.fail(job, error);
    } finally {
      if (worker) this.freed.push(worker);
    }
  }

  /** The job's worker went away: retire it and, attempts and live workers allowing, requeue. */
  private retry(job: Job, worker: PooledWorker, error: unknown): boolean {
    const attempt = (this.attempts.get(job.id) ?? 0) + 1;
    this.attempts.set(job.id, attempt);
    this.pool.retire(worker); // the pool puts it back if it restarts or reconnects
    this.hooks.onRetry?.(job, worker, error, attempt);
    if (attempt >= MAX_ATTEMPTS || this.pool.liveCount === 0) return false;
    this.started.delete(job.id); // the scheduling loop starts it again on a live worker
    return true;
  }

  /** The first failure stops the run: nothing new starts and running jobs are cancelled. */
  private fail(job: Job, error: unknown): void {
    if (this.outer?.aborted) return; // the user cancelled: jobs stopping because of it did not fail
    if (this.failure === undefined) {
      this.failure = error;
      this.hooks.onFail?.(job, error);
    }
    this.internal.abort(error);
  }

  private releaseFreed(): void {
    for (const worker of this.freed.splice(0)) this.pool.release(worker);
  }
}
