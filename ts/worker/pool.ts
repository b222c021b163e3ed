// A pool of workers, local processes and remote addresses alike. Jobs borrow a worker for
// their duration; one job per worker at a time (a worker owns one device).
import { SparseSubError } from "../errors.js";
import type { WorkerInfo } from "../gen/sparse_sub/v1/worker.js";
import type { WorkerSpec } from "../plan/schema.js";
import { readFileSync } from "node:fs";
import { WorkerClient, type WorkerSecurity } from "./client.js";
import { startLocalWorker, type LocalWorker } from "./launch.js";

export interface PooledWorker {
  name: string; // "local-1" or the address
  client: WorkerClient;
  info: WorkerInfo;
  local?: boolean; // started by this pool on this machine (its telemetry endpoint is reachable here)
  pid?: number; // local workers: the process
  files?: "auto" | "shared" | "copy"; // whether it sees this machine's files (worker/files.ts); default shared
}

/** The credentials a remote worker spec names; a token file that cannot be read is an error. */
function securityOf(spec: Extract<WorkerSpec, { address: string }>): WorkerSecurity {
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

export class WorkerPool {
  private readonly idle: PooledWorker[];
  private readonly waiters: ((worker: PooledWorker) => void)[] = [];

  private constructor(
    readonly workers: PooledWorker[],
    private readonly processes: LocalWorker[],
  ) {
    this.idle = [...workers];
  }

  /** Starts local workers and connects to remote ones; on any failure, stops what it started. */
  static async start(specs: WorkerSpec[], options: { onStderr?: (worker: string, line: string) => void } = {}): Promise<WorkerPool> {
    const processes: LocalWorker[] = [];
    const workers: PooledWorker[] = [];
    try {
      for (const [i, spec] of specs.entries()) {
        let address: string;
        let name: string;
        let security: WorkerSecurity = {};
        if ("local" in spec) {
          // one process per GPU (pinned with CUDA_VISIBLE_DEVICES), else `count` processes
          const devices: (number | undefined)[] = spec.gpus ?? Array.from({ length: spec.count }, () => undefined);
          for (const [k, gpu] of devices.entries()) {
            const localName = `local-${i + 1}${devices.length > 1 ? `.${k + 1}` : ""}${gpu === undefined ? "" : `-gpu${gpu}`}`;
            const env = gpu === undefined ? undefined : { CUDA_VISIBLE_DEVICES: String(gpu) };
            const local = await startLocalWorker({ python: spec.python, env, onStderr: (line) => options.onStderr?.(localName, line) });
            processes.push(local);
            const client = new WorkerClient(local.address);
            await client.waitForReady();
            workers.push({ name: localName, client, info: await client.info(), local: true, pid: local.pid });
          }
          continue;
        }
        address = spec.address;
        name = address;
        security = securityOf(spec);
        const client = new WorkerClient(address, security);
        await client.waitForReady();
        workers.push({ name, client, info: await client.info(), local: false, files: spec.files });
      }
    } catch (error) {
      for (const worker of workers) worker.client.close();
      await Promise.allSettled(processes.map((p) => p.stop()));
      throw error;
    }
    return new WorkerPool(workers, processes);
  }

  /** A pool over workers that are already connected (the caller owns their lifetime). */
  static fromWorkers(workers: PooledWorker[]): WorkerPool {
    return new WorkerPool(workers, []);
  }

  private readonly retired = new Set<PooledWorker>();
  private readonly rejecters = new Map<(worker: PooledWorker) => void, (error: Error) => void>();

  /** Workers not retired. */
  get liveCount(): number {
    return this.workers.length - this.retired.size;
  }

  /** Takes a worker that died out of service; when none is left, waiting jobs fail. */
  retire(worker: PooledWorker): void {
    this.retired.add(worker);
    const index = this.idle.indexOf(worker);
    if (index >= 0) this.idle.splice(index, 1);
    if (this.liveCount === 0) {
      for (const waiter of this.waiters.splice(0)) this.rejecters.get(waiter)?.(new SparseSubError("WORKER_UNREACHABLE", "every worker of the run is gone"));
    }
  }

  /** Waits for a free worker. */
  acquire(signal?: AbortSignal): Promise<PooledWorker> {
    if (this.liveCount === 0) return Promise.reject(new SparseSubError("WORKER_UNREACHABLE", "every worker of the run is gone"));
    const free = this.idle.shift();
    if (free) return Promise.resolve(free);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(new SparseSubError("CANCELLED", "cancelled while waiting for a worker"));
      };
      const waiter = (worker: PooledWorker) => {
        signal?.removeEventListener("abort", onAbort);
        this.rejecters.delete(waiter);
        resolve(worker);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.rejecters.set(waiter, (error) => {
        signal?.removeEventListener("abort", onAbort);
        reject(error);
      });
      this.waiters.push(waiter);
    });
  }

  release(worker: PooledWorker): void {
    if (this.retired.has(worker)) return;
    const waiter = this.waiters.shift();
    if (waiter) waiter(worker);
    else this.idle.push(worker);
  }

  /** Closes connections and stops every local worker process. */
  async close(): Promise<void> {
    for (const worker of this.workers) worker.client.close();
    await Promise.allSettled(this.processes.map((p) => p.stop()));
  }
}
