// `sparse-sub results`: a run's tables rendered again from its results.json.
import { readResults, renderResults, type ResultsFormat } from "../results/render.js";
import { EXIT, reporting, type CommandRegistration } from "./exit.js";

export const resultsCommandLine: CommandRegistration = (parser, setExit) =>
  parser.command(
    "results <dir>",
    "render a run's tables again (finished or partial) from its results.json",
    (y) =>
      y
        .positional("dir", { type: "string", demandOption: true, describe: "run directory" })
        .option("format", { choices: ["md", "csv", "json"] as const, default: "md" as const, describe: "md: the tables; csv / json: one record per target, method and measure" }),
    async (args) => setExit(await resultsCommand(args as unknown as { dir: string; format: ResultsFormat; verbose: boolean })),
  );

function resultsCommand(args: { dir: string; format: ResultsFormat; verbose: boolean }): Promise<number> {
  return reporting(args, () => {
    process.stdout.write(renderResults(readResults(args.dir), args.format));
    return EXIT.ok;
  });
}
