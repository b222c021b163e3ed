// lora: peft LoRA adapters on the MLP projections.
import { z } from "zod";
import { Method } from "../../gen/sparse_sub/v1/worker.js";
import { common, defineMethod, MLP_MODULES } from "./definition.js";

export const lora = defineMethod({
  schema: z.strictObject({
    method: z.literal("lora"),
    ...common(1e-4, 1.0),
    r: z.number().int().positive().default(32),
    alpha: z.number().positive().default(64),
    dropout: z.number().min(0).lt(1).default(0.1),
    target_modules: z.array(z.string().min(1)).min(1).default(MLP_MODULES),
  }),
  wire: Method.METHOD_LORA,
  outputKind: "peft_adapter",
  trainsNeurons: false,
  fields: (spec) => ({
    settings: { $case: "adapter", value: { targetModules: spec.target_modules, r: spec.r, alpha: spec.alpha, dropout: spec.dropout, feedforwardModules: [] } },
  }),
});
