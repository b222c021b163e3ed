// `sparse-sub report` and `sparse-sub compare`: a run's (or several runs') self-contained HTML page.
import { writeComparison } from "../report/compare.js";
import { writeReport } from "../report/report.js";
import { EXIT, reporting, type CommandRegistration } from "./exit.js";

export const reportCommandLine: CommandRegistration = (parser, setExit) =>
  parser
    .command(
      "report <dir>",
      "write a run's report.html: tables, loss, weight-change, neuron and alignment charts (one file, opens offline)",
      (y) =>
        y
          .positional("dir", { type: "string", demandOption: true, describe: "run directory (finished, partial or cancelled)" })
          .option("out", { type: "string", describe: "HTML file to write (default: <dir>/report.html)" }),
      async (args) => {
        const a = args as unknown as { dir: string; out?: string; verbose: boolean };
        setExit(await reporting(a, () => {
          process.stdout.write(`wrote ${writeReport(a.dir, a.out)}\n`);
          return EXIT.ok;
        }));
      },
    )
    .command(
      "compare <dirs..>",
      "put several runs side by side in one HTML page, with the settings that differ",
      (y) =>
        y
          .positional("dirs", { type: "string", array: true, demandOption: true, describe: "two or more run directories" })
          .option("out", { type: "string", default: "comparison.html", describe: "HTML file to write" })
          .check((argv) => (argv.dirs as string[]).length >= 2 || "compare needs at least two run directories"),
      async (args) => {
        const a = args as unknown as { dirs: string[]; out: string; verbose: boolean };
        setExit(await reporting(a, () => {
          process.stdout.write(`wrote ${writeComparison(a.dirs, a.out)}\n`);
          return EXIT.ok;
        }));
      },
    );
