#!/usr/bin/env node
// `npm run mutation -- [--only py|ts] [--report]`: mutation testing of the worker's core
// (mutmut, config in py-worker/pyproject.toml) and of the controller's plan, pipeline and results
// code (Stryker, stryker.config.mjs). Each run is appended to test/mutation-runs.json and
// test/MUTATION.md is rewritten from it: kill rate per module for every run (before/after), and
// the latest run's survivors, each with its explanation from test/mutation-equivalent.json when
// one was judged equivalent. `--report` only re-renders MUTATION.md. Not in CI: a full run takes
// about an hour on 2 cores.
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
if (only !== null && only !== "py" && only !== "ts") {
  console.error(`--only: expected py or ts, got '${only}'`);
  process.exit(2);
}

function run(cmd, cmdArgs, cwd, capture = false) {
  const result = spawnSync(cmd, cmdArgs, { cwd, stdio: capture ? ["ignore", "pipe", "inherit"] : "inherit", encoding: "utf8", maxBuffer: 256 * 2 ** 20 });
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

/** mutmut: `mutmut results --all true` lists `<module>.x_<function>__mutmut_<n>: <status>`. */
function mutateWorker() {
  const python = workerPython(root);
  run(python, ["-m", "pip", "install", "--quiet", "-r", "requirements-mutation.txt"], worker);
  run(join(worker, ".venv/bin/mutmut"), ["run", "--max-children", "2"], worker);
  const listing = run(join(worker, ".venv/bin/mutmut"), ["results", "--all", "true"], worker, true);
  const mutants = [];
  for (const line of listing.split("\n")) {
    const match = /^\s*(\S+): (\S[\w ]*)$/.exec(line);
    if (!match) continue;
    const [, id, status] = match;
    const entry = { id, module: moduleOf(id), status: status.trim() };
    if (entry.status !== "killed") entry.diff = run(join(worker, ".venv/bin/mutmut"), ["show", id], worker, true).split("\n").filter((l) => /^[+-](?![+-])/.test(l)).join("\n");
    mutants.push(entry);
  }
  return mutants;
}

/** `sparse_sub_worker.tasks.metrics.x_chrf__mutmut_3` -> `sparse_sub_worker/tasks/metrics.py` */
function moduleOf(id) {
  const parts = id.split(".");
  const at = parts.findIndex((part) => part.startsWith("x_") || part.startsWith("xǁ"));
  return `${parts.slice(0, at).join("/")}.py`;
}

/** Stryker's JSON report (mutation-testing-report-schema): files -> mutants with status. */
function mutateController() {
  run("npx", ["stryker", "run", "stryker.config.mjs"], root);
  const report = JSON.parse(readFileSync(join(root, ".cache/mutation/stryker.json"), "utf8"));
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
const COUNTED = new Set(["killed", "timeout", "survived", "no tests", "suspicious"]);
const isKilled = (status) => status === "killed" || status === "timeout";

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
    "test or explained below as equivalent (test/mutation-equivalent.json).",
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
  for (const m of survivors) {
    const why = equivalent[m.id];
    lines.push(`- \`${m.id}\` (${m.status})${why ? `: **equivalent**: ${why}` : ""}`, "", "  ```diff", ...m.diff.split("\n").map((l) => `  ${l}`), "  ```", "");
  }
  return lines.join("\n") + "\n";
}

const runs = existsSync(runsFile) ? JSON.parse(readFileSync(runsFile, "utf8")) : [];
const equivalent = existsSync(equivalentFile) ? JSON.parse(readFileSync(equivalentFile, "utf8")) : {};
if (!args.includes("--report")) {
  const mutants = [...(only === "ts" ? [] : mutateWorker()), ...(only === "py" ? [] : mutateController())];
  const commit = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).stdout.trim();
  const mutmutVersion = spawnSync(join(worker, ".venv/bin/mutmut"), ["--version"], { encoding: "utf8" }).stdout?.trim() ?? "";
  const strykerVersion = JSON.parse(readFileSync(join(root, "node_modules/@stryker-mutator/core/package.json"), "utf8")).version;
  const previous = runs.at(-1);
  // a partial run (--only) carries the other side's modules over from the previous run
  const carried = previous && only ? previous.mutants.filter((m) => (only === "py" ? !m.module.endsWith(".py") : m.module.endsWith(".py"))) : [];
  const all = [...mutants, ...carried];
  runs.push({ date: new Date().toISOString().slice(0, 10), commit, tools: `${mutmutVersion}, Stryker ${strykerVersion}`, modules: summarize(all), mutants: all });
  writeAtomic(runsFile, JSON.stringify(runs, null, 1) + "\n");
}
if (runs.length === 0) {
  console.error("no mutation run recorded yet: run `npm run mutation` first");
  process.exit(1);
}
writeAtomic(reportFile, render(runs, equivalent));
console.log(`wrote ${relative(root, reportFile)}`);
