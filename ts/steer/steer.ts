// `sparse-sub steer`: generate with one language's neurons off and another's pushed up, and
// count how many outputs are in the target language, base vs steered (a local worker does the
// generation and identifies each output's language offline).
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { iso6393 } from "iso-639-3";
import { SparseSubError } from "../errors.js";
import type { ModelSpec, SteerResult } from "../gen/sparse_sub/v1/worker.js";
import { WorkerClient } from "../worker/client.js";
import { startLocalWorker } from "../worker/launch.js";

export interface SteerOptions {
  model: Partial<ModelSpec> & { source: string };
  neurons: string; // folder of <code>.json sets (e.g. a run's or an atlas's neurons/)
  from?: string; // whose neurons are switched off
  to: string; // whose neurons are pushed up; the language outputs should turn to
  strength: number; // added to act_fn(gate) * up of each `to` neuron
  prompts: string[];
  maxNewTokens?: number;
  python?: string;
}

export interface SteerSummary {
  result: SteerResult;
  target: string; // ISO 639-1 code counted as "in the target language"
  source: string | null; // the `from` language's ISO 639-1 code
  base: { target: number; source: number; n: number };
  steered: { target: number; source: number; n: number };
}

/** ISO 639-1 of a plan / UDHR code: "nl" -> nl, "nld" -> nl, "deu_1996" -> de; null when it has none. */
export function iso6391Of(code: string): string | null {
  const head = code.toLowerCase().split(/[_-]/)[0];
  if (head.length === 2) return head;
  return iso6393.find((entry) => entry.iso6393 === head)?.iso6391 ?? null;
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
    });
    if (!result.identifiable.includes(target)) {
      throw new SparseSubError("PLAN_INVALID", `--to: the language identifier does not know '${target}': outputs in it cannot be recognised`);
    }
    const count = (key: "baseLanguage" | "steeredLanguage") => ({
      target: result.outputs.filter((o) => o[key] === target).length,
      source: source ? result.outputs.filter((o) => o[key] === source).length : 0,
      n: result.outputs.length,
    });
    return { result, target, source, base: count("baseLanguage"), steered: count("steeredLanguage") };
  } finally {
    client.close();
    await worker.stop();
  }
}
