// The pipeline's jobs: collect per language -> select -> train per (target, method) ->
// evaluate (base, and each trained method's artifact). Each job builds its request with plan/requests.ts and
// returns what it produced; the files it writes live in the run directory.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { LanguageCorpora } from "../plan/language-corpora.js";
import { SparseSubError } from "../errors.js";
import type {
  AnalyzeWeightsResponse,
  CollectActivationsResult,
  ConvertNeuronSetResponse,
  Corpus,
  EvaluateResult,
  ModelSpec,
  Progress,
  SelectNeuronsResponse,
  TrainResult,
} from "../gen/sparse_sub/v1/worker.js";
import { methodLabel, outputKind, processesOf, trainsNeurons, type MethodSpec } from "../plan/methods/index.js";
import { analyzeRequest, collectRequest, evaluateRequest, importRequest, modelSpec, selectRequest, trainRequest, type Evaluated } from "../plan/requests.js";
import type { Plan } from "../plan/schema.js";
import { jobIds } from "../ids.js";
import { PACKAGE_VERSION } from "../package-info.js";
import type { PooledWorker } from "../worker/pool.js";
import { defineJob, type Job } from "./graph.js";
import { relativeToRun } from "./run-directory.js";

export interface RunLayout {
  dir: string;
  corpora: string;
  activations: (language: string) => string;
  neurons: string;
  /** What a method's job writes: a pack file, a peft adapter directory or a model directory. */
  trained: (language: string, spec: MethodSpec) => string;
  drawnNeurons: (language: string, spec: MethodSpec) => string;
  checkpoint: (language: string, spec: MethodSpec) => string;
}

export function runLayout(dir: string): RunLayout {
  const folders = { pack: "packs", peft_adapter: "adapters", model_directory: "models" } as const;
  return {
    dir,
    corpora: join(dir, "corpora"),
    activations: (language) => join(dir, "activations", `${language}.safetensors`),
    neurons: join(dir, "neurons"),
    trained: (language, spec) => {
      const kind = outputKind(spec.method);
      return join(dir, folders[kind], `${language}.${methodLabel(spec)}${kind === "pack" ? ".safetensors" : ""}`);
    },
    drawnNeurons: (language, spec) => join(dir, "neurons", `${language}.${methodLabel(spec)}.json`),
    checkpoint: (language, spec) => join(dir, "checkpoints", `${language}.${methodLabel(spec)}.pt`),
  };
}

/** How a trained artifact is scored. */
function evaluated(spec: MethodSpec, path: string): Evaluated {
  const kind = outputKind(spec.method);
  return kind === "pack" ? { pack: path } : kind === "peft_adapter" ? { adapter: path } : { modelDirectory: path };
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
const modelKey = (spec: ModelSpec | undefined) => JSON.stringify(spec ?? {});

/** The local text files a corpus reads (hub datasets have none). */
function corpusFiles(...corpora: (Corpus | undefined)[]): string[] {
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

export function pipelineJobs(options: PipelineJobsOptions): Job[] {
  const build = buildContext(options);
  const { plan } = options;
  const neurons = identificationJobs(build);
  const jobs: Job[] = [...neurons.jobs, baseEvaluationJob(build)];
  // Scoring a trained model directory loads another model: those jobs are listed last, so that
  // jobs ready at the same moment on the base model go first (fewer model swaps on a worker).
  const modelDirectoryEvaluations: Job[] = [];
  for (const target of plan.training.targets) {
    for (const spec of plan.training.methods) {
      const method = methodJobs(build, target, spec, neurons);
      jobs.push(...method.jobs);
      (outputKind(spec.method) === "model_directory" ? modelDirectoryEvaluations : jobs).push(method.evaluation);
    }
  }
  jobs.push(...modelDirectoryEvaluations);
  return jobs;
}

/** What every job builder of one run shares. */
interface BuildContext extends Required<Pick<PipelineJobsOptions, "plan" | "corpora" | "layout" | "stage">> {
  wireId: (id: string) => string;
  progress: (id: string) => (p: Progress) => void;
  fingerprint: Fingerprint;
  exists: (path: string) => boolean;
  baseModel: string;
  /** What every evaluation reads from the user: held-out text, task data and alignment files. */
  evaluationFiles: string[];
}

function buildContext({ plan, corpora, layout, runId, onProgress, stage = samePaths }: PipelineJobsOptions): BuildContext {
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

function baseEvaluationJob({ plan, corpora, wireId, progress, fingerprint, stage, baseModel, evaluationFiles }: BuildContext): Job {
  const id = jobIds.evaluateBase;
  const scoring = (jobId: string) => evaluateRequest(plan, jobId, corpora, { base: true });
  return defineJob<EvaluateResult>({
    id,
    deps: [],
    model: baseModel,
    key: () => fingerprint(scoring(""), evaluationFiles),
    run: ({ worker, signal }) => stage(worker, scoring(wireId(id)), (r) => worker.client.evaluate(r, { signal, onProgress: progress(id) })),
  });
}

/** One method on one target: its training, the weight analysis (if asked) and its evaluation. */
function methodJobs(build: BuildContext, target: string, spec: MethodSpec, neurons: NeuronSetJobs): { jobs: Job[]; evaluation: Job } {
  const { plan, corpora, layout, wireId, progress, fingerprint, stage, exists, baseModel, evaluationFiles } = build;
  const language = corpora.find((c) => c.code === target)!;
  const label = methodLabel(spec);
  const trainId = jobIds.train(target, label);
  const output = layout.trained(target, spec);
  const outputs = { outputPath: output, drawnNeuronSetPath: layout.drawnNeurons(target, spec), checkpointPath: layout.checkpoint(target, spec) };
  const usesNeurons = trainsNeurons(spec.method);
  const training = () => trainRequest(plan, wireId(trainId), language, spec, neurons.path(target), outputs);
  const jobs: Job[] = [defineJob<TrainResult>({
    id: trainId,
    processes: processesOf(spec),
    model: baseModel,
    deps: usesNeurons ? neurons.deps : [],
    key: () => fingerprint(training(), [...corpusFiles(language.train, language.heldout), ...(usesNeurons ? neurons.userFiles(target) : [])]),
    reusable: (r) => exists(r.outputPath),
    run: ({ worker, signal }) => stage(worker, training(), (r) => worker.client.train(r, { signal, onProgress: progress(trainId) })),
  })];

  if (plan.evaluation.weight_change) {
    const analyzeId = jobIds.analyze(target, label);
    const analysis = (jobId: string) => analyzeRequest(plan, jobId, evaluated(spec, output), neurons.path(target));
    jobs.push(defineJob<AnalyzeWeightsResponse>({
      id: analyzeId,
      deps: [trainId, ...neurons.deps],
      model: baseModel,
      key: () => fingerprint(analysis(""), neurons.userFiles(target)),
      run: ({ worker }) => stage(worker, analysis(wireId(analyzeId)), (r) => worker.client.analyzeWeights(r)),
    }));
  }

  const evalId = jobIds.evaluateTrained(target, label);
  const scoring = (jobId: string) => evaluateRequest(plan, jobId, corpora, evaluated(spec, output));
  const evaluation = defineJob<EvaluateResult>({
    id: evalId,
    deps: [trainId],
    model: modelKey(scoring("").model),
    key: () => fingerprint(scoring(""), evaluationFiles),
    run: ({ worker, signal }) => stage(worker, scoring(wireId(evalId)), (r) => worker.client.evaluate(r, { signal, onProgress: progress(evalId) })),
  });
  return { jobs, evaluation };
}

const IMPORT_OUTPUTS: ReadonlySet<string> = new Set(["neuronSetPaths"]);

/** Where each language's neuron set will be, which jobs make it, and which user files it reads. */
interface NeuronSetJobs {
  jobs: Job[];
  path: (language: string) => string;
  deps: string[];
  userFiles: (language: string) => string[];
}

/** The jobs that produce neuron sets: collect + LAPE select, or an import of a reference file,
 * or none (JSON files given). */
function identificationJobs(build: BuildContext): NeuronSetJobs {
  const { plan, layout } = build;
  const given = plan.neuron_sets;
  if (given && "files" in given) return { jobs: [], path: (language) => given.files[language], deps: [], userFiles: (language) => [given.files[language]] };
  const inRunDir = (language: string) => join(layout.neurons, `${language}.json`);
  if (given) return { jobs: [importJob(build, given)], path: inRunDir, deps: [jobIds.importNeurons], userFiles: () => [] };
  return { jobs: selectionJobs(build), path: inRunDir, deps: [jobIds.select], userFiles: () => [] };
}

type ReferenceNeuronSets = Exclude<NonNullable<Plan["neuron_sets"]>, { files: unknown }>;

function importJob({ plan, layout, fingerprint, stage, exists }: BuildContext, given: ReferenceNeuronSets): Job {
  const request = importRequest(given, layout.neurons);
  return defineJob<ConvertNeuronSetResponse>({
    id: jobIds.importNeurons,
    deps: [],
    key: () => fingerprint(request, [given.reference_file]),
    reusable: (r) => r.neuronSets.every((s) => exists(s.path)),
    run: async ({ worker }) => {
      const response = await stage(worker, request, (r) => worker.client.convertNeuronSet(r), IMPORT_OUTPUTS);
      const missing = plan.training.targets.filter((t) => response.missingLanguages.includes(t));
      if (missing.length > 0) {
        throw new SparseSubError("PLAN_INVALID", `${given.reference_file} holds no neurons for ${missing.join(", ")}`, {
          issues: [{ path: "neuron_sets.languages", message: `no neurons for ${missing.join(", ")} (the reference drops trailing languages without neurons)` }],
        });
      }
      return response;
    },
  });
}

/** Activation counts per language, then one LAPE selection over all of them. */
function selectionJobs({ plan, corpora, layout, wireId, progress, fingerprint, stage, exists, baseModel }: BuildContext): Job[] {
  const jobs = corpora.map((language) => {
    const id = jobIds.collect(language.code);
    const request = () => collectRequest(plan, wireId(id), language, layout.activations(language.code));
    return defineJob<CollectActivationsResult>({
      id,
      deps: [],
      model: baseModel,
      key: () => fingerprint(request(), corpusFiles(language.train)),
      reusable: (r) => exists(r.outputPath),
      run: ({ worker, signal }) => stage(worker, request(), (r) => worker.client.collectActivations(r, { signal, onProgress: progress(id) })),
    });
  });
  const countsFiles = corpora.map((c) => ({ language: c.code, path: layout.activations(c.code) }));
  const selection = () => selectRequest(plan, wireId(jobIds.select), countsFiles, layout.neurons);
  jobs.push(defineJob<SelectNeuronsResponse>({
    id: jobIds.select,
    deps: corpora.map((c) => jobIds.collect(c.code)),
    key: () => fingerprint(selection()),
    reusable: (r) => r.neuronSets.every((s) => exists(s.path)),
    run: ({ worker }) => stage(worker, selection(), (r) => worker.client.selectNeurons(r)),
  }));
  return jobs;
}
