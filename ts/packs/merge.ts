// `sparse-sub pack apply|merge`: base model + one or more packs -> a plain transformers model
// directory, written by a local worker (it loads the model; the controller does not).
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { MergePackResponse, ModelSpec } from "../gen/sparse_sub/v1/worker.js";
import { WorkerClient } from "../worker/client.js";
import { startLocalWorker } from "../worker/launch.js";
import { readPackInfo } from "./info.js";

export type OverlapRule = "mean" | "first" | "error";

export interface MergePacksOptions {
  model: Partial<ModelSpec> & { source: string };
  packs: string[];
  outputDir: string;
  overlap?: OverlapRule; // a slice several packs trained: their mean (default), the first listed, or refuse
  python?: string; // worker interpreter
  force?: boolean; // write into an output folder that holds other files (they are kept)
}

export async function mergePacks(options: MergePacksOptions): Promise<MergePackResponse> {
  const packs = options.packs.map((p) => resolve(p));
  for (const pack of packs) readPackInfo(pack); // a clear error before a model loads
  const worker = await startLocalWorker({ python: options.python });
  const client = new WorkerClient(worker.address);
  try {
    // a path that exists here is a local model (the local worker runs elsewhere); else a hub id or pkg://
    const source = existsSync(options.model.source) ? resolve(options.model.source) : options.model.source;
    return await client.mergePack({
      jobId: "pack-merge",
      model: { ggufFile: "", dtype: "auto", device: "auto", revision: "", addBos: "auto", ...options.model, source },
      packPaths: packs,
      outputDir: resolve(options.outputDir),
      overlap: options.overlap ?? "mean",
      force: options.force ?? false,
    });
  } finally {
    client.close();
    await worker.stop();
  }
}
