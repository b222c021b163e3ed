// `sparse-sub compare`: several runs on one page (two models, two top_rates, two seeds...): the
// settings that differ, the target-language perplexity and validation loss of every method.
import { basename, resolve } from "node:path";
import { writeFileAtomic } from "../atomic-files.js";
import { othersMeanChange } from "../results/records.js";
import { readResults } from "../results/render.js";
import type { RunResults } from "../results/results.js";
import { readPlannedRun } from "./data.js";
import { escapeHtml, figure, page, table } from "./page.js";

interface ComparedRun {
  name: string; // unique on the page: the run's name, or its folder when two runs share one
  dir: string;
  results: RunResults;
  settings: Map<string, string>; // flattened plan.resolved.json
}

export function writeComparison(runDirs: string[], out: string): string {
  const path = resolve(out);
  writeFileAtomic(path, compareRuns(runDirs));
  return path;
}

export function compareRuns(runDirs: string[]): string {
  if (runDirs.length < 2) throw new RangeError(`compare needs at least two run directories, got ${runDirs.length}`); // the CLI checks it first
  const runs = namedRuns(runDirs);
  const targets = [...new Set(runs.flatMap((r) => r.results.targets.map((t) => t.language)))];
  const data = {
    run: "comparison",
    perplexity: runs.flatMap((r) =>
      targets.flatMap((target) => [
        ...(r.results.base ?? []).filter((s) => s.language === target).map((s) => ({ run: r.name, target, method: "base", perplexity: s.perplexity })),
        ...r.results.targets.filter((t) => t.language === target).flatMap((t) =>
          (t.scores ?? []).filter((s) => s.language === target).map((s) => ({ run: r.name, target, method: t.label, perplexity: s.perplexity })),
        ),
      ]),
    ),
    validation: runs.flatMap((r) => r.results.targets.flatMap((t) => t.validation_loss.map((p) => ({ run: r.name, target: t.language, method: t.label, ...p })))),
  };
  const body = [
    `<header><h1>sparse-sub: ${runs.length} runs compared</h1>`,
    `<p class="note">${runs.map((r) => `<code>${escapeHtml(r.name)}</code> (${escapeHtml(r.dir)}, ${r.results.status})`).join(" · ")}</p></header>`,
    settingsSection(runs),
    ...targets.flatMap((target) => [
      `<section id="target-${escapeHtml(target)}"><h2>Target ${escapeHtml(target)}</h2>`,
      measuresTable(runs, target),
      figure(`perplexity-${target}`, "runs", "perplexity", `Held-out perplexity of ${target} per method (base included), one bar per run.`, { target }),
      figure(`validation-${target}`, "runloss", "validation", `Validation loss on ${target} per optimizer step, one line per run, one panel per method.`, { target }),
      `</section>`,
    ]),
  ];
  return page(`sparse-sub: ${runs.map((r) => r.name).join(" vs ")}`, body, data);
}

function namedRuns(runDirs: string[]): ComparedRun[] {
  const runs = runDirs.map((dir) => {
    const results = readResults(dir);
    return { name: results.run, dir: resolve(dir), results, settings: flatten(readPlannedRun(dir) ?? {}) };
  });
  for (const run of runs) if (runs.filter((r) => r.name === run.name).length > 1) run.name = `${run.name} (${basename(run.dir)})`;
  return runs;
}

/** "training.methods[0].learning_rate" -> "0.0001": every leaf of the plan. */
function flatten(value: unknown, prefix = "", into = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(value)) value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, into));
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, into);
  else into.set(prefix, JSON.stringify(value));
  return into;
}

const NOT_SETTINGS = /^(output\.dir|name|\$schema)$/; // differ between any two runs, and change no number

function settingsSection(runs: ComparedRun[]): string {
  const keys = [...new Set(runs.flatMap((r) => [...r.settings.keys()]))].filter((k) => !NOT_SETTINGS.test(k)).sort();
  const differing = keys.filter((k) => new Set(runs.map((r) => r.settings.get(k) ?? "(unset)")).size > 1);
  if (differing.length === 0) return `<section id="settings"><h2>Settings</h2><p>The runs' plans agree on every setting (apart from name and output).</p></section>`;
  return [
    `<section id="settings"><h2>Settings that differ</h2>`,
    table("plan.resolved.json fields whose values differ", ["setting", ...runs.map((r) => r.name)], differing.map((k) => [escapeHtml(k), ...runs.map((r) => escapeHtml(r.settings.get(k) ?? "(unset)"))])),
    `</section>`,
  ].join("");
}

function measuresTable(runs: ComparedRun[], target: string): string {
  const methods = [...new Set(runs.flatMap((r) => r.results.targets.filter((t) => t.language === target).map((t) => t.label)))];
  const cell = (run: ComparedRun, method: string) => {
    const base = run.results.base ?? [];
    const scores = method === "base" ? base : run.results.targets.find((t) => t.language === target && t.label === method)?.scores;
    const own = scores?.find((s) => s.language === target);
    if (!scores || !own) return "-";
    const others = method === "base" ? null : othersMeanChange(scores, base, target);
    return `${own.perplexity.toFixed(2)}${others === null ? "" : `<small>others ${others >= 0 ? "+" : ""}${(others * 100).toFixed(1)}%</small>`}`;
  };
  return table(
    `Held-out perplexity of ${target} (and the other languages' mean change vs each run's base)`,
    ["method", ...runs.map((r) => r.name)],
    ["base", ...methods].map((m) => [escapeHtml(m), ...runs.map((r) => cell(r, m))]),
  );
}
