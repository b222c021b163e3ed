// The `sparse-sub` command line: parses arguments and delegates; nothing else lives here.
import { resolve } from "node:path";
import yargs, { type Argv } from "yargs";
import { hideBin } from "yargs/helpers";
import { SparseSubError, formatError, formatWarning } from "./errors.js";
import { tmpdir } from "node:os";
import { prepareCorpora } from "./corpora/prepare.js";
import { pipelineJobs, runLayout } from "./pipeline/jobs.js";
import { runPlan } from "./pipeline/run.js";
import { describePack, readPackInfo } from "./packs/info.js";
import { mergePacks, type OverlapRule } from "./packs/merge.js";
import { checkLocalInputs, languageCodeWarnings } from "./plan/checks.js";
import { loadPlan } from "./plan/load.js";
import { readResults, renderResults, type ResultsFormat } from "./results/render.js";
import { methodLabel } from "./plan/methods/index.js";
import { createProgressDisplay, silentDisplay } from "./telemetry/progress.js";
import { spawnWorkerServe } from "./worker/launch.js";

const EXIT = { ok: 0, failed: 1, invalid: 2, locked: 3, notARun: 4, cancelled: 130 } as const;

function exitCodeFor(error: unknown): number {
  if (!(error instanceof SparseSubError)) return EXIT.failed;
  if (error.code === "CANCELLED") return EXIT.cancelled;
  if (error.code === "RUN_LOCKED") return EXIT.locked;
  if (error.code === "NOT_A_RUN") return EXIT.notARun;
  if (["PLAN_INVALID", "PLAN_NOT_FOUND", "CORPUS_INVALID", "PACK_INVALID", "OUTPUT_INVALID", "RESULTS_INVALID"].includes(error.code)) return EXIT.invalid;
  return EXIT.failed;
}

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
function workerFlags(args: RunArgs): unknown[] | undefined {
  if (!args.worker?.length) return undefined;
  const tokenFile = args.workerTokenFile ? resolve(args.workerTokenFile) : undefined;
  return args.worker.map((address) => ({ address, token_file: tokenFile, tls: args.workerTls }));
}

async function runCommand(args: RunArgs): Promise<number> {
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
    const loaded = loadPlan(args.plan, { workers: workerFlags(args) });
    dir = resolve(args.out ?? loaded.plan.output!.dir);
    const outcome = await runPlan(loaded, {
      outDir: dir,
      fresh: args.fresh,
      signal: controller.signal,
      display,
    });
    if (args.json) process.stdout.write(JSON.stringify({ ok: true, dir: outcome.dir, results: outcome.results }) + "\n");
    else process.stdout.write(`\n${outcome.table}\nrun directory: ${outcome.dir}\n`);
    return EXIT.ok;
  } catch (error) {
    if (args.json) process.stdout.write(errorJson(error, dir));
    if (error instanceof SparseSubError && error.code === "CANCELLED" && dir) {
      const again = ["npx sparse-sub run", args.plan, ...(args.out ? ["--out", args.out] : [])].join(" ");
      process.stderr.write(`sparse-sub: cancelled. Finished jobs are kept in ${dir} (results.md shows them); resume with: ${again}\n`);
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

/** `--json`: one JSON object on stdout, the error's too (code, message, issues). */
function errorJson(error: unknown, dir?: string): string {
  const known = error instanceof SparseSubError;
  const message = error instanceof Error ? error.message : String(error);
  const issues = known ? (error.extra.issues ?? []) : [];
  return JSON.stringify({ ok: false, code: known ? error.code : "FAILED", message, issues, ...(dir ? { dir } : {}) }) + "\n";
}

/** Runs a command's body; a failure is printed (JSON on stdout with --json, else stderr) and
 * becomes the exit code its error calls for. */
async function reporting(options: { verbose: boolean; json?: boolean }, body: () => number | Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (options.json) process.stdout.write(errorJson(error));
    else process.stderr.write(formatError(error, options.verbose) + "\n");
    return exitCodeFor(error);
  }
}

function validateCommand(args: { plan: string; verbose: boolean; json: boolean }): Promise<number> {
  return reporting(args, () => {
    const loaded = loadPlan(args.plan);
    const { plan, path } = loaded;
    const { corpora } = prepareCorpora(plan.languages, tmpdir()); // checks corpora; writes nothing
    checkLocalInputs(loaded);
    const warnings = languageCodeWarnings(plan);
    const jobs = pipelineJobs({ plan, corpora, layout: runLayout(plan.output!.dir), runId: "validate", onProgress: () => {} }).length;
    if (args.json) {
      const summary = {
        ok: true,
        plan: path,
        languages: plan.languages.map((l) => l.code),
        targets: plan.training.targets,
        methods: plan.training.methods.map(methodLabel),
        jobs,
        workers: plan.workers.length,
        output: plan.output!.dir,
        warnings,
      };
      process.stdout.write(JSON.stringify(summary) + "\n");
      return EXIT.ok;
    }
    for (const warning of warnings) process.stderr.write(formatWarning(warning) + "\n");
    process.stdout.write(
      `${path}: valid. ${plan.languages.length} languages (${plan.languages.map((l) => l.code).join(", ")}), ` +
        `targets ${plan.training.targets.join(", ")}, methods ${plan.training.methods.map(methodLabel).join(", ")}, ${jobs} jobs, ${plan.workers.length} worker(s), output ${plan.output!.dir}\n`,
    );
    return EXIT.ok;
  });
}

interface ServeArgs {
  listen: string;
  telemetry: string;
  insecure: boolean;
  tokenFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  dataRoot?: string;
  hub: boolean;
}

async function workerServeCommand(args: ServeArgs): Promise<number> {
  const optional = (flag: string, value?: string) => (value ? [flag, value] : []);
  const serveArgs = [
    "--listen", args.listen, "--telemetry", args.telemetry, ...(args.insecure ? ["--insecure"] : []),
    ...optional("--token-file", args.tokenFile), ...optional("--tls-cert", args.tlsCert), ...optional("--tls-key", args.tlsKey),
    ...optional("--data-root", args.dataRoot), ...(args.hub ? [] : ["--no-hub"]),
  ];
  const child = spawnWorkerServe(serveArgs, { stdio: "inherit", reject: false });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  process.on("SIGINT", forward("SIGINT"));
  process.on("SIGTERM", forward("SIGTERM"));
  const result = await child;
  return result.exitCode ?? EXIT.failed;
}

function resultsCommand(args: { dir: string; format: ResultsFormat; verbose: boolean }): Promise<number> {
  return reporting(args, () => {
    process.stdout.write(renderResults(readResults(args.dir), args.format));
    return EXIT.ok;
  });
}

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

const modelOptions = <T>(y: Argv<T>) =>
  y
    .option("model", { type: "string", demandOption: true, describe: "the base model the packs were trained on (directory, hub id, .gguf or pkg://)" })
    .option("gguf-file", { type: "string", default: "", describe: "GGUF file inside --model (a directory or hub id)" })
    .option("dtype", { type: "string", default: "auto", choices: ["auto", "float32", "bfloat16", "float16"] })
    .option("device", { type: "string", default: "auto", describe: "auto | cpu | cuda | cuda:N" })
    .option("output", { type: "string", demandOption: true, describe: "model directory to write (atomically; an earlier output of sparse-sub or an empty folder)" })
    .option("force", { type: "boolean", default: false, describe: "write into an --output folder that holds other files (they are kept)" })
    .option("python", { type: "string", describe: "worker Python (default: py-worker/.venv)" });

export async function main(argv: string[] = hideBin(process.argv)): Promise<number> {
  let exitCode: number = EXIT.ok;
  await yargs(argv)
    .scriptName("sparse-sub")
    .usage("$0 <command>\n\nFind language-specific neurons in an LLM and fine-tune only them.")
    .option("verbose", { type: "boolean", default: false, describe: "show error details (worker stderr, reasons, causes)" })
    .command(
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
      async (args) => {
        exitCode = await runCommand(args as unknown as RunArgs);
      },
    )
    .command(
      "validate <plan>",
      "check a plan and the files it names without running anything",
      (y) =>
        y
          .positional("plan", { type: "string", demandOption: true })
          .option("json", { type: "boolean", default: false, describe: "print one JSON object (ok, jobs, warnings | code, message, issues)" }),
      async (args) => {
        exitCode = await validateCommand(args as unknown as { plan: string; verbose: boolean; json: boolean });
      },
    )
    .command(
      "results <dir>",
      "render a run's tables again (finished or partial) from its results.json",
      (y) =>
        y
          .positional("dir", { type: "string", demandOption: true, describe: "run directory" })
          .option("format", { choices: ["md", "csv", "json"] as const, default: "md" as const, describe: "md: the tables; csv / json: one record per target, method and measure" }),
      async (args) => {
        exitCode = await resultsCommand(args as unknown as { dir: string; format: ResultsFormat; verbose: boolean });
      },
    )
    .command("pack", "subnetwork packs: inspect, apply to the base model, merge several languages", (y) =>
      y
        .command(
          "info <packs..>",
          "describe packs (language, base model, neurons per layer) from their headers",
          (s) => s.positional("packs", { type: "string", array: true, demandOption: true }).option("json", { type: "boolean", default: false }),
          async (args) => {
            exitCode = await packInfoCommand(args as unknown as { packs: string[]; json: boolean; verbose: boolean });
          },
        )
        .command(
          "apply <pack>",
          "write base model + one pack as a plain transformers model directory",
          (s) => modelOptions(s.positional("pack", { type: "string", demandOption: true })),
          async (args) => {
            const a = args as unknown as PackMergeArgs & { pack: string };
            exitCode = await packMergeCommand({ ...a, pack: [a.pack], overlap: "error" });
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
            exitCode = await packMergeCommand({ ...a, pack: a.packs });
          },
        )
        .demandCommand(1),
    )
    .command("worker", "worker commands", (y) =>
      y
        .command(
          "serve",
          "serve the worker gRPC API (for local runs and GPU boxes)",
          (s) =>
            s
              .option("listen", { type: "string", default: "127.0.0.1:50051", describe: "HOST:PORT to listen on" })
              .option("telemetry", { type: "string", default: "tcp://127.0.0.1:*", describe: "ZeroMQ PUB bind address" })
              .option("token-file", { type: "string", describe: "file with the bearer token every call must carry (needed beyond loopback)" })
              .option("tls-cert", { type: "string", describe: "PEM certificate chain: serve TLS" })
              .option("tls-key", { type: "string", describe: "PEM private key of --tls-cert" })
              .option("data-root", { type: "string", describe: "read and write files only under this directory" })
              .option("hub", { type: "boolean", default: true, describe: "accept hub ids for models and datasets (--no-hub refuses them: nothing downloads)" })
              .option("insecure", { type: "boolean", default: false, describe: "allow non-loopback addresses without a token (private networks only)" }),
          async (args) => {
            exitCode = await workerServeCommand(args as unknown as ServeArgs);
          },
        )
        .demandCommand(1),
    )
    .demandCommand(1)
    .strict()
    .help()
    .parseAsync();
  return exitCode;
}
