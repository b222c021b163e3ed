// `sparse-sub atlas` and `sparse-sub deactivate`: a plan built from flags (model, languages,
// identification settings) and run like `run`, so they resume, show progress and reuse each
// other's collected activations when given the same --out.
import { resolve } from "node:path";
import type { Argv } from "yargs";
import { SparseSubError } from "../errors.js";
import { languagesFrom } from "../corpora/udhr-languages.js";
import { parsePlan } from "../plan/load.js";
import type { CommandRegistration } from "./exit.js";
import { executePlan, workerFlags } from "./run.js";

interface StageArgs {
  model?: string;
  ggufFile?: string;
  dtype: string;
  device: string;
  languages: string;
  maxTokens: number;
  sequenceLength: number;
  batchSize: number;
  topRate?: number;
  neurons?: string;
  out?: string;
  fresh: boolean;
  verbose: boolean;
  json: boolean;
  worker?: string[];
  workerTokenFile?: string;
  workerTls: boolean;
}

interface AtlasArgs extends StageArgs {
  subset?: string[];
  nearest: number;
  clusters?: number;
}

interface DeactivateArgs extends StageArgs {
  deactivate?: string;
  randomControl: boolean;
  seed: number;
}

/** Tokens per language for the atlas: see README "The atlas" for how stable sets are as it halves. */
export const ATLAS_TOKENS = 2048;

const common = <T>(y: Argv<T>, defaults: { languages: string; out: string }) =>
  y
    .option("model", { type: "string", describe: "model: hub id, local directory, .gguf file or pkg://<package>/<file> (default: the --languages plan's model)" })
    .option("gguf-file", { type: "string", describe: "GGUF file name inside --model (a directory or hub id)" })
    .option("dtype", { type: "string", default: "auto", choices: ["auto", "float32", "bfloat16", "float16"], describe: "weights and activations' dtype" })
    .option("device", { type: "string", default: "auto", describe: "auto | cpu | cuda | cuda:N" })
    .option("languages", { type: "string", default: defaults.languages, describe: "udhr:all, udhr:<id>,<id>... or a plan file (its languages)" })
    .option("max-tokens", { type: "number", default: ATLAS_TOKENS, describe: "tokens per language for activation counts; 0 = the whole text" })
    .option("sequence-length", { type: "number", default: 256, describe: "packed row length for counting" })
    .option("batch-size", { type: "number", default: 16, describe: "rows per forward pass" })
    .option("top-rate", { type: "number", describe: "LAPE's share of all neurons selected (default 0.01, the reference's)" })
    .option("neurons", { type: "string", describe: "a folder of <language>.json neuron sets to use instead of collecting (e.g. an atlas run's neurons/)" })
    .option("out", { type: "string", default: defaults.out, describe: "run directory" })
    .option("fresh", { type: "boolean", default: false, describe: "ignore finished jobs of an earlier run in the same directory" })
    .option("worker", { type: "string", array: true, describe: "HOST:PORT of a running worker (repeatable)" })
    .option("worker-token-file", { type: "string", describe: "bearer token for --worker (default: $SPARSE_SUB_WORKER_TOKEN)" })
    .option("worker-tls", { type: "boolean", default: false, describe: "--worker serves TLS (system roots)" })
    .option("json", { type: "boolean", default: false, describe: "print one JSON object: ok, dir and results | code, message, issues" });

/** The plan both commands run; `extra` adds the stage's own sections. */
function stagePlan(name: string, args: StageArgs, extra: (codes: string[]) => Record<string, unknown>) {
  const { languages, model, base } = languagesFrom(args.languages);
  if (!args.model && !model) throw new SparseSubError("PLAN_INVALID", "--model: required (or give --languages a plan file with a model)");
  const codes = languages.map((l) => l.code);
  const sets = args.neurons ? { neuron_sets: { files: Object.fromEntries(codes.map((c) => [c, resolve(args.neurons!, `${c}.json`)])) } } : {};
  const input = {
    name,
    model: args.model ? { source: args.model, gguf_file: args.ggufFile ?? "", dtype: args.dtype, device: args.device } : model,
    languages,
    ...(args.neurons
      ? sets
      : { identification: { max_tokens: args.maxTokens, sequence_length: args.sequenceLength, batch_size: args.batchSize, ...(args.topRate ? { top_rate: args.topRate } : {}) } }),
    ...extra(codes),
    ...(args.worker?.length ? { workers: workerFlags(args) } : {}),
    output: { dir: resolve(args.out!) },
  };
  return parsePlan(input, base, `sparse-sub ${name}`);
}

function subsets(values: string[] | undefined): Record<string, string[]> {
  return Object.fromEntries((values ?? []).map((value) => {
    const [name, codes] = value.split("=", 2);
    if (!name || !codes) throw new SparseSubError("PLAN_INVALID", `--subset: expected NAME=code,code,..., got '${value}'`);
    return [name, codes.split(",").map((c) => c.trim()).filter(Boolean)];
  }));
}

/** The same command again (it resumes: finished jobs in --out are reused). */
const again = (command: string) => `npx sparse-sub ${command} ${process.argv.slice(3).join(" ")}`.trim();

export const atlasCommandLine: CommandRegistration = (parser, setExit) =>
  parser.command(
    "atlas",
    "language-specific neurons of every language given, and how the languages' sets overlap",
    (y) =>
      common(y, { languages: "udhr:all", out: "runs/atlas" })
        .option("subset", { type: "string", array: true, describe: "NAME=code,code,...: LAPE again over only these languages (repeatable)" })
        .option("nearest", { type: "number", default: 5, describe: "nearest languages listed per language" })
        .option("clusters", { type: "number", describe: "clusters to cut the dendrogram into (default round(sqrt(languages)))" }),
    async (args) => {
      const a = args as unknown as AtlasArgs;
      setExit(await executePlan(() => stagePlan("atlas", a, () => ({ atlas: { subsets: subsets(a.subset), nearest: a.nearest, ...(a.clusters ? { clusters: a.clusters } : {}) } })), { ...a, again: again("atlas") }));
    },
  );

export const deactivateCommandLine: CommandRegistration = (parser, setExit) =>
  parser.command(
    "deactivate",
    "switch each language's neurons off and score every language's held-out perplexity (Tang et al.'s test)",
    (y) =>
      common(y, { languages: "udhr:all", out: "runs/deactivate" })
        .option("deactivate", { type: "string", describe: "languages whose neurons to switch off, comma-separated (default: all)" })
        .option("random-control", { type: "boolean", default: true, describe: "also a random set of the same size per layer (--no-random-control: none)" })
        .option("seed", { type: "number", default: 0, describe: "draws the random sets" }),
    async (args) => {
      const a = args as unknown as DeactivateArgs;
      const chosen = a.deactivate?.split(",").map((c) => c.trim()).filter(Boolean);
      const deactivation = { random_control: a.randomControl, seed: a.seed, ...(chosen?.length ? { languages: chosen } : {}) };
      setExit(await executePlan(() => stagePlan("deactivate", a, () => ({ evaluation: { deactivation } })), { ...a, again: again("deactivate") }));
    },
  );
