// neuron-lora: LoRA restricted to the target's neurons ("Language-specific Neurons Do Not
// Facilitate Cross-Lingual Transfer", 2025): low-rank updates of the selected gate/up rows and
// down columns only. Writes a pack, like sparse.
import { z } from "zod";
import { Method } from "../../gen/sparse_sub/v1/worker.js";
import { common, components, componentsSuffix, defineMethod } from "./definition.js";

export const neuronLora = defineMethod({
  schema: z.strictObject({
    method: z.literal("neuron-lora"),
    ...common(1e-3, 1.0), // low-rank factors start at zero: LoRA's usual 10x higher rate
    components,
    r: z.number().int().positive().default(8),
    alpha: z.number().positive().default(16),
  }),
  wire: Method.METHOD_NEURON_LORA,
  outputKind: "pack",
  trainsNeurons: true,
  fields: (spec) => ({ settings: { $case: "neuronLora", value: { r: spec.r, alpha: spec.alpha } } }),
  labelSuffix: componentsSuffix,
});
