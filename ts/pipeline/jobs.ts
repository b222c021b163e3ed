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
import { analyzeRequest, collectRequest, componentRequest, evaluateRequest, importRequest, selectRequest, trainRequest, type Evaluated } from "../plan/requests.js";
import { searchesSelection } from "../plan/selection-search.js";
import { shareComponents, trainings, type Training } from "../plan/trainings.js";
import { selectionSearchJobs } from "./selection-search-jobs.js";
import type { Plan } from "../plan/schema.js";
import { deactivationLanguages } from "../plan/deactivation.js";
import { jobIds } from "../ids.js";
import { atlasJobs } from "./atlas-jobs.js";
import { buildContext, corpusFiles, modelKey, type BuildContext, type NeuronSetJobs, type PipelineJobsOptions } from "./build-context.js";
import { deactivationJobs } from "./deactivation-jobs.js";
import { steeringJobs } from "./steering-jobs.js";
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
  jobs.push(...steeringJobs(build, neurons));
  if (plan.atlas) jobs.push(...atlasJobs(build, neurons));
  // Scoring a trained model directory loads another model: those jobs are listed last, so that
  // jobs ready at the same moment on the base model go first (fewer model swaps on a worker).
  const modelDirectoryEvaluations: Job[] = [];
  for (const training of trainings(plan)) {
    const method = methodJobs(build, training, neurons);
    jobs.push(...method.jobs);
    (outputKind(training.spec.method) === "model_directory" ? modelDirectoryEvaluations : jobs).push(method.evaluation);
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

/** One method on one target (on the target's neurons, or another language's: a transfer): its
 * training, the weight analysis (if asked), its evaluation and its per-component evaluations. */
function methodJobs(build: BuildContext, { target, spec, neuronsOf, label }: Training, neurons: NeuronSetJobs): { jobs: Job[]; evaluation: Job } {
  const { plan, corpora, layout, wireId, progress, fingerprint, stage, exists, baseModel, evaluationFiles } = build;
  const language = corpora.find((c) => c.code === target)!;
  const trainId = jobIds.train(target, label);
  const output = layout.trained(target, spec, label);
  const outputs = { outputPath: output, drawnNeuronSetPath: layout.drawnNeurons(target, spec, label), checkpointPath: layout.checkpoint(target, spec, label) };
  const usesNeurons = trainsNeurons(spec.method);
  const setPath = neurons.path(neuronsOf);
  const setDeps = usesNeurons ? neurons.depsOf(neuronsOf) : [];
  const training = () => trainRequest(plan, wireId(trainId), language, spec, setPath, outputs);
  const jobs: Job[] = [defineJob<TrainResult>({
    id: trainId,
    processes: processesOf(spec),
    model: baseModel,
    deps: setDeps,
    key: () => fingerprint(training(), [...corpusFiles(language.train, language.heldout), ...(usesNeurons ? neurons.userFiles(neuronsOf) : [])]),
    reusable: (r) => exists(r.outputPath),
    run: ({ worker, signal }) => stage(worker, training(), (r) => worker.client.train(r, { signal, onProgress: progress(trainId) })),
  })];

  if (plan.evaluation.weight_change) {
    const analyzeId = jobIds.analyze(target, label);
    const analysis = (jobId: string) => analyzeRequest(plan, jobId, evaluated(spec, output), setPath);
    jobs.push(defineJob<AnalyzeWeightsResponse>({
      id: analyzeId,
      deps: [trainId, ...neurons.depsOf(neuronsOf)],
      model: baseModel,
      key: () => fingerprint(analysis(""), neurons.userFiles(neuronsOf)),
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
  for (const component of shareComponents(plan, spec)) {
    const id = jobIds.evaluateComponent(target, label, component);
    const request = (jobId: string) => componentRequest(plan, jobId, corpora, target, output, component);
    jobs.push(defineJob<EvaluateResult>({
      id,
      deps: [trainId],
      model: baseModel,
      key: () => fingerprint(request(""), corpusFiles(language.heldout)),
      run: ({ worker, signal }) => stage(worker, request(wireId(id)), (r) => worker.client.evaluate(r, { signal, onProgress: progress(id) })),
    }));
  }
  return { jobs, evaluation };
}

const IMPORT_OUTPUTS: ReadonlySet<string> = new Set(["neuronSetPaths"]);

/** The jobs that produce neuron sets: collect + LAPE select, or an import of a reference file,
 * or none (JSON files given). */
function identificationJobs(build: BuildContext): NeuronSetJobs {
  const { plan, layout } = build;
  const given = plan.neuron_sets;
  if (given && "files" in given) return { jobs: [], path: (language) => given.files[language], deps: [], depsOf: () => [], userFiles: (language) => [given.files[language]] };
  const inRunDir = (language: string) => join(layout.neurons, `${language}.json`);
  if (given) return { jobs: [importJob(build, given)], path: inRunDir, deps: [jobIds.importNeurons], depsOf: () => [jobIds.importNeurons], userFiles: () => [] };
  if (searchesSelection(plan.identification)) {
    const search = selectionSearchJobs(build);
    return { jobs: [...collectJobs(build), ...search.jobs], ...search.neurons };
  }
  return { jobs: [...collectJobs(build), selectionJob(build)], path: inRunDir, deps: [jobIds.select], depsOf: () => [jobIds.select], userFiles: () => [] };
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

/** Activation counts per language. */
function collectJobs({ plan, corpora, layout, wireId, progress, fingerprint, stage, exists, baseModel }: BuildContext): Job[] {
  return corpora.map((language) => {
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
}

/** One LAPE selection over every language's counts. */
function selectionJob({ plan, corpora, layout, wireId, fingerprint, stage, exists }: BuildContext): Job {
  const countsFiles = corpora.map((c) => ({ language: c.code, path: layout.activations(c.code) }));
  const selection = () => selectRequest(plan, wireId(jobIds.select), countsFiles, layout.neurons);
  return defineJob<SelectNeuronsResponse>({
    id: jobIds.select,
    deps: corpora.map((c) => jobIds.collect(c.code)),
    key: () => fingerprint(selection()),
    reusable: (r) => r.neuronSets.every((s) => exists(s.path)),
    run: ({ worker }) => stage(worker, selection(), (r) => worker.client.selectNeurons(r)),
  });
}
