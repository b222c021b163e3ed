// The Markdown summary of a run (results.md, and what the CLI prints at the end): per target
// language, rows = base + each method, columns = held-out perplexity per language.
import { fmt, scoredLanguages, signed } from "./format.js";
import { paperTable, withinNoise, type Measured } from "./paper.js";
import { othersMeanChange, weightSummary } from "./records.js";
import type { RunResults, ScoreRow, TargetResult } from "./results.js";
import { atlasSection, deactivationTable, steeringTable } from "./stage-tables.js";
import { componentShareTable, selectionSearchTables, transferNote } from "./search-tables.js";

const pct = (value: number) => `${value >= 0 ? "+" : ""}${(value * 100).toFixed(1)}%`;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

function perplexityTable(results: RunResults, target: string, methods: TargetResult[]): string[] {
  const base = new Map((results.base ?? []).map((s) => [s.language, s]));
  const languages = scoredLanguages(results, methods);
  const header = ["method", ...languages.map((code) => (code === target ? `**${code}** (target)` : code)), "others, mean change"];
  const title = target ? `## Target ${target}: held-out perplexity (lower is better; change vs base)` : "## Base model: held-out perplexity (lower is better)";
  const lines = [title, "", `| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  const cell = (score: ScoreRow | undefined, before: ScoreRow | undefined, isBase: boolean) =>
    !score ? "-" : isBase || !before ? fmt(score.perplexity) : `${fmt(score.perplexity)} (${pct(score.perplexity / before.perplexity - 1)})`;
  const row = (name: string, scores: ScoreRow[] | null, isBase: boolean) => {
    const byLanguage = new Map((scores ?? []).map((s) => [s.language, s]));
    const change = isBase || !scores ? null : othersMeanChange(scores, results.base ?? [], target);
    const mean = change === null ? "-" : pct(change);
    const cells = scores ? languages.map((code) => cell(byLanguage.get(code), base.get(code), isBase)) : languages.map(() => "not evaluated");
    return `| ${[name, ...cells, mean].join(" | ")} |`;
  };
  lines.push(row("base", results.base, true));
  for (const method of methods) lines.push(row(method.label, method.scores, false));
  return [...lines, ...transferNote(methods)];
}


function benchmarkTable(results: RunResults, target: string): string[] {
  const { columns, rows } = paperTable(results, target);
  if (columns.length === 0) return [];
  const base = rows[0];
  const measured = (m: Measured) => `${fmt(m.value, 1)} ±${fmt(m.stderr, 1)}`;
  const cell = (value: Measured | null | undefined, before: Measured | null | undefined, isBase: boolean, evaluated: boolean) => {
    if (!evaluated) return "missing";
    if (!value) return "-";
    if (isBase || !before) return measured(value);
    return `${measured(value)} (${signed(value.value - before.value)}${withinNoise(value, before) ? " ~" : ""})`;
  };
  const header = ["method", `**${target} average**`, "general average", ...columns.map((c) => `${c.title} n=${c.items}`)];
  const lines = [
    `## Target ${target}: benchmarks (score ± standard error; change vs base in points)`,
    "",
    "chrF 0-100 for translation, accuracy % for multiple choice; n = items scored. A change marked ~ is within two standard errors of the difference: not distinguishable from no change.",
    "",
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
  ];
  for (const row of rows) {
    const isBase = row.method === "base";
    const cells = [
      cell(row.targetAverage, base.targetAverage, isBase, row.evaluated),
      cell(row.generalAverage, base.generalAverage, isBase, row.evaluated),
      ...columns.map((c) => cell(row.values.get(c.key), base.values.get(c.key), isBase, row.evaluated)),
    ];
    lines.push(`| ${[row.method, ...cells].join(" | ")} |`);
  }
  return [...lines, ""];
}

function analysisTables(results: RunResults, target: string): string[] {
  const methods = results.targets.filter((t) => t.language === target);
  const lines: string[] = [];
  const changed = methods.filter((m) => m.weight_change);
  if (changed.length > 0) {
    lines.push(
      `## Target ${target}: where the MLP weights moved (L2 norm of adapted - base, all layers; over ${target}'s neurons / whole matrix)`,
      "",
      "| method | gate | up | down | down / gate (whole) | share of down change in the last third of layers |",
      "|---|---|---|---|---|---|",
    );
    for (const m of changed) {
      const w = m.weight_change!;
      const pair = (p: { neurons: number; matrix: number }) => `${fmt(p.neurons, 3)} / ${fmt(p.matrix, 3)}`;
      const { downOverGate, downLateShare: share } = weightSummary(w);
      const ratio = downOverGate === null ? "-" : fmt(downOverGate, 2);
      lines.push(`| ${m.label} | ${pair(w.total.gate_proj)} | ${pair(w.total.up_proj)} | ${pair(w.total.down_proj)} | ${ratio} | ${(share * 100).toFixed(0)}% |`);
    }
    lines.push("");
  }
  const base = results.base_alignment?.find((a) => a.language === target);
  const aligned = methods.filter((m) => m.alignment?.some((a) => a.language === target));
  if (base || aligned.length > 0) {
    lines.push(`## Target ${target}: cross-lingual alignment with English (mean cosine of mean-pooled hidden states over layers)`, "", "| method | mean | change | last layer |", "|---|---|---|---|");
    const row = (name: string, a: { mean: number; per_layer: number[] } | undefined) =>
      a ? `| ${name} | ${fmt(a.mean, 4)} | ${base && name !== "base" ? signed(a.mean - base.mean, 4) : "-"} | ${fmt(a.per_layer.at(-1) ?? NaN, 4)} |` : `| ${name} | missing | | |`;
    lines.push(row("base", base));
    for (const m of aligned) lines.push(row(m.label, m.alignment!.find((a) => a.language === target)));
    lines.push("");
  }
  return lines;
}

export function resultsTable(results: RunResults): string {
  const lines: string[] = [`# ${results.run}`, ""];
  const targets = [...new Set(results.targets.map((t) => t.language))];
  for (const target of targets) lines.push(...benchmarkTable(results, target));
  if (targets.length === 0 && results.base && !results.deactivation) lines.push(...perplexityTable(results, "", []), "");
  for (const target of targets) lines.push(...perplexityTable(results, target, results.targets.filter((t) => t.language === target)), "");
  for (const target of targets) lines.push(...componentShareTable(results, target), ...analysisTables(results, target));
  if (results.targets.length > 0) {
    lines.push(
      "## Training",
      "",
      "| target | method | neurons | trainable params | share of model | steps | tokens | tok/s | peak memory | best step | wall time | worker |",
      "|---|---|---|---|---|---|---|---|---|---|---|---|",
    );
    for (const t of results.targets) {
      lines.push(
        `| ${t.language} | ${t.label} | ${t.neuron_count ?? "-"} | ${t.trainable_parameters.toLocaleString("en-US")} | ${(t.parameter_share * 100).toFixed(3)}% | ${t.steps}${t.diverged_step ? ` (**diverged** at ${t.diverged_step})` : ""} | ${t.tokens.toLocaleString("en-US")} | ${fmt(t.tokens_per_second, 0)} | ${mib(t.peak_memory_bytes)} | ${t.best_step} | ${fmt(t.seconds, 1)} s | ${t.worker} |`,
      );
    }
    for (const t of results.targets.filter((target) => target.diverged_step)) {
      lines.push("", `**${t.label} (${t.language}) diverged**: its loss was NaN or infinite at step ${t.diverged_step}; training stopped and its scores are those of step ${t.best_step}. Lower its learning_rate.`);
    }
  }
  if (results.deactivation || results.atlas) lines.push("", ...deactivationTable(results), ...atlasSection(results));
  if (results.steering?.length) lines.push("", ...steeringTable(results));
  if (results.selection_search) lines.push("", ...selectionSearchTables(results));
  if (results.neuron_source !== "lape") lines.push("", `Neuron sets: given in the plan (${results.neuron_source.replace("_", " ")}).`);
  if (results.selection) {
    const s = results.selection;
    lines.push("", `## Neuron selection (LAPE, top_rate ${s.top_rate})`, "", `${s.selected_neuron_count} of ${s.total_neuron_count} neurons selected.`, "");
    lines.push("| language | neurons | layers (count) |", "|---|---|---|");
    for (const set of s.neuron_sets) {
      const layers = Object.entries(set.per_layer).map(([layer, count]) => `${layer}:${count}`).join(" ");
      lines.push(`| ${set.language} | ${set.neuron_count} | ${layers || "-"} |`);
    }
  }
  if (results.status !== "complete") lines.push("", `**Run ${results.status}**${results.error ? `: ${results.error}` : ""}`);
  return lines.join("\n") + "\n";
}
