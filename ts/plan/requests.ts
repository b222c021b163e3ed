// Pure functions from a validated plan to protobuf requests: the only place plan fields map
// onto the worker protocol.
import { join } from "node:path";
import {
  ConvertNeuronSetRequest,
  ConvertNeuronSetRequest_Direction,
  type CollectActivationsRequest,
  type AlignmentRequest,
  type AnalyzeWeightsRequest,
  type EvaluateRequest,
  type ModelSpec,
  type SelectNeuronsRequest,
  SteerRequest_Mode,
  type SteerRequest,
  type TrainRequest,
} from "../gen/sparse_sub/v1/worker.js";
import type { LanguageCorpora } from "./language-corpora.js";
import { methodRequest, processesOf, trainsNeurons, type MethodSpec } from "./methods/index.js";
import { taskRequests } from "./tasks.js";
import type { Plan } from "./schema.js";
import { selectionCandidates, type SelectionCandidate } from "./selection-search.js";
import type { SteeringRun } from "./steering.js";

export function modelSpec(plan: Plan): ModelSpec {
  const { source, gguf_file, dtype, device, revision, add_bos } = plan.model;
  return { source, ggufFile: gguf_file, dtype, device, revision, addBos: String(add_bos) };
}

export function collectRequest(plan: Plan, jobId: string, corpora: LanguageCorpora, outputPath: string): CollectActivationsRequest {
  const id = plan.identification!; // set whenever collection runs (no neuron_sets)
  return {
    jobId,
    model: modelSpec(plan),
    language: corpora.code,
    corpus: corpora.train,
    maxTokens: id.max_tokens,
    sequenceLength: id.sequence_length === "model_max" ? 0 : id.sequence_length, // 0: the worker uses the model's maximum
    batchSize: id.batch_size,
    outputPath,
    activeSums: plan.evaluation.steering?.mode === "mean", // mean active values: only what mean-mode steering reads
  };
}

/** LAPE over `counts` with one candidate's parameters (default: the plan's only one). */
export function selectRequest(
  plan: Plan,
  jobId: string,
  counts: { language: string; path: string }[],
  outputDir: string,
  candidate: SelectionCandidate = selectionCandidates(plan.identification!)[0],
): SelectNeuronsRequest {
  return { jobId, counts, topRate: candidate.top_rate, filterRate: candidate.filter_rate, activationBarRatio: candidate.activation_bar_ratio, outputDir };
}

/** Where a train job's files go (see RunLayout). */
export interface TrainOutputs {
  outputPath: string;
  drawnNeuronSetPath: string; // random only
  checkpointPath: string; // resumable state while the job runs
}

export function trainRequest(
  plan: Plan,
  jobId: string,
  corpora: LanguageCorpora,
  spec: MethodSpec,
  neuronSetPath: string,
  outputs: TrainOutputs,
): TrainRequest {
  const t = plan.training;
  const usesNeurons = trainsNeurons(spec.method);
  return {
    jobId,
    model: modelSpec(plan),
    language: corpora.code,
    neuronSetPath: usesNeurons ? neuronSetPath : "",
    trainCorpus: corpora.train,
    validationCorpus: corpora.heldout,
    config: {
      learningRate: spec.learning_rate,
      weightDecay: spec.weight_decay,
      maxGradNorm: spec.max_grad_norm,
      batchSize: t.batch_size,
      gradientAccumulationSteps: t.gradient_accumulation_steps,
      sequenceLength: t.sequence_length,
      maxTokens: t.max_tokens,
      epochs: t.epochs,
      maxSteps: t.max_steps,
      validateEvery: t.validate_every,
      seed: t.seed,
      components: "components" in spec ? spec.components : [],
      gradientCheckpointing: spec.gradient_checkpointing,
      checkpointEvery: t.checkpoint_every,
      processes: processesOf(spec),
      parallel: "parallel" in spec ? spec.parallel : "",
    },
    outputPath: outputs.outputPath,
    ...methodRequest(spec, { seed: t.seed, drawnNeuronSetPath: outputs.drawnNeuronSetPath }),
    checkpointPath: outputs.checkpointPath,
  };
}

/** A candidate selection's short training (training.selection_search): the plan's training on
 * the target's text for `steps` steps, validated at the end, the same for every candidate. */
export function searchTrainRequest(plan: Plan, jobId: string, corpora: LanguageCorpora, spec: MethodSpec, neuronSetPath: string, outputs: TrainOutputs): TrainRequest {
  const steps = plan.training.selection_search!.steps;
  const request = trainRequest(plan, jobId, corpora, spec, neuronSetPath, outputs);
  return { ...request, config: { ...request.config!, maxSteps: steps, validateEvery: steps } };
}

/** Imports a reference torch.save file as one JSON neuron set per language into `outputDir`. */
export function importRequest(reference: { reference_file: string; languages: string[] }, outputDir: string): ConvertNeuronSetRequest {
  return {
    direction: ConvertNeuronSetRequest_Direction.DIRECTION_IMPORT,
    referencePath: reference.reference_file,
    languages: reference.languages,
    neuronSetPaths: reference.languages.map((code) => join(outputDir, `${code}.json`)),
    numLayers: 0,
  };
}

/** What an evaluation scores: the base model, or the base with a pack or peft adapter
 * applied, or a trained model directory (ffn / full). */
export type Evaluated = { base: true } | { pack: string } | { adapter: string } | { modelDirectory: string };

/** Scores every plan language that has held-out text on the `evaluated` model, plus the plan's
 * benchmark tasks and alignment. */
export function evaluateRequest(plan: Plan, jobId: string, corpora: LanguageCorpora[], evaluated: Evaluated): EvaluateRequest {
  const model = "modelDirectory" in evaluated ? { ...modelSpec(plan), source: evaluated.modelDirectory, ggufFile: "", revision: "" } : modelSpec(plan);
  const udhrFiles = (code: string) => {
    const files = corpora.find((c) => c.code === code)?.udhrTasks;
    return { translation: files?.translation ?? "", reading: files?.reading ?? "" };
  };
  return {
    jobId,
    model,
    packPath: "pack" in evaluated ? evaluated.pack : "",
    adapterPath: "adapter" in evaluated ? evaluated.adapter : "",
    sets: corpora.filter((c) => c.heldout).map((c) => ({ language: c.code, corpus: c.heldout })),
    sequenceLength: plan.evaluation.sequence_length,
    batchSize: plan.evaluation.batch_size,
    tasks: taskRequests(plan.evaluation.tasks, plan.training.targets, udhrFiles),
    alignment: alignmentRequests(plan, udhrFiles),
    packComponents: [],
  };
}

function alignmentRequests(plan: Plan, udhrFiles: (code: string) => { translation: string }): AlignmentRequest[] {
  const alignment = plan.evaluation.alignment;
  if (alignment === false) return [];
  return plan.training.targets.map((language) =>
    alignment === "flores"
      ? { language, files: [], limit: 0, floresSplit: "dev" }
      : alignment === true
        ? { language, files: [udhrFiles(language).translation], limit: 0, floresSplit: "" }
        : { language, files: [alignment.files[language]], limit: alignment.limit, floresSplit: "" },
  );
}

/** Held-out perplexity of every language with one neuron set switched off (or its random
 * same-size control): the base evaluation's text and packing, without tasks or alignment. */
export function deactivationRequest(plan: Plan, jobId: string, corpora: LanguageCorpora[], neuronSetPath: string, random: boolean): EvaluateRequest {
  const deactivation = plan.evaluation.deactivation;
  const seed = typeof deactivation === "object" ? deactivation.seed : 0;
  return {
    ...evaluateRequest(plan, jobId, corpora, { base: true }),
    tasks: [],
    alignment: [],
    deactivate: { neuronSetPath, randomSameSize: random, seed: random ? seed : 0 },
  };
}

/** Greedy generations from openings of `from`'s held-out text (its training text when it has
 * none), base and with `from`'s neurons off and `to`'s pushed up. */
export function steerRequest(plan: Plan, jobId: string, corpora: LanguageCorpora[], run: SteeringRun, sets: { off: string; boost: string; boostCounts: string }): SteerRequest {
  const steering = plan.evaluation.steering!;
  const source = corpora.find((c) => c.code === run.from)!;
  const mean = steering.mode === "mean";
  return {
    jobId,
    model: modelSpec(plan),
    prompts: [],
    offNeuronSetPath: sets.off,
    boostNeuronSetPath: sets.boost,
    strength: run.strength,
    maxNewTokens: steering.max_new_tokens,
    batchSize: plan.evaluation.batch_size,
    mode: mean ? SteerRequest_Mode.MODE_MEAN : SteerRequest_Mode.MODE_ADD,
    boostCountsPath: mean ? sets.boostCounts : "",
    promptCorpus: source.heldout ?? source.train,
    promptCount: steering.prompts,
    promptWords: steering.prompt_words,
    randomSameSize: run.control === "random",
    seed: run.control === "random" ? steering.seed : 0,
  };
}

/** The target's held-out perplexity with only one component of a pack applied (the others at base). */
export function componentRequest(plan: Plan, jobId: string, corpora: LanguageCorpora[], target: string, pack: string, component: string): EvaluateRequest {
  return {
    ...evaluateRequest(plan, jobId, corpora.filter((c) => c.code === target), { pack }),
    tasks: [],
    alignment: [],
    packComponents: [component],
  };
}

/** JSON sets -> one reference torch.save file (List[language][layer] -> LongTensor), in `languages` order. */
export function exportRequest(languages: string[], neuronSetPaths: string[], referencePath: string, numLayers: number): ConvertNeuronSetRequest {
  return { direction: ConvertNeuronSetRequest_Direction.DIRECTION_EXPORT, referencePath, languages, neuronSetPaths, numLayers };
}

/** Where a method moved the MLP weights, measured over the target's neurons. */
export function analyzeRequest(plan: Plan, jobId: string, evaluated: Evaluated, neuronSetPath: string): AnalyzeWeightsRequest {
  const artifact: AnalyzeWeightsRequest["artifact"] =
    "pack" in evaluated
      ? { $case: "packPath", value: evaluated.pack }
      : "adapter" in evaluated
        ? { $case: "adapterPath", value: evaluated.adapter }
        : "modelDirectory" in evaluated
          ? { $case: "modelDirectory", value: evaluated.modelDirectory }
          : undefined;
  return { jobId, model: modelSpec(plan), artifact, neuronSetPath };
}
