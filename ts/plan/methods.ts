// Training methods of a plan (docs/method.md §3): each entry of training.methods is one job per
// target language. Defaults are the reference's settings; every field can be overridden.
import { z } from "zod";

export const METHOD_NAMES = ["sparse", "random", "ffn", "full", "lora", "ia3"] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

const COMPONENTS = ["gate", "up", "down"] as const;
const MLP_MODULES = ["gate_proj", "up_proj", "down_proj"];

/** Fields every method has: the optimiser (AdamW, no schedule) and how it runs. */
const common = (lr: number, clip: number, checkpointing = false) => ({
  // names the method's jobs and files; default derived from the method (see methodLabel)
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "use lowercase letters, digits and '-' (it names files)").optional(),
  learning_rate: z.number().positive().default(lr),
  weight_decay: z.number().nonnegative().default(0.01),
  max_grad_norm: z.number().nonnegative().default(clip), // 0 = no clipping
  gradient_checkpointing: z.boolean().default(checkpointing),
});

const components = z.array(z.enum(COMPONENTS)).min(1).default([...COMPONENTS]);

const Sparse = z.strictObject({ method: z.literal("sparse"), ...common(1e-4, 1.0), components });
const Random = z.strictObject({
  method: z.literal("random"),
  ...common(1e-4, 1.0),
  components,
  // "total": the LAPE set's total count, uniform over all (layer, neuron) pairs (the reference);
  // "per_layer": the same count in every layer as the LAPE set
  match: z.enum(["total", "per_layer"]).default("total"),
  seed: z.number().int().nonnegative().optional(), // default: training.seed
});
/** Whole-matrix methods may span several GPUs of one worker (torchrun: FSDP2 or DDP). */
const spread = {
  processes: z.number().int().positive().default(1), // one per GPU; the job goes to a worker that sees this many
  parallel: z.enum(["fsdp", "ddp"]).default("fsdp"), // fsdp shards weights, gradients and AdamW state
};
const Ffn = z.strictObject({ method: z.literal("ffn"), ...common(1e-5, 1.0), ...spread });
const Full = z.strictObject({ method: z.literal("full"), ...common(1e-5, 0.5, true), ...spread });
const Lora = z.strictObject({
  method: z.literal("lora"),
  ...common(1e-4, 1.0),
  r: z.number().int().positive().default(32),
  alpha: z.number().positive().default(64),
  dropout: z.number().min(0).lt(1).default(0.1),
  target_modules: z.array(z.string().min(1)).min(1).default(MLP_MODULES),
});
const Ia3 = z.strictObject({
  method: z.literal("ia3"),
  ...common(3e-3, 1.0), // no reference setting; T-Few's IA3 learning rate
  target_modules: z.array(z.string().min(1)).min(1).default(MLP_MODULES),
  feedforward_modules: z.array(z.string().min(1)).default(["down_proj"]), // scaled on their input
});

/** "sparse" is short for {"method": "sparse"}. */
export const MethodSpec = z.preprocess(
  (value) => (typeof value === "string" ? { method: value } : value),
  z.discriminatedUnion("method", [Sparse, Random, Ffn, Full, Lora, Ia3]),
);
export type MethodSpec = z.output<typeof MethodSpec>;

/** Processes a method's training job runs (several only for ffn / full). */
export const processesOf = (spec: MethodSpec): number => ("processes" in spec ? spec.processes : 1);

/** sparse and random train a neuron set (and write a pack). */
export const trainsNeurons = (method: MethodName): boolean => method === "sparse" || method === "random";

/** The method's name in job ids, file names and tables: `name`, else derived so that two
 * variants differ (sparse-up-down, random-per-layer). */
export function methodLabel(spec: MethodSpec): string {
  if (spec.name) return spec.name;
  let label: string = spec.method;
  if (spec.method === "random" && spec.match === "per_layer") label += "-per-layer";
  if ("components" in spec && spec.components.length < COMPONENTS.length) {
    label += `-${COMPONENTS.filter((c) => spec.components.includes(c)).join("-")}`;
  }
  return label;
}

/** What a method's job writes. */
export type OutputKind = "pack" | "peft_adapter" | "model_directory";
export function outputKind(method: MethodName): OutputKind {
  if (trainsNeurons(method)) return "pack";
  if (method === "lora" || method === "ia3") return "peft_adapter";
  return "model_directory";
}
