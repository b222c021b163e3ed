// ia3: peft IA3 vectors (learned rescaling of activations).
import { z } from "zod";
import { Method } from "../../gen/sparse_sub/v1/worker.js";
import { common, defineMethod, MLP_MODULES } from "./definition.js";

export const ia3 = defineMethod({
  schema: z.strictObject({
    method: z.literal("ia3"),
    ...common(3e-3, 1.0), // no reference setting; T-Few's IA3 learning rate
    target_modules: z.array(z.string().min(1)).min(1).default(MLP_MODULES),
    feedforward_modules: z.array(z.string().min(1)).default(["down_proj"]), // scaled on their input
  }),
  wire: Method.METHOD_IA3,
  outputKind: "peft_adapter",
  trainsNeurons: false,
  fields: (spec) => ({
    settings: { $case: "adapter", value: { targetModules: spec.target_modules, r: 0, alpha: 0, dropout: 0, feedforwardModules: spec.feedforward_modules } },
  }),
});
