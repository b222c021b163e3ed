// `sparse-sub run`: a plan end to end, with progress, a Ctrl-C that leaves a resumable run, and --json.
import { join, resolve } from "node:path";
import { SparseSubError, formatError } from "../errors.js";
import { runPlan } from "../pipeline/run.js";
import { loadPlan, type LoadedPlan } from "../plan/load.js";
import { REPORT_FILE } from "../report/report.js";
import { createProgressDisplay, silentDisplay } from "../telemetry/progress.js";
import { EXIT, errorJson, exitCodeFor, type CommandRegistration } from "./exit.js";

export const runCommandLine: CommandRegistration = (parser, setExit) =>
  parser.command(
    "run <plan>",
    "run a plan: collect activations, select neurons, train, evaluate",
    (y) =>
      y
        .positional("plan", { type: "string", demandOption: true, describe: "plan.json" })
        .option("out", { type: "string", describe: "run directory (default: the plan's output.dir, else runs/<name>)" })
        .option("fresh", { type: "boolean", default: false, describe: "ignore finished jobs of an earlier run in the same directory" })
        .option("worker", { type: "string", array: true, describe: "HOST:PORT of a running worker (repeatable); replaces the plan's workers" })
        .option("worker-token-file", { type: "string", describe: "bearer token for --worker (default: $SPARSE_SUB_WORKER_TOKEN)" })
        .option("worker-tls", { type: "boolean", default: false, describe: "--worker serves TLS (system roots)" })
        .option("json", { type: "boolean", default: false, describe: "print one JSON object: ok, dir and results (results.json's content) | code, message, issues" }),
    async (args) => setExit(await runCommand(args as unknown as RunArgs)),
  );

interface RunArgs {
  plan: string;
  out?: string;
  fresh: boolean;
  verbose: boolean;
  worker?: string[];
  workerTokenFile?: string;
  workerTls: boolean;
  json: boolean;
}

/** `--worker HOST:PORT` flags: remote workers that replace the plan's. */
export function workerFlags(args: { worker?: string[]; workerTokenFile?: string; workerTls: boolean }): unknown[] | undefined {
  if (!args.worker?.length) return undefined;
  const tokenFile = args.workerTokenFile ? resolve(args.workerTokenFile) : undefined;
  return args.worker.map((address) => ({ address, token_file: tokenFile, tls: args.workerTls }));
}

export async function runCommand(args: RunArgs): Promise<number> {
  const again = ["npx sparse-sub run", args.plan, ...(args.out ? ["--out", args.out] : [])].join(" ");
  return executePlan(() => loadPlan(args.plan, { workers: workerFlags(args) }), { ...args, again });
}

export interface ExecuteOptions {
  out?: string;
  fresh: boolean;
  verbose: boolean;
  json: boolean;
  again: string; // the command that resumes a cancelled run
}

/** Runs a plan (from a file, or built by atlas / deactivate) with progress and a Ctrl-C that
 * leaves it resumable; prints the table or --json. */
export async function executePlan(load: () => LoadedPlan, args: ExecuteOptions): Promise<number> {
  const controller = new AbortController();
  const display = args.json ? silentDisplayUnlessTty() : createProgressDisplay();
  let interrupts = 0;
  const onSignal = () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(EXIT.cancelled); // second Ctrl-C: do not wait for cleanup
    display.log("sparse-sub: stopping (finished jobs are kept; Ctrl-C again to force)"); // through the bars: no garbled line
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let dir: string | undefined;
  try {
    const loaded = load();
    dir = resolve(args.out ?? loaded.plan.output!.dir);
    const outcome = await runPlan(loaded, {
      outDir: dir,
      fresh: args.fresh,
      signal: controller.signal,
      display,
    });
    if (args.json) process.stdout.write(JSON.stringify({ ok: true, dir: outcome.dir, results: outcome.results }) + "\n");
    else process.stdout.write(`\n${outcome.table}\nrun directory: ${outcome.dir}\nreport: ${join(outcome.dir, REPORT_FILE)}\n`);
    return EXIT.ok;
  } catch (error) {
    if (args.json) process.stdout.write(errorJson(error, dir));
    if (error instanceof SparseSubError && error.code === "CANCELLED" && dir) {
      process.stderr.write(`sparse-sub: cancelled. Finished jobs are kept in ${dir} (results.md and report.html show them); resume with: ${args.again}\n`);
    } else {
      process.stderr.write(formatError(error, args.verbose) + "\n");
    }
    return exitCodeFor(error);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** `run --json` keeps stdout for the JSON; progress still goes to stderr on a terminal. */
function silentDisplayUnlessTty() {
  return process.stderr.isTTY ? createProgressDisplay() : silentDisplay;
}
