// `sparse-sub steer`: generate with one language's neurons off and another's pushed up, and
// count how many outputs are in the target language, base vs steered (a local worker does the
// generation and identifies each output's language offline).
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { iso6391Of } from "../language-codes.js";
import { SparseSubError } from "../errors.js";
import { SteerRequest_Mode, type ModelSpec, type SteerResult } from "../gen/sparse_sub/v1/worker.js";
import { WorkerClient } from "../worker/client.js";
import { startLocalWorker } from "../worker/launch.js";

export { iso6391Of };

export interface SteerOptions {
  model: Partial<ModelSpec> & { source: string };
  neurons: string; // folder of <code>.json sets (e.g. a run's or an atlas's neurons/)
  from?: string; // whose neurons are switched off
  to: string; // whose neurons are pushed up; the language outputs should turn to
  /** "add" (default): `strength` added to act_fn(gate) * up of each `to` neuron; "mean":
   * act_fn(gate) set to `strength` x the neuron's mean active value (Tang et al.). */
  mode?: "add" | "mean";
  strength: number;
  /** mode "mean": the `to` language's activation counts; default <neurons>/../activations/<to>.safetensors. */
  counts?: string;
  prompts: string[];
  maxNewTokens?: number;
  python?: string;
}

export interface SteerSummary {
  result: SteerResult;
  strength: number;
  target: string; // ISO 639-1 code counted as "in the target language"
  source: string | null; // the `from` language's ISO 639-1 code
  base: { target: number; source: number; n: number };
  steered: { target: number; source: number; n: number };
}

export async function steerGeneration(options: SteerOptions): Promise<SteerSummary> {
  const setPath = (code: string, flag: string) => {
    const path = resolve(options.neurons, `${code}.json`);
    if (!existsSync(path)) throw new SparseSubError("PLAN_INVALID", `${flag}: no neuron set ${join(options.neurons, `${code}.json`)}`);
    return path;
  };
  if (options.prompts.length === 0) throw new SparseSubError("PLAN_INVALID", "--prompt: give at least one prompt");
  const boost = setPath(options.to, "--to");
  const off = options.from ? setPath(options.from, "--from") : "";
  const target = iso6391Of(options.to);
  if (!target) throw new SparseSubError("PLAN_INVALID", `--to: '${options.to}' has no ISO 639-1 code to recognise outputs by`);
  const source = options.from ? iso6391Of(options.from) : null;
  const mean = options.mode === "mean";
  const counts = mean ? resolve(options.counts ?? join(options.neurons, "..", "activations", `${options.to}.safetensors`)) : "";
  if (mean && !existsSync(counts)) {
    throw new SparseSubError("PLAN_INVALID", `--counts: no activation counts ${counts} (mode mean reads ${options.to}'s mean active values from them)`);
  }
  const worker = await startLocalWorker({ python: options.python });
  const client = new WorkerClient(worker.address);
  try {
    const local = existsSync(options.model.source) ? resolve(options.model.source) : options.model.source;
    const result = await client.steer({
      jobId: "steer",
      model: { ggufFile: "", dtype: "auto", device: "auto", revision: "", addBos: "auto", ...options.model, source: local },
      prompts: options.prompts,
      offNeuronSetPath: off,
      boostNeuronSetPath: boost,
      strength: options.strength,
      maxNewTokens: options.maxNewTokens ?? 0,
      mode: mean ? SteerRequest_Mode.MODE_MEAN : SteerRequest_Mode.MODE_ADD,
      boostCountsPath: counts,
    });
    if (!result.identifiable.includes(target)) {
      throw new SparseSubError("PLAN_INVALID", `--to: the language identifier does not know '${target}': outputs in it cannot be recognised`);
    }
    const count = (key: "baseLanguage" | "steeredLanguage") => ({
      target: result.outputs.filter((o) => o[key] === target).length,
      source: source ? result.outputs.filter((o) => o[key] === source).length : 0,
      n: result.outputs.length,
    });
    return { result, strength: options.strength, target, source, base: count("baseLanguage"), steered: count("steeredLanguage") };
  } finally {
    client.close();
    await worker.stop();
  }
}
