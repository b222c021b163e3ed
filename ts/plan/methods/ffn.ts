// ffn: every MLP weight (gate, up, down) of every layer: the "MLP-only" baseline.
import { z } from "zod";
import { Method } from "../../gen/sparse_sub/v1/worker.js";
import { common, defineMethod, spread } from "./definition.js";

export const ffn = defineMethod({
  schema: z.strictObject({ method: z.literal("ffn"), ...common(1e-5, 1.0), ...spread }),
  wire: Method.METHOD_FFN,
  outputKind: "model_directory",
  trainsNeurons: false,
});
