// sparse: the paper's method. Only the target's LAPE neurons train (gate rows, up rows, down columns).
import { z } from "zod";
import { Method } from "../../gen/sparse_sub/v1/worker.js";
import { common, components, componentsSuffix, defineMethod } from "./definition.js";

export const sparse = defineMethod({
  schema: z.strictObject({ method: z.literal("sparse"), ...common(1e-4, 1.0), components }),
  wire: Method.METHOD_SPARSE,
  outputKind: "pack",
  trainsNeurons: true,
  labelSuffix: componentsSuffix,
});
