// Pure functions from a validated plan to protobuf requests: the only place plan fields map
// onto the worker protocol.
import { join } from "node:path";
import {
  ConvertNeuronSetRequest,
  ConvertNeuronSetRequest_Direction,
  type CollectActivationsRequest,
  type EvaluateRequest,
  type ModelSpec,
  type SelectNeuronsRequest,
  type TrainRequest,
} from "../gen/sparse_sub/v1/worker.js";
import type { LanguageCorpora } from "../corpora/prepare.js";
import type { Plan } from "./schema.js";

export function modelSpec(plan: Plan): ModelSpec {
  const { source, gguf_file, dtype, device, revision } = plan.model;
  return { source, ggufFile: gguf_file, dtype, device, revision };
}

export function collectRequest(plan: Plan, jobId: string, corpora: LanguageCorpora, outputPath: string): CollectActivationsRequest {
  const id = plan.identification!; // set whenever collection runs (no neuron_sets)
  return {
    jobId,
    model: modelSpec(plan),
    language: corpora.code,
    corpus: corpora.train,
    maxTokens: id.max_tokens,
    sequenceLength: id.sequence_length,
    batchSize: id.batch_size,
    outputPath,
  };
}

export function selectRequest(plan: Plan, jobId: string, counts: { language: string; path: string }[], outputDir: string): SelectNeuronsRequest {
  const id = plan.identification!;
  return { jobId, counts, topRate: id.top_rate, filterRate: id.filter_rate, activationBarRatio: id.activation_bar_ratio, outputDir };
}

export function trainRequest(plan: Plan, jobId: string, corpora: LanguageCorpora, neuronSetPath: string, outputPath: string): TrainRequest {
  const t = plan.training;
  return {
    jobId,
    model: modelSpec(plan),
    language: corpora.code,
    neuronSetPath,
    trainCorpus: corpora.train,
    validationCorpus: corpora.heldout,
    config: {
      learningRate: t.learning_rate,
      weightDecay: t.weight_decay,
      maxGradNorm: t.max_grad_norm,
      batchSize: t.batch_size,
      gradientAccumulationSteps: t.gradient_accumulation_steps,
      sequenceLength: t.sequence_length,
      maxTokens: t.max_tokens,
      epochs: t.epochs,
      maxSteps: t.max_steps,
      validateEvery: t.validate_every,
      seed: t.seed,
      components: t.components,
    },
    outputPath,
  };
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

/** Scores every plan language that has held-out text, with `packPath` applied ("" = base). */
export function evaluateRequest(plan: Plan, jobId: string, corpora: LanguageCorpora[], packPath: string): EvaluateRequest {
  return {
    jobId,
    model: modelSpec(plan),
    packPath,
    sets: corpora.filter((c) => c.heldout).map((c) => ({ language: c.code, corpus: c.heldout })),
    sequenceLength: plan.evaluation.sequence_length,
    batchSize: plan.evaluation.batch_size,
  };
}
