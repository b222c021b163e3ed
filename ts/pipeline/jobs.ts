// The pipeline's jobs: collect per language -> select -> train per (target, method) ->
// evaluate (base, and each trained method's artifact); deactivation and the atlas when asked. Each job builds its request with plan/requests.ts and
// returns what it produced; the files it writes live in the run directory.
import { join } from "node:path";
import { SparseSubError } from "../errors.js";
import type {
  AnalyzeWeightsResponse,
  CollectActivationsResult,
  ConvertNeuronSetResponse,
  EvaluateResult,
  SelectNeuronsResponse,
  TrainResult,
} from "../gen/sparse_sub/v1/worker.js";
import { methodLabel, outputKind, processesOf, trainsNeurons, type MethodSpec } from "../plan/methods/index.js";
import { analyzeRequest, collectRequest, evaluateRequest, importRequest, selectRequest, trainRequest, type Evaluated } from "../plan/requests.js";
import type { Plan } from "../plan/schema.js";
import { deactivationLanguages } from "../plan/deactivation.js";
import { jobIds } from "../ids.js";
import { atlasJobs } from "./atlas-jobs.js";
import { buildContext, corpusFiles, modelKey, type BuildContext, type NeuronSetJobs, type PipelineJobsOptions } from "./build-context.js";
import { deactivationJobs } from "./deactivation-jobs.js";
import { defineJob, type Job } from "./graph.js";

export { runLayout, type PipelineJobsOptions, type RunLayout, type Stage } from "./build-context.js";

/** How a trained artifact is scored. */
function evaluated(spec: MethodSpec, path: string): Evaluated {
  const kind = outputKind(spec.method);
  return kind === "pack" ? { pack: path } : kind === "peft_adapter" ? { adapter: path } : { modelDirectory: path };
}


export function pipelineJobs(options: PipelineJobsOptions): Job[] {
  const build = buildContext(options);
  const { plan } = options;
  const neurons = identificationJobs(build);
  const jobs: Job[] = [...neurons.jobs];
  // the base is scored when something compares with it: a trained method or a deactivation
  if (plan.training.targets.length > 0 || deactivationLanguages(plan).length > 0) jobs.push(baseEvaluationJob(build));
  jobs.push(...deactivationJobs(build, neurons));
  if (plan.atlas) jobs.push(...atlasJobs(build, neurons));
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
