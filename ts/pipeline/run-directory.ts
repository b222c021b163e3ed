// The run directory: claimed before anything starts (never a file or a folder of the user's
// other files), and one run at a time. Node has no flock(), so the lock is a file created
// exclusively (O_EXCL) that names its owner; a lock whose owner process is gone (killed,
// crashed, SIGKILL) is stale and taken over, so it never outlives its run.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmdirSync, statSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join, sep } from "node:path";
import { SparseSubError } from "../errors.js";

export const LOCK_FILE = ".sparse-sub.lock";

interface LockOwner {
  pid: number;
  host: string;
  started: string;
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(path, "utf8")) as LockOwner;
    return Number.isInteger(owner.pid) ? owner : undefined;
  } catch {
    return undefined; // vanished, or caught between create and write: treat as held
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

/** Locks `dir` (which must exist) for this process; returns the release function. */
export function lockRunDirectory(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, "wx");
      try {
        writeSync(fd, JSON.stringify(me) + "\n");
      } finally {
        closeSync(fd);
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = readOwner(path);
      const stale = owner !== undefined && owner.host === me.host && !isAlive(owner.pid);
      if (!stale || attempt > 0) {
        const who = owner ? `pid ${owner.pid} on ${owner.host}, started ${owner.started}` : "a process that is starting";
        throw new SparseSubError(
          "RUN_LOCKED",
          `run directory ${dir} is in use by another sparse-sub run (${who}); wait for it to finish or stop it` +
            ` (if no such run exists, remove ${path})`,
        );
      }
      unlinkSync(path); // its owner is gone
    }
  }
  const release = () => {
    process.off("exit", release);
    if (readOwner(path)?.pid !== me.pid) return;
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  };
  process.on("exit", release); // also on process.exit() (a second Ctrl-C)
  return release;
}

/** Files that make a folder a sparse-sub run directory (any one of them). */
const RUN_MARKERS = ["state.json", "plan.resolved.json", "events.jsonl", "results.json", LOCK_FILE];

/**
 * Creates (or reuses) the run directory and locks it. Returns the release function; after a
 * failure before the run wrote anything, `release({ removeIfEmpty: true })` removes a folder it created.
 */
export function claimRunDirectory(dir: string): (options?: { removeIfEmpty?: boolean }) => void {
  let created = false;
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new SparseSubError("OUTPUT_INVALID", `run directory ${dir} is a file, not a folder: choose another --out`);
    const entries = readdirSync(dir);
    if (entries.length > 0 && !RUN_MARKERS.some((m) => entries.includes(m))) {
      throw new SparseSubError(
        "OUTPUT_INVALID",
        `run directory ${dir} holds other files (${entries.slice(0, 3).join(", ")}${entries.length > 3 ? ", ..." : ""}) and is not a sparse-sub run: choose another --out`,
      );
    }
  } else {
    mkdirSync(dir, { recursive: true });
    created = true;
  }
  const unlock = lockRunDirectory(dir);
  return ({ removeIfEmpty = false } = {}) => {
    unlock();
    if (removeIfEmpty && created && readdirSync(dir).length === 0) rmdirSync(dir);
  };
}

/**
 * `value` with every path inside `dir` written relative to it ("packs/af.sparse.safetensors",
 * "." for dir itself), so a run directory can be moved or copied and still resume.
 */
export function relativeToRun<T>(value: T, dir: string): T {
  const prefix = dir.endsWith(sep) ? dir : dir + sep;
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return v === dir ? "." : v.startsWith(prefix) ? v.slice(prefix.length) : v;
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}
