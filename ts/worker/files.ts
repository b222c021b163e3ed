// How a worker sees the controller's files. A worker on this machine, or on a filesystem shared
// with it, reads the same paths. Any other worker gets copies: before a job, every file or
// folder its request names that exists here is sent to the worker's staging folder (only when
// missing or different there), the request names the copies, and after the job what it wrote
// into the run directory comes back here. Results therefore always name files on this machine.
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readdirSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { isAbsolute, join, posix, relative, resolve, sep } from "node:path";
import type { WorkerClient } from "./client.js";

// Request fields that name files or folders, and those a job writes (never sent, fetched back
// after the job): marked in worker.proto, the same marks the worker's data-root check reads.
import { OUTPUT_FIELDS, PATH_FIELDS } from "../gen/sparse_sub/v1/path-fields.js";

export { OUTPUT_FIELDS };

export type FileSharing = "shared" | "copy";

export interface TransferStats {
  sent: number; // files sent to the worker
  sentBytes: number;
  received: number; // files fetched from the worker
  receivedBytes: number;
}

const localChecksums = new Map<string, { size: number; mtimeMs: number; sha256: string }>();

async function sha256Of(path: string): Promise<string> {
  const stat = statSync(path);
  const cached = localChecksums.get(path);
  if (cached && cached.size === stat.size && cached.mtimeMs === stat.mtimeMs) return cached.sha256;
  const digest = createHash("sha256");
  for await (const block of createReadStream(path)) digest.update(block as Buffer);
  const sha256 = digest.digest("hex");
  localChecksums.set(path, { size: stat.size, mtimeMs: stat.mtimeMs, sha256 });
  return sha256;
}

/** Regular files under a local folder (links to files count, as in a Hugging Face snapshot). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((rel) => statSync(join(dir, rel)).isFile())
    .map((rel) => rel.split(sep).join("/"))
    .sort();
}

/** `value` with every string replaced by `map(field, text)`, `field` being the name of the
 * field that holds it (a oneof member `{ $case: "adapterPath", value }` counts as its $case). */
function mapStrings(value: unknown, map: (field: string, text: string) => string, field = ""): unknown {
  if (typeof value === "string") return map(field, value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map, field));
  if (value && typeof value === "object" && !(value instanceof Uint8Array)) {
    const oneof = "$case" in value ? String(value.$case) : undefined;
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, map, oneof && key === "value" ? oneof : key)]));
  }
  return value;
}

const inside = (dir: string, path: string) => {
  const rel = relative(dir, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
};

/**
 * A worker's view of the controller's files for one run. `runDir` is where jobs write: a path
 * there that does not exist yet is an output. A path elsewhere that does not exist here is the
 * worker's own (e.g. data that lives only on the GPU box) and is passed unchanged.
 */
export class WorkerFiles {
  private readonly confirmed = new Map<string, string>(); // worker path -> sha256 known to be there
  private readonly root: string;

  constructor(
    private readonly worker: { readonly client: WorkerClient }, // its client changes when it restarts
    readonly sharing: FileSharing,
    stagingDir: string,
    private readonly runDir: string,
    private readonly onMoved: (moved: TransferStats, request: object) => void = () => {},
  ) {
    // one folder per controller machine, mirroring its absolute paths: no two files collide
    this.root = posix.join(stagingDir, hostname() || "controller");
  }

  /** "shared" when the worker sees `probe` (a file of the run directory) with the same content. */
  static async detect(client: WorkerClient, probe: string): Promise<FileSharing> {
    try {
      const there = await client.statFile(probe);
      return there.exists && there.sha256 === (await sha256Of(probe)) ? "shared" : "copy";
    } catch {
      return "copy"; // e.g. the path is outside the worker's data root
    }
  }

  /** Where the worker keeps its copy of a local path. */
  workerPath(localPath: string): string {
    return posix.join(this.root, ...resolve(localPath).split(sep));
  }

  /** Runs `call` with the request's paths made valid on the worker, moving files both ways.
   * `outputFields` overrides which fields the job writes (e.g. neuronSetPaths of an import). */
  async call<Q extends object, R>(request: Q, call: (request: Q) => Promise<R>, outputFields: ReadonlySet<string> = OUTPUT_FIELDS): Promise<R> {
    if (this.sharing === "shared") return call(request);
    const inputs = new Set<string>();
    const outputs = new Set<string>();
    // ModelSpec.source names a path too when it is one (hub ids do not exist here)
    const mapped = mapStrings(request, (field, path) => {
      if (!(PATH_FIELDS.has(field) || field === "source") || !isAbsolute(path)) return path;
      const here = existsSync(path);
      if (outputFields.has(field) || (!here && inside(this.runDir, path))) outputs.add(path);
      else if (here) inputs.add(path);
      else return path; // the worker's own
      return this.workerPath(path);
    }) as Q;
    const moved: TransferStats = { sent: 0, sentBytes: 0, received: 0, receivedBytes: 0 };
    try {
      for (const path of inputs) await this.send(path, moved);
      const result = await call(mapped);
      for (const path of outputs) await this.fetch(path, moved);
      // every string that names a staged copy names the local file instead
      const prefix = this.root + "/";
      return mapStrings(result, (_field, text) => (text.startsWith(prefix) ? sep + text.slice(prefix.length).split("/").join(sep) : text)) as R;
    } finally {
      if (moved.sent || moved.received) this.onMoved(moved, request);
    }
  }

  /** Copies a local file or folder to the worker, skipping files it already holds. */
  private async send(localPath: string, moved: TransferStats): Promise<void> {
    const files = statSync(localPath).isDirectory() ? filesUnder(localPath).map((rel) => join(localPath, rel)) : [localPath];
    for (const file of files) {
      const target = this.workerPath(file);
      const sha256 = await sha256Of(file);
      if (this.confirmed.get(target) === sha256) continue;
      const there = await this.worker.client.statFile(target);
      if (!(there.exists && there.sha256 === sha256)) {
        const written = await this.worker.client.uploadFile(file, target, sha256);
        moved.sent += 1;
        moved.sentBytes += written.size;
      }
      this.confirmed.set(target, sha256);
    }
  }

  /** Copies what the worker wrote at (its copy of) `localPath` back here, if anything. */
  private async fetch(localPath: string, moved: TransferStats): Promise<void> {
    const source = this.workerPath(localPath);
    const there = await this.worker.client.statFile(source);
    if (!there.exists) return;
    const files = there.isDirectory
      ? (await this.worker.client.listFiles(source)).files.map((f) => f.path)
      : [""];
    for (const rel of files) {
      const local = rel ? join(localPath, ...rel.split("/")) : localPath;
      const remote = rel ? posix.join(source, rel) : source;
      if (existsSync(local) && statSync(local).isFile()) {
        const stat = rel ? await this.worker.client.statFile(remote) : there;
        if (stat.sha256 === (await sha256Of(local))) {
          this.confirmed.set(remote, stat.sha256);
          continue;
        }
      }
      const got = await this.worker.client.downloadFile(remote, local);
      moved.received += 1;
      moved.receivedBytes += got.size;
      this.confirmed.set(remote, got.sha256);
    }
  }
}
