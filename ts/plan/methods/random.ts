// random: a random neuron subset of the LAPE set's size, trained like sparse (the control).
import { z } from "zod";
import { Method } from "../../gen/sparse_sub/v1/worker.js";
import { common, components, componentsSuffix, defineMethod } from "./definition.js";

export const random = defineMethod({
  schema: z.strictObject({
    method: z.literal("random"),
    ...common(1e-4, 1.0),
    components,
    // "total": the LAPE set's total count, uniform over all (layer, neuron) pairs (the reference);
    // "per_layer": the same count in every layer as the LAPE set
    match: z.enum(["total", "per_layer"]).default("total"),
    seed: z.number().int().nonnegative().optional(), // default: training.seed
  }),
  wire: Method.METHOD_RANDOM,
  outputKind: "pack",
  trainsNeurons: true,
  drawsNeurons: true,
  fields: (spec, context) => ({
    settings: { $case: "random", value: { seed: spec.seed ?? context.seed, perLayer: spec.match === "per_layer" } },
    drawnNeuronSetPath: context.drawnNeuronSetPath, // the drawn set is kept for inspection
  }),
  labelSuffix: (spec) => (spec.match === "per_layer" ? "-per-layer" : "") + componentsSuffix(spec),
});
