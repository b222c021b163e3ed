// `sparse-sub pack info | apply | merge`: subnetwork packs read, and merged into the base model.
import type { Argv } from "yargs";
import { describePack, readPackInfo } from "../packs/info.js";
import { mergePacks, type OverlapRule } from "../packs/merge.js";
import { EXIT, reporting, type CommandRegistration } from "./exit.js";

export const packCommandLine: CommandRegistration = (parser, setExit) =>
  parser.command("pack", "subnetwork packs: inspect, apply to the base model, merge several languages", (y) =>
    y
      .command(
        "info <packs..>",
        "describe packs (language, base model, neurons per layer) from their headers",
        (s) => s.positional("packs", { type: "string", array: true, demandOption: true }).option("json", { type: "boolean", default: false }),
        async (args) => setExit(await packInfoCommand(args as unknown as { packs: string[]; json: boolean; verbose: boolean })),
      )
      .command(
        "apply <pack>",
        "write base model + one pack as a plain transformers model directory",
        (s) => modelOptions(s.positional("pack", { type: "string", demandOption: true })),
        async (args) => {
          const a = args as unknown as PackMergeArgs & { pack: string };
          setExit(await packMergeCommand({ ...a, pack: [a.pack], overlap: "error" }));
        },
      )
      .command(
        "merge <packs..>",
        "write base model + several packs (e.g. one per language) as one model directory",
        (s) =>
          modelOptions(s.positional("packs", { type: "string", array: true, demandOption: true })).option("overlap", {
            choices: ["mean", "first", "error"] as const,
            default: "mean" as const,
            describe: "a neuron slice trained by several packs gets their mean, the first pack's value, or is refused",
          }),
        async (args) => {
          const a = args as unknown as PackMergeArgs & { packs: string[] };
          setExit(await packMergeCommand({ ...a, pack: a.packs }));
        },
      )
      .demandCommand(1),
  );

const modelOptions = <T>(y: Argv<T>) =>
  y
    .option("model", { type: "string", demandOption: true, describe: "the base model the packs were trained on (directory, hub id, .gguf or pkg://)" })
    .option("gguf-file", { type: "string", default: "", describe: "GGUF file inside --model (a directory or hub id)" })
    .option("dtype", { type: "string", default: "auto", choices: ["auto", "float32", "bfloat16", "float16"] })
    .option("device", { type: "string", default: "auto", describe: "auto | cpu | cuda | cuda:N" })
    .option("output", { type: "string", demandOption: true, describe: "model directory to write (atomically; an earlier output of sparse-sub or an empty folder)" })
    .option("force", { type: "boolean", default: false, describe: "write into an --output folder that holds other files (they are kept)" })
    .option("python", { type: "string", describe: "worker Python (default: py-worker/.venv)" });

function packInfoCommand(args: { packs: string[]; json: boolean; verbose: boolean }): Promise<number> {
  return reporting({ verbose: args.verbose }, () => {
    const infos = args.packs.map((p) => readPackInfo(p));
    process.stdout.write(args.json ? JSON.stringify(infos, null, 2) + "\n" : infos.map(describePack).join("\n\n") + "\n");
    return EXIT.ok;
  });
}

interface PackMergeArgs {
  model: string;
  ggufFile: string;
  dtype: string;
  device: string;
  pack: string[];
  output: string;
  overlap: OverlapRule;
  python?: string;
  force: boolean;
  verbose: boolean;
}

function packMergeCommand(args: PackMergeArgs): Promise<number> {
  return reporting(args, async () => {
    const response = await mergePacks({
      model: { source: args.model, ggufFile: args.ggufFile, dtype: args.dtype, device: args.device },
      packs: args.pack,
      outputDir: args.output,
      overlap: args.overlap,
      python: args.python,
      force: args.force,
    });
    const shared = response.sharedNeuronCount ? ` (${response.sharedNeuronCount} shared by several packs: ${args.overlap})` : "";
    process.stdout.write(`wrote ${response.outputDir}: ${args.pack.length} pack(s), ${response.neuronCount} neurons${shared}\n`);
    return EXIT.ok;
  });
}
