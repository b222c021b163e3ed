// `sparse-sub steer`: see steer/steer.ts.
import { readFileSync } from "node:fs";
import { formatError } from "../errors.js";
import { steerGeneration } from "../steer/steer.js";
import { EXIT, errorJson, exitCodeFor, type CommandRegistration } from "./exit.js";

interface SteerArgs {
  model: string;
  ggufFile?: string;
  dtype: string;
  device: string;
  neurons: string;
  from?: string;
  to: string;
  strength?: number;
  mode: "add" | "mean";
  counts?: string;
  prompt?: string[];
  prompts?: string;
  maxNewTokens: number;
  json: boolean;
  verbose: boolean;
}

const share = (k: number, n: number) => `${k}/${n} (${n ? ((100 * k) / n).toFixed(0) : 0}%)`;

export const steerCommandLine: CommandRegistration = (parser, setExit) =>
  parser.command(
    "steer",
    "generate with one language's neurons off and another's pushed up; count outputs in the target language",
    (y) =>
      y
        .option("model", { type: "string", demandOption: true, describe: "hub id, local directory, .gguf file or pkg://<package>/<file>" })
        .option("gguf-file", { type: "string", describe: "GGUF file name inside --model" })
        .option("dtype", { type: "string", default: "auto", choices: ["auto", "float32", "bfloat16", "float16"] })
        .option("device", { type: "string", default: "auto" })
        .option("neurons", { type: "string", demandOption: true, describe: "folder of <code>.json neuron sets (a run's or an atlas's neurons/)" })
        .option("from", { type: "string", describe: "language whose neurons are switched off" })
        .option("to", { type: "string", demandOption: true, describe: "language whose neurons are pushed up (outputs should turn to it)" })
        .option("mode", { type: "string", default: "add", choices: ["add", "mean"], describe: "add: --strength added to act_fn(gate) * up of each --to neuron; mean: act_fn(gate) set to --strength x its mean active value (Tang et al.)" })
        .option("strength", { type: "number", describe: "add: the constant added (default 4); mean: the factor on the mean (default 1)" })
        .option("counts", { type: "string", describe: "mean: --to's activation counts with active sums (default: <neurons>/../activations/<to>.safetensors, as a run with mean-mode steering writes them)" })
        .option("prompt", { type: "string", array: true, describe: "a prompt (repeatable)" })
        .option("prompts", { type: "string", describe: "a file of prompts, one per line" })
        .option("max-new-tokens", { type: "number", default: 48 })
        .option("json", { type: "boolean", default: false, describe: "print the outputs and counts as JSON" }),
    async (args) => {
      const a = args as unknown as SteerArgs;
      try {
        const prompts = [...(a.prompt ?? []), ...(a.prompts ? readFileSync(a.prompts, "utf8").split("\n").map((l) => l.trim()).filter(Boolean) : [])];
        const summary = await steerGeneration({
          model: { source: a.model, ggufFile: a.ggufFile ?? "", dtype: a.dtype, device: a.device },
          neurons: a.neurons, from: a.from, to: a.to, mode: a.mode, strength: a.strength ?? (a.mode === "mean" ? 1 : 4), counts: a.counts, prompts, maxNewTokens: a.maxNewTokens,
        });
        if (a.json) process.stdout.write(JSON.stringify({ ok: true, ...summary }) + "\n");
        else {
          const { result, target, source } = summary;
          const lines = ["| prompt | base | steered |", "|---|---|---|"];
          for (const o of result.outputs) lines.push(`| ${o.prompt} | ${o.base} (${o.baseLanguage || "-"}) | ${o.steered} (${o.steeredLanguage || "-"}) |`);
          lines.push("", `outputs in ${target}: base ${share(summary.base.target, summary.base.n)}, steered ${share(summary.steered.target, summary.steered.n)}` +
            (source ? `; in ${source}: base ${share(summary.base.source, summary.base.n)}, steered ${share(summary.steered.source, summary.steered.n)}` : "") +
            ` (${result.offNeurons} neurons off, ${result.boostNeurons} ${a.mode === "mean" ? `set to ${summary.strength} x their mean active value (mean ${result.meanActiveValue.toFixed(3)})` : `pushed up by ${summary.strength}`}; languages identified by Lingua)`);
          process.stdout.write(lines.join("\n") + "\n");
        }
        setExit(EXIT.ok);
      } catch (error) {
        if (a.json) process.stdout.write(errorJson(error, undefined));
        else process.stderr.write(formatError(error, a.verbose) + "\n");
        setExit(exitCodeFor(error));
      }
    },
  );
