// The `sparse-sub` command line: each command (group) lives in cli/<name>.ts; this only assembles them.
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { EXIT, type CommandRegistration } from "./cli/exit.js";
import { packCommandLine } from "./cli/pack.js";
import { reportCommandLine } from "./cli/report.js";
import { resultsCommandLine } from "./cli/results.js";
import { runCommandLine } from "./cli/run.js";
import { atlasCommandLine, deactivateCommandLine } from "./cli/stages.js";
import { steerCommandLine } from "./cli/steer.js";
import { validateCommandLine } from "./cli/validate.js";
import { workerCommandLine } from "./cli/worker.js";

const COMMANDS: CommandRegistration[] = [
  runCommandLine, atlasCommandLine, deactivateCommandLine, steerCommandLine, validateCommandLine, resultsCommandLine, reportCommandLine, packCommandLine, workerCommandLine,
];

export async function main(argv: string[] = hideBin(process.argv)): Promise<number> {
  let exitCode: number = EXIT.ok;
  const setExit = (code: number) => {
    exitCode = code;
  };
  let parser = yargs(argv)
    .scriptName("sparse-sub")
    .usage("$0 <command>\n\nFind language-specific neurons in an LLM and fine-tune only them.")
    .option("verbose", { type: "boolean", default: false, describe: "show error details (worker stderr, reasons, causes)" });
  for (const register of COMMANDS) parser = register(parser, setExit);
  await parser.demandCommand(1).strict().help().parseAsync();
  return exitCode;
}
