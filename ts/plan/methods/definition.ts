// What every training method declares (one module per method in this folder, registered in
// index.ts): its plan schema, its enum on the wire, what its job writes, and its own settings
// sub-message of TrainRequest. Nothing outside this folder tests a method by name.
import { z } from "zod";
import type { Method, TrainRequest } from "../../gen/sparse_sub/v1/worker.js";

/** What a method's job writes. */
export type OutputKind = "pack" | "peft_adapter" | "model_directory";

export const COMPONENTS = ["gate", "up", "down"] as const;
export const MLP_MODULES = ["gate_proj", "up_proj", "down_proj"];

/** Fields every method has: the optimiser (AdamW, no schedule) and how it runs. */
export const common = (lr: number, clip: number, checkpointing = false) => ({
  // names the method's jobs and files; default derived from the method (see methodLabel)
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "use lowercase letters, digits and '-' (it names files)").optional(),
  learning_rate: z.number().positive().default(lr),
  weight_decay: z.number().nonnegative().default(0.01),
  max_grad_norm: z.number().nonnegative().default(clip), // 0 = no clipping
  gradient_checkpointing: z.boolean().default(checkpointing),
});

/** The MLP parts a neuron method trains. */
export const components = z.array(z.enum(COMPONENTS)).min(1).default([...COMPONENTS]);

/** Whole-matrix methods may span several GPUs of one worker (torchrun: FSDP2 or DDP). */
export const spread = {
  processes: z.number().int().positive().default(1), // one per GPU; the job goes to a worker that sees this many
  parallel: z.enum(["fsdp", "ddp"]).default("fsdp"), // fsdp shards weights, gradients and AdamW state
};

/** What a method's request fields may read: the plan's training seed, the job's files. */
export interface TrainingContext {
  seed: number;
  drawnNeuronSetPath: string; // where a drawn neuron set would go
}

/** The TrainRequest fields that belong to one method. */
export type MethodFields = Partial<Pick<TrainRequest, "settings" | "drawnNeuronSetPath">>;

export interface MethodDefinition<Schema extends z.ZodObject = z.ZodObject> {
  schema: Schema; // a strict object whose `method` is a literal: the plan's entry
  wire: Method;
  outputKind: OutputKind;
  /** It trains the target's neuron set (and needs the selection before it). */
  trainsNeurons: boolean;
  /** It trains neurons it draws itself (of the set's size), not the given set's. */
  drawsNeurons?: boolean;
  /** Its own TrainRequest fields (its settings sub-message); none when it has none. */
  fields?: (spec: z.output<Schema>, context: TrainingContext) => MethodFields;
  /** Words added to the default label so that two variants of the method differ. */
  labelSuffix?: (spec: z.output<Schema>) => string;
}

export const defineMethod = <Schema extends z.ZodObject>(definition: MethodDefinition<Schema>) => definition;

/** `-up-down` when a neuron method trains only some components. */
export const componentsSuffix = (spec: { components: readonly string[] }): string =>
  spec.components.length < COMPONENTS.length ? `-${COMPONENTS.filter((c) => spec.components.includes(c)).join("-")}` : "";
