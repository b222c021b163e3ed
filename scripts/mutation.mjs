#!/usr/bin/env node
// `npm run mutation -- [--only py|ts] [--report] [--existing]`: mutation testing of the worker's core
// (mutmut, config in py-worker/pyproject.toml) and of the controller's plan, pipeline and results
// code (Stryker, stryker.config.mjs). Each run is appended to test/mutation-runs.json and
// test/MUTATION.md is rewritten from it: kill rate per module for every run (before/after), and
// the latest run's survivors, each with its explanation from test/mutation-equivalent.json when
// one was judged equivalent. `--report` only re-renders MUTATION.md; `--existing` records the
// results the tools left on disk (py-worker/mutants/, .cache/mutation/stryker.json) without
// running them again. Not in CI: a full run takes about an hour and a half on 2 cores.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { workerPython } from "./python-path.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const worker = join(root, "py-worker");
const runsFile = join(root, "test/mutation-runs.json");
const equivalentFile = join(root, "test/mutation-equivalent.json");
const reportFile = join(root, "test/MUTATION.md");
const GOAL = 0.9;

const args = process.argv.slice(2);
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : null;
const existing = args.includes("--existing");
if (only !== null && only !== "py" && only !== "ts") {
  console.error(`--only: expected py or ts, got '${only}'`);
  process.exit(2);
}

function run(cmd, cmdArgs, cwd, capture = false, env = process.env) {
  const result = spawnSync(cmd, cmdArgs, { cwd, env, stdio: capture ? ["ignore", "pipe", "inherit"] : "inherit", encoding: "utf8", maxBuffer: 256 * 2 ** 20 });
  if (result.status !== 0) {
    console.error(`${cmd} ${cmdArgs.join(" ")} exited ${result.status ?? result.signal}`);
    process.exit(1);
  }
  return result.stdout ?? "";
}

function writeAtomic(path, text) {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/** mutmut over the worker's core; its verdicts (and each survivor's diff) read back by
 * scripts/mutmut_report.py in one process. */
function mutateWorker() {
  const python = workerPython(root);
  if (!existing) run(python, ["-m", "pip", "install", "--quiet", "-r", "requirements-mutation.txt"], worker);
  // one torch thread per child: two children's thread pools spinning on two cores burn CPU
  // time, and mutmut's limit is CPU time, so equivalent mutants "timed out" (and counted as killed)
  const oneThread = { ...process.env, OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1" };
  if (!existing) run(join(worker, ".venv/bin/mutmut"), ["run", "--max-children", "2"], worker, false, oneThread);
  // MUTMUT_REPORT: scripts/mutmut_report.py's output saved earlier (recording an earlier run)
  const listing = process.env.MUTMUT_REPORT ? readFileSync(process.env.MUTMUT_REPORT, "utf8") : run(python, [join(root, "scripts/mutmut_report.py")], worker, true);
  const mutants = JSON.parse(listing);
  return mutants.map((m) => ({ ...m, module: `py-worker/${m.module}` }));
}

/** Stryker's JSON report (mutation-testing-report-schema): files -> mutants with status. */
function mutateController() {
  if (!existing) run("npx", ["stryker", "run", "stryker.config.mjs"], root);
  const report = JSON.parse(readFileSync(process.env.STRYKER_REPORT ?? join(root, ".cache/mutation/stryker.json"), "utf8"));
  const mutants = [];
  for (const [file, { mutants: list, source }] of Object.entries(report.files)) {
    const lines = source.split("\n");
    for (const m of list) {
      const status = { Killed: "killed", Survived: "survived", Timeout: "timeout", NoCoverage: "no tests", CompileError: "compile error", RuntimeError: "runtime error", Ignored: "ignored" }[m.status] ?? m.status;
      const { line, column } = m.location.start;
      const id = `${relative(root, join(root, file))}:${line}:${column} ${m.mutatorName}`;
      const entry = { id, module: relative(root, join(root, file)), status };
      if (status !== "killed" && status !== "timeout") entry.diff = `- ${lines[line - 1].trim()}\n+ (${m.mutatorName}) ${m.replacement ?? ""}`;
      mutants.push(entry);
    }
  }
  return mutants;
}

// A timeout counts as killed (the mutant made the tests hang: they noticed); compile and runtime
// errors of Stryker's own instrumentation are left out of the rate.
const COUNTED = new Set(["killed", "timeout", "segfault", "survived", "no tests", "suspicious"]);
const isKilled = (status) => status === "killed" || status === "timeout" || status === "segfault"; // the tests noticed

function summarize(mutants) {
  const modules = {};
  for (const m of mutants) {
    if (!COUNTED.has(m.status)) continue;
    const s = (modules[m.module] ??= { killed: 0, total: 0 });
    s.total += 1;
    if (isKilled(m.status)) s.killed += 1;
  }
  return modules;
}

function render(runs, equivalent) {
  const latest = runs.at(-1);
  const modules = [...new Set(runs.flatMap((r) => Object.keys(r.modules)))].sort();
  const rate = (s) => (s && s.total ? `${((100 * s.killed) / s.total).toFixed(1)}% (${s.killed}/${s.total})` : "-");
  const lines = [
    "# Mutation testing",
    "",
    "Generated by `npm run mutation` (scripts/mutation.mjs) from test/mutation-runs.json; do not edit by hand.",
    "mutmut mutates the worker's core (py-worker/pyproject.toml, `[tool.mutmut]`), Stryker the controller's",
    "plan, job graph and results code (stryker.config.mjs). A mutant is killed when a test fails on it (a",
    `timeout counts as killed). Goal: at least ${GOAL * 100}% killed per module; every survivor killed by a new`,
    "test or explained below as equivalent (test/mutation-equivalent.json: a reason per pattern of id or diff).",
    "From 2026-12-03 on, Stryker leaves out static mutants (module-level code): its vitest runner evaluates a",
    "module once, so they were never active and all \"survived\" (see stryker.config.mjs); earlier controller",
    "columns count them, so their rates for plan/methods and results are lower than what the tests catch.",
    "",
    "## Kill rate per module, every run",
    "",
    `| module | ${runs.map((r) => `${r.date} (${r.commit})`).join(" | ")} |`,
    `|---|${runs.map(() => "---").join("|")}|`,
    ...modules.map((m) => `| ${m} | ${runs.map((r) => rate(r.modules[m])).join(" | ")} |`),
    "",
    `## Survivors of the latest run (${latest.date}, ${latest.commit}, ${latest.tools})`,
    "",
  ];
  const survivors = latest.mutants.filter((m) => COUNTED.has(m.status) && !isKilled(m.status));
  if (survivors.length === 0) lines.push("None.");
  const reasonFor = (m) => equivalent.find((e) => (!e.id || new RegExp(e.id).test(m.id)) && (!e.diff || new RegExp(e.diff, "m").test(m.diff ?? "")))?.reason;
  const explained = survivors.filter(reasonFor).length;
  lines.push(`${survivors.length} survivors; ${explained} explained as equivalent or unobservable here (the reason beside each), ${survivors.length - explained} not yet killed.`, "");
  for (const m of survivors) {
    const why = reasonFor(m);
    const diff = m.diff.split("\n").filter(Boolean);
    const shown = diff.length > 6 ? [...diff.slice(0, 6), `  ... (${diff.length - 6} more lines)`] : diff;
    lines.push(`- \`${m.id}\` (${m.status})${why ? `: **equivalent**: ${why}` : ""}`, "", "  ```diff", ...shown.map((l) => `  ${l}`), "  ```", "");
  }
  return lines.join("\n") + "\n";
}

const runs = existsSync(runsFile) ? JSON.parse(readFileSync(runsFile, "utf8")) : [];
// [{ id?: regex, diff?: regex, reason }]: survivors judged equivalent (or unobservable on a CPU)
const equivalent = existsSync(equivalentFile) ? JSON.parse(readFileSync(equivalentFile, "utf8")) : [];
if (!args.includes("--report")) {
  const mutants = [...(only === "ts" ? [] : mutateWorker()), ...(only === "py" ? [] : mutateController())];
  // MUTATION_COMMIT names the code the results are of, when recording results made earlier (--existing)
  const commit = process.env.MUTATION_COMMIT ?? spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).stdout.trim();
  const mutmutVersion = `mutmut ${spawnSync(workerPython(root), ["-c", "import importlib.metadata as m; print(m.version(\"mutmut\"))"], { encoding: "utf8" }).stdout?.trim() ?? "?"}`;
  const strykerVersion = JSON.parse(readFileSync(join(root, "node_modules/@stryker-mutator/core/package.json"), "utf8")).version;
  const previous = runs.at(-1);
  // a partial run (--only, or MUTATION_PARTIAL=1 after narrowing only_mutate / mutate) carries
  // every module it did not mutate over from the previous run
  const partial = only !== null || process.env.MUTATION_PARTIAL === "1";
  const mutated = new Set(mutants.map((m) => m.module));
  const carried = previous && partial ? previous.mutants.filter((m) => !mutated.has(m.module)) : [];
  const all = [...mutants, ...carried];
  runs.push({ date: new Date().toISOString().slice(0, 10), commit, tools: `${mutmutVersion}, Stryker ${strykerVersion}`, modules: summarize(all), mutants: all });
  // earlier runs keep their per-module counts only: the file stays small enough to commit
  for (const earlier of runs.slice(0, -1)) delete earlier.mutants;
  writeAtomic(runsFile, JSON.stringify(runs) + "\n");
}
if (runs.length === 0) {
  console.error("no mutation run recorded yet: run `npm run mutation` first");
  process.exit(1);
}
writeAtomic(reportFile, render(runs, equivalent));
console.log(`wrote ${relative(root, reportFile)}`);
