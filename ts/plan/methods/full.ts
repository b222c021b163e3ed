// full: every parameter (full fine-tuning).
import { z } from "zod";
import { Method } from "../../gen/sparse_sub/v1/worker.js";
import { common, defineMethod, spread } from "./definition.js";

export const full = defineMethod({
  schema: z.strictObject({ method: z.literal("full"), ...common(1e-5, 0.5, true), ...spread }),
  wire: Method.METHOD_FULL,
  outputKind: "model_directory",
  trainsNeurons: false,
});
