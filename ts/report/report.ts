// `sparse-sub report`: one self-contained HTML page per run (what `run` also writes at its end):
// the results tables, the paper's figures and the run's facts; a partial run's page says what
// is missing. `sparse-sub compare` puts several runs on one page.
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../atomic-files.js";
import { PACKAGE_VERSION } from "../package-info.js";
import { fmt, scoredLanguages, signed } from "../results/format.js";
import { paperTable, withinNoise, type Measured } from "../results/paper.js";
import { readResults, renderResults } from "../results/render.js";
import type { RunResults } from "../results/results.js";
import { formatShare } from "../results/steering.js";
import { readPlannedRun, reportData, type ReportData } from "./data.js";
import { download, escapeHtml, figure, page, table, type Cell } from "./page.js";

export const REPORT_FILE = "report.html";


/** Writes the run's report (default: <run>/report.html) and returns where. */
export function writeReport(runDir: string, out?: string): string {
  const path = resolve(out ?? join(runDir, REPORT_FILE));
  writeFileAtomic(path, runReport(runDir));
  return path;
}

export function runReport(runDir: string): string {
  const results = readResults(runDir);
  const data = reportData(results, runDir);
  const body = [
    `<header><h1>sparse-sub run <code>${escapeHtml(results.run)}</code> <span class="status ${results.status}">${results.status}</span></h1>`,
    `<p class="note">${escapeHtml(results.model.source)} · started ${escapeHtml(results.started_at)} · report by sparse-sub ${PACKAGE_VERSION}</p>`,
    navigation(results, data),
    `</header>`,
    ...missingSection(results, data),
    ...data.targets.flatMap((target) => targetSection(results, data, target)),
    ...interventionSections(results, data),
    ...selectionSection(results, data),
    ...factsSection(results, data, runDir),
  ];
  return page(`sparse-sub: ${results.run}`, body, data);
}

function navigation(results: RunResults, data: ReportData): string {
  const links = [
    ...data.targets.map((t) => [`target-${t}`, `target ${t}`]),
    ...(results.deactivation?.rows.length ? [["deactivation", "deactivation"]] : []),
    ...(results.steering?.length ? [["steering", "steering"]] : []),
    ...(results.atlas ? [["atlas", "atlas"]] : []),
    ["selection", "neurons"],
    ["facts", "run facts"],
  ];
  return `<nav>${links.map(([id, label]) => `<a href="#${escapeHtml(id)}">${escapeHtml(label)}</a>`).join("")}</nav>`;
}

function missingSection(results: RunResults, data: ReportData): string[] {
  if (data.missing.length === 0 && results.status === "complete") return [];
  const why = results.status === "complete" ? "" : `<p>This run is <strong>${results.status}</strong>${results.error ? `: ${escapeHtml(results.error)}` : ""}. Resuming it runs only what is missing.</p>`;
  const list = data.missing.length ? `<p>Not in this report yet:</p><ul>${data.missing.map((m) => `<li><code>${escapeHtml(m)}</code></li>`).join("")}</ul>` : "";
  return [`<section class="missing" id="missing"><h2>What is missing</h2>${why}${list}</section>`];
}

function targetSection(results: RunResults, data: ReportData, target: string): string[] {
  const has = (rows: { target: string }[]) => rows.some((r) => r.target === target);
  return [
    `<section id="target-${escapeHtml(target)}"><h2>Target ${escapeHtml(target)}</h2>`,
    perplexityTable(results, target),
    benchmarkTable(results, target),
    has(data.loss)
      ? figure(`loss-${target}`, "loss", "loss", `Training loss (thin lines) and validation loss (dashed, with dots) of every method on ${target}, per optimizer step.`, { target })
      : "",
    has(data.weights)
      ? figure(`weights-${target}`, "weights", "weights", `Where each method moved the MLP weights on ${target}: ‖ΔW‖ of the whole gate, up and down matrices per layer.`, { target })
      : "",
    data.downOverGate.some((r) => r.target === target)
      ? figure(`ratio-${target}`, "ratio", "downOverGate", `How much more down_proj moved than gate_proj (the paper's down_proj observation; the table's down/gate): 1 = as much.`, { target })
      : "",
    has(data.alignment)
      ? figure(`alignment-${target}`, "alignment", "alignment", `Cross-lingual alignment of ${target} with English per layer: base (dashed) and each trained method.`, { target })
      : "",
    `</section>`,
  ];
}

function perplexityTable(results: RunResults, target: string): string {
  const base = new Map((results.base ?? []).map((s) => [s.language, s.perplexity]));
  const methods = results.targets.filter((t) => t.language === target);
  const languages = scoredLanguages(results, methods);
  const row = (name: string, scores: { language: string; perplexity: number }[] | null, isBase: boolean): (string | Cell)[] => {
    const byLanguage = new Map((scores ?? []).map((s) => [s.language, s.perplexity]));
    return [
      escapeHtml(name),
      ...languages.map((code): Cell | string => {
        if (!scores) return { html: "not evaluated", className: "missing-cell" };
        const value = byLanguage.get(code);
        if (value === undefined) return "-";
        const before = base.get(code);
        const change = isBase || before === undefined ? "" : `<small>${signed((value / before - 1) * 100)}%</small>`;
        return { html: `${fmt(value)}${change}`, className: code === target ? "target" : "" };
      }),
    ];
  };
  return table(
    `Held-out perplexity (lower is better; change vs base)`,
    ["method", ...languages.map((code) => (code === target ? `${code} (target)` : code))],
    [row("base", results.base, true), ...methods.map((m) => row(m.label, m.scores, false))],
  );
}

function benchmarkTable(results: RunResults, target: string): string {
  const { columns, rows } = paperTable(results, target);
  if (columns.length === 0) return "";
  const base = rows[0];
  const cell = (value: Measured | null | undefined, before: Measured | null | undefined, isBase: boolean, evaluated: boolean): Cell | string => {
    if (!evaluated) return { html: "missing", className: "missing-cell" };
    if (!value) return "-";
    const score = `${fmt(value.value, 1)} ±${fmt(value.stderr, 1)}`;
    if (isBase || !before) return score;
    const noise = withinNoise(value, before);
    return { html: `${score}<small>${signed(value.value - before.value)}${noise ? " (within 2 SE)" : ""}</small>`, className: noise ? "noise" : "" };
  };
  return table(
    `Benchmarks (score ± standard error; change vs base in points)`,
    ["method", `${target} average`, "general average", ...columns.map((c) => `${c.title} n=${c.items}`)],
    rows.map((row) => {
      const isBase = row.method === "base";
      return [
        escapeHtml(row.method),
        cell(row.targetAverage, base.targetAverage, isBase, row.evaluated),
        cell(row.generalAverage, base.generalAverage, isBase, row.evaluated),
        ...columns.map((c) => cell(row.values.get(c.key), base.values.get(c.key), isBase, row.evaluated)),
      ];
    }),
    "chrF 0-100 for translation, accuracy % for multiple choice; n = items scored. A change within two standard errors of the difference is not distinguishable from no change.",
  );
}

function interventionSections(results: RunResults, data: ReportData): string[] {
  const parts: string[] = [];
  const d = results.deactivation;
  if (d && d.rows.length > 0) {
    parts.push(
      `<section id="deactivation"><h2>Deactivation</h2>`,
      `<p class="note">Each row switches one language's neurons off (or, "(random)", as many random neurons per layer) and scores every language's held-out text. A language's own neurons should raise its own perplexity far more than the others' and than the control.</p>`,
      table("Own perplexity change vs the rest of the row and the control", ["neurons off", "own change", "others, mean", "others, max", "random control, own"],
        d.summary.map((s) => [escapeHtml(s.language), pctOf(s.own_change), pctOf(s.others_mean_change), pctOf(s.others_max_change), pctOf(s.random_own_change)])),
      figure("deactivation", "deactivation", "deactivation", "Relative change of held-out perplexity (colour) per evaluated language (columns) with a language's neurons off (rows)."),
      `</section>`,
    );
  }
  const steering = results.steering ?? [];
  if (steering.length > 0) {
    parts.push(
      `<section id="steering"><h2>Steering</h2>`,
      `<p class="note">Greedy outputs from openings of the source language's held-out text, with its neurons off and the target's pushed up (${steering[0].mode === "mean" ? "set to strength x their mean active value" : "strength added"}); each output's language identified offline. Cells: outputs in that language / outputs (95% Wilson interval).</p>`,
      table("Outputs in the target and the source language, base vs steered", ["from -> to", "strength", "target, base", "target, steered", "source, base", "source, steered", "changed"],
        steering.map((r) => [escapeHtml(`${r.from} -> ${r.to}${r.control === "random" ? " (random)" : ""}`), String(r.strength), formatShare(r.base.target), formatShare(r.steered.target), formatShare(r.base.source), formatShare(r.steered.source), `${r.changed}/${r.outputs.length}`])),
      table("Examples (first output of each row)", ["from -> to", "strength", "prompt", "base", "steered"],
        steering.filter((r) => r.control === "language" && r.outputs.length > 0).map((r) => {
          const o = r.outputs[0];
          return [escapeHtml(`${r.from} -> ${r.to}`), String(r.strength), escapeHtml(o.prompt), escapeHtml(`${o.base} [${o.base_language || "?"}]`), escapeHtml(`${o.steered} [${o.steered_language || "?"}]`)];
        })),
      `</section>`,
    );
  }
  const a = results.atlas;
  if (a) {
    parts.push(
      `<section id="atlas"><h2>Atlas of ${a.languages} languages</h2>`,
      `<p class="note">Neurons per language: min ${a.neurons.min}, median ${a.neurons.median}, max ${a.neurons.max}; ${a.clusters} clusters (average linkage on 1 - Jaccard). Files: ${escapeHtml(a.files.join(", "))} in ${escapeHtml(a.dir)}.</p>`,
      table("Most overlapping pairs", ["languages", "Jaccard"], a.most_similar.map((p) => [escapeHtml(`${p.a} - ${p.b}`), fmt(p.jaccard, 3)])),
      data.overlap.length ? figure("overlap", "overlap", "overlap", "Jaccard overlap of every pair of languages' neuron sets, languages grouped by cluster.") : `<p class="note">${a.languages} languages: too many for a heatmap; atlas/overlap.csv holds the matrix.</p>`,
      `</section>`,
    );
  }
  return parts;
}

const pctOf = (value: number | null) => (value === null ? "-" : `${value >= 0 ? "+" : ""}${(value * 100).toFixed(1)}%`);

function selectionSection(results: RunResults, data: ReportData): string[] {
  if (data.neurons.length === 0) return [];
  const selection = results.selection;
  const summary = selection
    ? `<p class="note">LAPE with top_rate ${selection.top_rate}, filter_rate ${selection.filter_rate}, activation_bar_ratio ${selection.activation_bar_ratio}: ${selection.selected_neuron_count} of ${selection.total_neuron_count} neurons selected.</p>`
    : "";
  return [
    `<section id="selection"><h2>Language-specific neurons</h2>${summary}`,
    table("Neurons per language", ["language", "neurons"], (selection?.neuron_sets ?? []).map((s) => [escapeHtml(s.language), String(s.neuron_count)])),
    figure("neurons", "neurons", "neurons", "Selected neurons per decoder layer, per language."),
    data.shared.length ? figure("shared", "shared", "shared", "Neurons selected for two or more languages, per layer (LAPE's overlap).") : "",
    `</section>`,
  ];
}

/** The plan the run started with, folded away (printed in full when the page is printed). */
function planDetails(runDir: string): string {
  const planned = readPlannedRun(runDir);
  if (!planned) return "";
  return `<details class="plan"><summary>The plan (plan.resolved.json: every setting, defaults filled in)</summary><pre>${escapeHtml(JSON.stringify(planned, null, 2))}</pre></details>`;
}

function describeWorker(w: RunResults["workers"][number]): string {
  const memory = w.memory_total_bytes ? `, ${(w.memory_total_bytes / 2 ** 30).toFixed(0)} GiB` : "";
  const libraries = w.torch ? `, torch ${w.torch}, transformers ${w.transformers}` : "";
  return `${w.name} at ${w.address}: ${w.device}${memory}, worker ${w.version}${libraries}`;
}

function factsSection(results: RunResults, data: ReportData, runDir: string): string[] {
  const wall = (Date.parse(results.finished_at) - Date.parse(results.started_at)) / 1000;
  const facts: [string, string][] = [
    ["model", results.model.source + (results.model.gguf_file ? ` (${results.model.gguf_file})` : "")],
    ["dtype / device", `${results.model.dtype} / ${results.model.device}`],
    ["neuron source", results.neuron_source],
    ["languages", results.languages.map((l) => `${l.code}${l.tokens_counted !== null ? ` (${l.tokens_counted} tokens counted)` : ""}`).join(", ")],
    ["workers", results.workers.map(describeWorker).join("; ")],
    ["started / finished", `${results.started_at} / ${results.finished_at} (${fmt(wall, 0)} s this session)`],
    ["job time", `${fmt(data.jobs.filter((j) => !j.reused).reduce((a, j) => a + j.seconds, 0), 0)} s over ${data.jobs.length} jobs (${data.jobs.filter((j) => j.reused).length} reused from an earlier session)`],
    ["run directory", resolve(runDir)],
  ];
  return [
    `<section id="facts"><h2>Run facts</h2>`,
    `<dl>${facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join("")}</dl>`,
    planDetails(runDir),
    figure("jobs", "jobs", "jobs", "Wall time per job (a reused job shows the time it took when it ran)."),
    `<p>${download("all results (CSV, one record per target, method and measure)", `${results.run}-results.csv`, "text/csv", renderResults(results, "csv"))} · `,
    `${download("report data (JSON)", `${results.run}-report.json`, "application/json", JSON.stringify(data, null, 2))}</p>`,
    `</section>`,
  ];
}
