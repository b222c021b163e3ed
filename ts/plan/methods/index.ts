// Training methods of a plan (docs/method.md §3): each entry of training.methods is one job per
// target language. One module per method; adding one is a module here and a line in METHODS.
import { z } from "zod";
import type { TrainRequest } from "../../gen/sparse_sub/v1/worker.js";
import type { MethodDefinition, OutputKind, TrainingContext } from "./definition.js";
import { ffn } from "./ffn.js";
import { full } from "./full.js";
import { ia3 } from "./ia3.js";
import { lora } from "./lora.js";
import { neuronLora } from "./neuron-lora.js";
import { random } from "./random.js";
import { sparse } from "./sparse.js";

export type { OutputKind } from "./definition.js";

const METHODS = [sparse, random, ffn, full, lora, ia3, neuronLora] as const;

type Schemas<T extends readonly { schema: z.ZodObject }[]> = { -readonly [K in keyof T]: T[K]["schema"] };
const schemas = METHODS.map((m) => m.schema) as unknown as Schemas<typeof METHODS>;

/** "sparse" is short for {"method": "sparse"}. */
export const MethodSpec = z.preprocess((value) => (typeof value === "string" ? { method: value } : value), z.discriminatedUnion("method", schemas));
export type MethodSpec = z.output<typeof MethodSpec>;
export type MethodName = MethodSpec["method"];
export const METHOD_NAMES = METHODS.map((m) => m.schema.shape.method.value) as MethodName[];

function definition(method: MethodName): MethodDefinition {
  return METHODS.find((m) => m.schema.shape.method.value === method)! as unknown as MethodDefinition;
}

/** Processes a method's training job runs (several only for whole-matrix methods). */
export const processesOf = (spec: MethodSpec): number => ("processes" in spec ? spec.processes : 1);

/** It trains the target's neuron set (and writes a pack). */
export const trainsNeurons = (method: MethodName): boolean => definition(method).trainsNeurons;

/** It trains exactly the neurons of the set it is given (transfer and selection search need one). */
export const trainsGivenNeurons = (method: MethodName): boolean => definition(method).trainsNeurons && !definition(method).drawsNeurons;

export const outputKind = (method: MethodName): OutputKind => definition(method).outputKind;

/** The method's name in job ids, file names and tables: `name`, else derived so that two
 * variants differ (sparse-up-down, random-per-layer). */
export function methodLabel(spec: MethodSpec): string {
  return spec.name ?? spec.method + (definition(spec.method).labelSuffix?.(spec) ?? "");
}

/** The method's fields of its TrainRequest. */
export function methodRequest(spec: MethodSpec, context: TrainingContext): Pick<TrainRequest, "method" | "settings" | "drawnNeuronSetPath"> {
  const d = definition(spec.method);
  return { method: d.wire, settings: undefined, drawnNeuronSetPath: "", ...d.fields?.(spec, context) };
}

/** The plan's methods a worker that reports `known` cannot train (none when it reports nothing:
 * a worker from before the report). */
export function methodsNotKnown(specs: MethodSpec[], known: readonly number[]): string[] {
  if (known.length === 0) return [];
  return [...new Set(specs.filter((spec) => !known.includes(definition(spec.method).wire)).map((spec) => spec.method))];
}

/** A method's enum on the wire. */
export const methodWire = (method: MethodName): number => definition(method).wire;
