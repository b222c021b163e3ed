// What every job builder of a run shares: the run directory's layout, the plan, the corpora,
// how a request is staged on a worker, and the key (fingerprint) that decides what a rerun reuses.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { LanguageCorpora } from "../plan/language-corpora.js";
import type { Corpus, ModelSpec, Progress } from "../gen/sparse_sub/v1/worker.js";
import { methodLabel, outputKind, type MethodSpec } from "../plan/methods/index.js";
import { modelSpec } from "../plan/requests.js";
import type { Plan } from "../plan/schema.js";
import { PACKAGE_VERSION } from "../package-info.js";
import type { PooledWorker } from "../worker/pool.js";
import type { Job } from "./graph.js";
import { relativeToRun } from "./run-directory.js";

export interface RunLayout {
  dir: string;
  corpora: string;
  activations: (language: string) => string;
  neurons: string;
  /** What a method's job writes: a pack file, a peft adapter directory or a model directory
   * (`label`: the job's label when it is not the method's own, e.g. a transfer's "sparse@af"). */
  trained: (language: string, spec: MethodSpec, label?: string) => string;
  drawnNeurons: (language: string, spec: MethodSpec, label?: string) => string;
  checkpoint: (language: string, spec: MethodSpec, label?: string) => string;
  /** Sets LAPE chose with one candidate's parameters (identification lists). */
  candidateNeurons: (candidate: string) => string;
  /** A candidate's short training for a target: its pack and checkpoint. */
  searchPack: (language: string, candidate: string) => string;
  searchCheckpoint: (language: string, candidate: string) => string;
  /** Sets LAPE chose over only a subset's languages (plan atlas.subsets). */
  subsetNeurons: (name: string) => string;
  atlas: string;
}

export function runLayout(dir: string): RunLayout {
  const folders = { pack: "packs", peft_adapter: "adapters", model_directory: "models" } as const;
  return {
    dir,
    corpora: join(dir, "corpora"),
    activations: (language) => join(dir, "activations", `${language}.safetensors`),
    neurons: join(dir, "neurons"),
    trained: (language, spec, label = methodLabel(spec)) => {
      const kind = outputKind(spec.method);
      return join(dir, folders[kind], `${language}.${label}${kind === "pack" ? ".safetensors" : ""}`);
    },
    drawnNeurons: (language, spec, label = methodLabel(spec)) => join(dir, "neurons", `${language}.${label}.json`),
    checkpoint: (language, spec, label = methodLabel(spec)) => join(dir, "checkpoints", `${language}.${label}.pt`),
    candidateNeurons: (candidate) => join(dir, "neurons", "candidates", candidate),
    searchPack: (language, candidate) => join(dir, "search", `${language}.${candidate}.safetensors`),
    searchCheckpoint: (language, candidate) => join(dir, "checkpoints", "search", `${language}.${candidate}.pt`),
    subsetNeurons: (name) => join(dir, "neurons", "subsets", name),
    atlas: join(dir, "atlas"),
  };
}

/** A stable fingerprint of the code version, a request (job id excluded) and the content of the
 * user's input files it names, for resume. Files made by earlier jobs are covered by chaining their keys.
 * Paths inside the run directory count relative to it: a moved or copied run still resumes. */
type Fingerprint = (request: object, inputFiles?: string[]) => string;

/** Results of another release of sparse-sub are not reused: its code may compute differently. */
const CODE_VERSION = `sparse-sub ${PACKAGE_VERSION}`;

function fingerprinter(runDir: string): Fingerprint {
  const contentHashes = new Map<string, string>(); // read each input once per run
  const contentHash = (path: string) => {
    let hash = contentHashes.get(path);
    if (hash === undefined) {
      hash = existsSync(path) ? createHash("sha256").update(readFileSync(path)).digest("hex") : "missing";
      contentHashes.set(path, hash);
    }
    return hash;
  };
  return (request, inputFiles = []) => {
    const { jobId: _ignored, ...rest } = request as { jobId?: string };
    const hash = createHash("sha256").update(CODE_VERSION).update(JSON.stringify(relativeToRun(rest, runDir)));
    for (const file of inputFiles) hash.update(`\0${relativeToRun(file, runDir)}\0${contentHash(file)}`);
    return hash.digest("hex").slice(0, 16);
  };
}

/** Names the model a job loads, for the pool's preference for workers already holding it. */
export const modelKey = (spec: ModelSpec | undefined) => JSON.stringify(spec ?? {});

/** The local text files a corpus reads (hub datasets have none). */
export function corpusFiles(...corpora: (Corpus | undefined)[]): string[] {
  return corpora.flatMap((c) => (c?.source?.$case === "textFiles" ? c.source.value.paths : []));
}

export interface PipelineJobsOptions {
  plan: Plan;
  corpora: LanguageCorpora[];
  layout: RunLayout;
  runId: string; // prefixes job ids sent to workers (telemetry topics)
  onProgress: (jobId: string, progress: Progress) => void;
  /** Makes a request's paths valid on the worker (copying files for one that does not share
   * this filesystem, see worker/files.ts); default: the same paths. */
  stage?: Stage;
}

export type Stage = <Q extends object, R>(worker: PooledWorker, request: Q, call: (request: Q) => Promise<R>, outputFields?: ReadonlySet<string>) => Promise<R>;
const samePaths: Stage = (_worker, request, call) => call(request);

/** What every job builder of one run shares. */
export interface BuildContext extends Required<Pick<PipelineJobsOptions, "plan" | "corpora" | "layout" | "stage">> {
  wireId: (id: string) => string;
  progress: (id: string) => (p: Progress) => void;
  fingerprint: Fingerprint;
  exists: (path: string) => boolean;
  baseModel: string;
  /** What every evaluation reads from the user: held-out text, task data and alignment files. */
  evaluationFiles: string[];
}

export function buildContext({ plan, corpora, layout, runId, onProgress, stage = samePaths }: PipelineJobsOptions): BuildContext {
  const alignment = plan.evaluation.alignment;
  return {
    plan,
    corpora,
    layout,
    stage,
    wireId: (id) => `${runId}/${id}`,
    progress: (id) => (p) => onProgress(id, p),
    fingerprint: fingerprinter(layout.dir),
    exists: (path) => existsSync(resolve(layout.dir, path)), // recorded paths are run-relative
    baseModel: modelKey(modelSpec(plan)),
    evaluationFiles: [
      ...corpusFiles(...corpora.map((c) => c.heldout)),
      ...plan.evaluation.tasks.flatMap((t) => (t.data && "files" in t.data ? t.data.files : [])),
      ...(typeof alignment === "object" ? Object.values(alignment.files) : []),
    ],
  };
}

/** Where each language's neuron set will be, which jobs make it, and which user files it reads. */
export interface NeuronSetJobs {
  jobs: Job[];
  path: (language: string) => string;
  deps: string[]; // the jobs that make every set
  depsOf: (language: string) => string[]; // the jobs that make this language's set
  userFiles: (language: string) => string[];
}

