// Starting a local worker process: the project's Python (py-worker/.venv) running
// `python -m sparse_sub_worker serve`, ready once it prints its READY line.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { execa, type Options as ExecaOptions, type ResultPromise } from "execa";
import { SparseSubError } from "../errors.js";
import { PACKAGE_ROOT } from "../package-info.js";

const READY_PREFIX = "SPARSE_SUB_WORKER_READY ";
const STDERR_TAIL_LINES = 40;

export interface LocalWorker {
  address: string; // HOST:PORT of its gRPC server
  telemetry: string; // its ZeroMQ PUB endpoint
  pid: number;
  stderrTail(): string;
  stop(): Promise<void>;
}

export interface LaunchOptions {
  python?: string; // interpreter; default: SPARSE_SUB_PYTHON, else py-worker/.venv/bin/python
  listen?: string; // default 127.0.0.1:0 (any free port)
  env?: Record<string, string>; // e.g. CUDA_VISIBLE_DEVICES
  readyTimeoutMs?: number; // importing torch + transformers takes seconds; default 180 s
  onStderr?: (line: string) => void;
  args?: string[]; // more `serve` flags, e.g. ["--token-file", path, "--data-root", dir]
}

/** The interpreter that runs workers. */
export function workerPython(explicit?: string): string {
  const python = explicit ?? process.env.SPARSE_SUB_PYTHON ?? join(PACKAGE_ROOT, "py-worker/.venv/bin/python");
  if (!existsSync(python) && python.includes("/")) {
    throw new SparseSubError("WORKER_START_FAILED", `worker Python not found at ${python}: run \`npm install\` to provision py-worker/.venv, or set SPARSE_SUB_PYTHON`);
  }
  return python;
}

/** `python -m sparse_sub_worker serve <args>` from the package's py-worker folder: the one way
 * a worker process starts (a run's local workers, and `sparse-sub worker serve`). */
export function spawnWorkerServe<O extends ExecaOptions>(serveArgs: string[], options: O & { python?: string; env?: Record<string, string> }) {
  const { python, env, ...rest } = options;
  return execa(workerPython(python), ["-u", "-m", "sparse_sub_worker", "serve", ...serveArgs], {
    cwd: join(PACKAGE_ROOT, "py-worker"),
    ...rest,
    env: { PYTHONPATH: join(PACKAGE_ROOT, "py-worker"), TOKENIZERS_PARALLELISM: "false", ...env },
  } as unknown as O);
}

export async function startLocalWorker(options: LaunchOptions = {}): Promise<LocalWorker> {
  const listen = options.listen ?? "127.0.0.1:0";
  const child: ResultPromise = spawnWorkerServe(["--listen", listen, "--exit-with-parent", ...(options.args ?? [])], {
    python: options.python,
    env: options.env,
    reject: false,
    buffer: false,
    stdin: "ignore",
    forceKillAfterDelay: 5_000,
    cleanup: true, // killed if the controller process exits
  });
  const tail: string[] = [];
  const stderrTail = () => tail.join("\n");
  child.stderr?.setEncoding("utf8");
  let partial = "";
  child.stderr?.on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      tail.push(line);
      if (tail.length > STDERR_TAIL_LINES) tail.shift();
      options.onStderr?.(line);
    }
  });

  const ready = new Promise<{ address: string; telemetry: string }>((resolve, reject) => {
    let buffered = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      buffered += chunk;
      const line = buffered.split("\n").find((l) => l.startsWith(READY_PREFIX));
      if (line) resolve(JSON.parse(line.slice(READY_PREFIX.length)));
    });
    child.then((result) =>
      reject(
        new SparseSubError("WORKER_START_FAILED", `worker process exited (code ${result.exitCode ?? result.signal}) before it was ready`, {
          details: stderrTail(),
        }),
      ),
    );
  });
  const timeoutMs = options.readyTimeoutMs ?? 180_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new SparseSubError("WORKER_START_FAILED", `worker was not ready after ${timeoutMs / 1000}s`, { details: stderrTail() })),
      timeoutMs,
    );
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await child;
  };
  try {
    const { address, telemetry } = await Promise.race([ready, timeout]);
    return { address, telemetry, pid: child.pid!, stderrTail, stop };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
