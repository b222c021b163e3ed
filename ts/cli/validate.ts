// `sparse-sub validate`: a plan and the files it names, checked without running anything.
import { tmpdir } from "node:os";
import { prepareCorpora } from "../corpora/prepare.js";
import { formatWarning } from "../errors.js";
import { pipelineJobs, runLayout } from "../pipeline/jobs.js";
import { checkLocalInputs, languageCodeWarnings } from "../plan/checks.js";
import { loadPlan } from "../plan/load.js";
import { methodLabel } from "../plan/methods/index.js";
import { EXIT, reporting, type CommandRegistration } from "./exit.js";

export const validateCommandLine: CommandRegistration = (parser, setExit) =>
  parser.command(
    "validate <plan>",
    "check a plan and the files it names without running anything",
    (y) =>
      y
        .positional("plan", { type: "string", demandOption: true })
        .option("json", { type: "boolean", default: false, describe: "print one JSON object (ok, jobs, warnings | code, message, issues)" }),
    async (args) => setExit(await validateCommand(args as unknown as { plan: string; verbose: boolean; json: boolean })),
  );

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
        (plan.training.targets.length ? `targets ${plan.training.targets.join(", ")}, methods ${plan.training.methods.map(methodLabel).join(", ")}, ` : "nothing trained, ") + `${jobs} jobs, ${plan.workers.length} worker(s), output ${plan.output!.dir}\n`,
    );
    return EXIT.ok;
  });
}
