// A pool of workers, local processes and remote addresses alike. Jobs borrow a worker for
// their duration; one job per worker at a time (a worker owns one device).
import { SparseSubError } from "../errors.js";
import type { WorkerInfo } from "../gen/sparse_sub/v1/worker.js";
import { readFileSync } from "node:fs";
import { WorkerClient, type WorkerSecurity } from "./client.js";
import { startLocalWorker, type LocalWorker } from "./launch.js";

export interface PooledWorker {
  name: string; // "local-1" or the address
  client: WorkerClient; // replaced when a restarted local worker rejoins
  info: WorkerInfo;
  local?: boolean; // started by this pool on this machine (its telemetry endpoint is reachable here)
  pid?: number; // local workers: the process
  files?: "auto" | "shared" | "copy"; // whether it sees this machine's files (worker/files.ts); default shared
  /** Brings a lost worker back: restarts a local process, or waits for a remote one to answer. */
  recover?: () => Promise<void>;
}

/** The workers a pool starts or connects to (a plan's `workers` entries have this shape). */
export type WorkerSpec =
  | { local: true; python?: string; count: number; gpus?: number[]; gpus_per_worker: number; restarts: number; telemetry: boolean }
  | {
      address: string;
      token_file?: string;
      token_env: string;
      tls: boolean;
      ca_file?: string;
      files: "auto" | "shared" | "copy";
      reconnect_seconds: number;
    };

export interface PoolOptions {
  onStderr?: (worker: string, line: string) => void;
}

/** The credentials a remote worker spec names; a token file that cannot be read is an error. */
function securityOf(spec: RemoteSpec): WorkerSecurity {
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new SparseSubError("WORKER_UNREACHABLE", `worker ${spec.address}: cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
    }
  };
  const token = spec.token_file ? read(spec.token_file, "token_file").toString("utf8").trim() : process.env[spec.token_env] || undefined;
  return { token, tls: spec.tls, rootCert: spec.ca_file ? read(spec.ca_file, "ca_file") : undefined };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type WorkerLifecycleEvent =
  | { event: "worker_lost"; worker: string; recovering: boolean }
  | { event: "worker_rejoined"; worker: string; address: string }
  | { event: "worker_gone"; worker: string; error: string };

interface Waiter {
  take: (worker: PooledWorker) => void;
  fail: (error: Error) => void;
  fits: (worker: PooledWorker) => boolean;
  model?: string;
  passed: number; // times a later waiter got a freed worker first (bounded by MAX_PASSES)
}

/** How often a waiting job may be passed over for jobs on a worker's loaded model. */
export const MAX_PASSES = 16;

export class WorkerPool {
  private readonly idle: PooledWorker[];
  private readonly waiters: Waiter[] = [];
  private readonly holding = new Map<PooledWorker, string>(); // the model each worker's last job loaded
  private readonly down = new Set<PooledWorker>(); // lost, and not (yet) back
  private readonly recovering = new Set<PooledWorker>();
  private readonly listeners = new Set<(event: WorkerLifecycleEvent, worker: PooledWorker) => void>();
  private closed = false;

  private constructor(
    readonly workers: PooledWorker[],
    private readonly processes: Set<LocalWorker>,
  ) {
    this.idle = [...workers];
  }

  /** Starts local workers and connects to remote ones; on any failure, stops what it started. */
  static async start(specs: WorkerSpec[], options: PoolOptions = {}): Promise<WorkerPool> {
    const processes = new Set<LocalWorker>();
    const workers: PooledWorker[] = [];
    let pool: WorkerPool | undefined;
    const closed = () => pool?.closed ?? false;
    try {
      for (const [i, spec] of specs.entries()) {
        if ("local" in spec) workers.push(...(await startLocal(spec, i, processes, options, closed)));
        else workers.push(await connectRemote(spec, closed));
      }
    } catch (error) {
      for (const worker of workers) worker.client.close();
      await Promise.allSettled([...processes].map((p) => p.stop()));
      throw error;
    }
    pool = new WorkerPool(workers, processes);
    return pool;
  }

  /** A pool over workers that are already connected (the caller owns their lifetime). */
  static fromWorkers(workers: PooledWorker[]): WorkerPool {
    return new WorkerPool(workers, new Set());
  }

  /** Workers in service or on their way back. */
  get liveCount(): number {
    return this.workers.length - this.down.size + this.recovering.size;
  }

  /** Follows workers being lost, coming back, or given up on; returns an unsubscribe. */
  onLifecycle(listener: (event: WorkerLifecycleEvent, worker: PooledWorker) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Takes a worker that died or disconnected out of service. It comes back (restarted, or
   * reconnected) if it can; when no worker is left or coming, waiting jobs fail. */
  retire(worker: PooledWorker): void {
    if (this.down.has(worker)) return;
    this.down.add(worker);
    this.holding.delete(worker); // restarted, it holds no model
    const index = this.idle.indexOf(worker);
    if (index >= 0) this.idle.splice(index, 1);
    const recover = worker.recover;
    this.emit({ event: "worker_lost", worker: worker.name, recovering: recover !== undefined && !this.closed }, worker);
    if (recover && !this.closed) {
      this.recovering.add(worker);
      recover().then(
        () => {
          this.recovering.delete(worker);
          this.down.delete(worker);
          this.emit({ event: "worker_rejoined", worker: worker.name, address: worker.client.address }, worker);
          this.release(worker);
        },
        (error: unknown) => {
          this.recovering.delete(worker);
          this.emit({ event: "worker_gone", worker: worker.name, error: error instanceof Error ? error.message : String(error) }, worker);
          this.failWaitersIfNoneLeft();
        },
      );
    }
    this.failWaitersIfNoneLeft();
  }

  private emit(event: WorkerLifecycleEvent, worker: PooledWorker): void {
    for (const listener of this.listeners) listener(event, worker);
  }

  private failWaitersIfNoneLeft(): void {
    if (this.liveCount > 0) return;
    for (const waiter of this.waiters.splice(0)) waiter.fail(new SparseSubError("WORKER_UNREACHABLE", "every worker of the run is gone"));
  }

  /** Waits for a free worker; with `processes` > 1, one that sees that many GPUs (a CPU worker
   * runs any number of gloo processes). */
  acquire(signal?: AbortSignal, processes = 1, model?: string): Promise<PooledWorker> {
    const fits = (worker: PooledWorker) => processes <= 1 || !worker.info.accelerators || worker.info.accelerators >= processes;
    if (this.liveCount === 0) return Promise.reject(new SparseSubError("WORKER_UNREACHABLE", "every worker of the run is gone"));
    if (!this.workers.some(fits)) {
      const seen = this.workers.map((w) => `${w.name}: ${w.info.accelerators}`).join(", ");
      return Promise.reject(new SparseSubError("PLAN_INVALID", `a job needs ${processes} GPUs on one worker, and no worker of the run sees that many (${seen})`, {
        issues: [{ path: "training.methods[].processes", message: `${processes} is more GPUs than any worker has` }],
      }));
    }
    const holdsIt = this.idle.findIndex((w) => fits(w) && model !== undefined && this.holding.get(w) === model);
    const index = holdsIt >= 0 ? holdsIt : this.idle.findIndex(fits);
    if (index >= 0) return Promise.resolve(this.handOut(this.idle.splice(index, 1)[0], model));
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(new SparseSubError("CANCELLED", "cancelled while waiting for a worker"));
      };
      const settled = <T>(settle: (value: T) => void) => (value: T) => {
        signal?.removeEventListener("abort", onAbort);
        settle(value);
      };
      const waiter: Waiter = { take: settled((worker: PooledWorker) => resolve(this.handOut(worker, model))), fail: settled(reject), fits, model, passed: 0 };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(worker: PooledWorker): void {
    if (this.down.has(worker)) return;
    const at = this.nextWaiter(worker);
    if (at >= 0) this.waiters.splice(at, 1)[0].take(worker);
    else this.idle.push(worker);
  }

  /** The waiter a freed worker goes to: the first that fits it, unless a later one needs no
   * model or the model the worker holds (and the first has not been passed over too often). */
  private nextWaiter(worker: PooledWorker): number {
    const first = this.waiters.findIndex((w) => w.fits(worker));
    if (first < 0 || this.waiters[first].passed >= MAX_PASSES) return first;
    const held = this.holding.get(worker);
    const onHeldModel = (w: Waiter) => held === undefined || w.model === undefined || w.model === held; // a fresh worker loads anything
    if (onHeldModel(this.waiters[first])) return first;
    const preferred = this.waiters.findIndex((w, i) => i > first && w.fits(worker) && onHeldModel(w));
    if (preferred < 0) return first;
    for (const w of this.waiters.slice(first, preferred)) if (w.fits(worker)) w.passed += 1;
    return preferred;
  }

  private handOut(worker: PooledWorker, model: string | undefined): PooledWorker {
    if (model !== undefined) this.holding.set(worker, model);
    return worker;
  }

  /** Closes connections and stops every local worker process (and any restart under way). */
  async close(): Promise<void> {
    this.closed = true;
    for (const worker of this.workers) worker.client.close();
    await Promise.allSettled([...this.processes].map((p) => p.stop()));
  }
}

type LocalSpec = Extract<WorkerSpec, { local: true }>;
type RemoteSpec = Extract<WorkerSpec, { address: string }>;

/** One process per GPU, or per group of gpus_per_worker GPUs (pinned with CUDA_VISIBLE_DEVICES),
 * else `count` processes without pinning. */
function gpuGroups(spec: LocalSpec): (number[] | undefined)[] {
  const size = spec.gpus_per_worker;
  return spec.gpus
    ? Array.from({ length: spec.gpus.length / size }, (_, g) => spec.gpus!.slice(g * size, (g + 1) * size))
    : Array.from({ length: spec.count }, () => undefined);
}

/** The processes of one `local` entry, each restartable up to spec.restarts times. */
async function startLocal(spec: LocalSpec, index: number, processes: Set<LocalWorker>, options: PoolOptions, closed: () => boolean): Promise<PooledWorker[]> {
  const groups = gpuGroups(spec);
  const workers: PooledWorker[] = [];
  for (const [k, gpus] of groups.entries()) {
    const name = `local-${index + 1}${groups.length > 1 ? `.${k + 1}` : ""}${gpus === undefined ? "" : `-gpu${gpus.join("+")}`}`;
    const env = gpus === undefined ? undefined : { CUDA_VISIBLE_DEVICES: gpus.join(",") };
    const launch = async () => {
      const proc = await startLocalWorker({ python: spec.python, env, args: spec.telemetry === false ? ["--telemetry", "off"] : [], onStderr: (line) => options.onStderr?.(name, line) });
      processes.add(proc);
      const client = new WorkerClient(proc.address);
      await client.waitForReady();
      return { proc, client, info: await client.info() };
    };
    let { proc, client, info } = await launch();
    const worker: PooledWorker = { name, client, info, local: true, pid: proc.pid };
    let restarts = 0;
    worker.recover = async () => {
      if (restarts++ >= spec.restarts) throw new SparseSubError("WORKER_UNREACHABLE", `worker ${name} died ${restarts} times; not restarted again`);
      processes.delete(proc);
      await proc.stop(); // already dead, or hung: it goes
      ({ proc, client, info } = await launch());
      if (closed()) {
        await proc.stop();
        throw new SparseSubError("CANCELLED", "the pool closed while the worker restarted");
      }
      worker.client.close();
      Object.assign(worker, { client, info, pid: proc.pid });
    };
    workers.push(worker);
  }
  return workers;
}

/** A worker already running at an address; lost, it is waited for (bounded) to answer again. */
async function connectRemote(spec: RemoteSpec, closed: () => boolean): Promise<PooledWorker> {
  const client = new WorkerClient(spec.address, securityOf(spec));
  await client.waitForReady();
  const worker: PooledWorker = { name: spec.address, client, info: await client.info(), local: false, files: spec.files };
  worker.recover = async () => {
    // a rebooting box or a dropped connection
    const deadline = Date.now() + spec.reconnect_seconds * 1000;
    for (;;) {
      if (closed()) throw new SparseSubError("CANCELLED", "the pool closed while waiting for the worker");
      try {
        await worker.client.waitForReady(Math.max(1, Math.min(10_000, deadline - Date.now())));
        worker.info = await worker.client.info();
        return;
      } catch (error) {
        if (Date.now() >= deadline) throw error;
        await sleep(1_000);
      }
    }
  };
  return worker;
}
