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
          name = `local-${i + 1}`;
          const local = await startLocalWorker({ python: spec.python, onStderr: (line) => options.onStderr?.(name, line) });
          processes.push(local);
          address = local.address;
        } else {
          address = spec.address;
          name = address;
          security = securityOf(spec);
        }
        const client = new WorkerClient(address, security);
        await client.waitForReady();
        workers.push({ name, client, info: await client.info(), local: "local" in spec });
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

  /** Waits for a free worker. */
  acquire(signal?: AbortSignal): Promise<PooledWorker> {
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
        resolve(worker);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(worker: PooledWorker): void {
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
