// results.md sections of the optional stages: the deactivation matrix, steering and the atlas summary.
import { fmt } from "./format.js";
import type { RunResults } from "./results.js";
import { formatShare } from "./steering.js";

const pct = (value: number | null | undefined) => (value === null || value === undefined ? "-" : `${value >= 0 ? "+" : ""}${(value * 100).toFixed(1)}%`);

/** Columns shown: every scored language when few, else only the deactivated ones (the CSV has all). */
const MAX_COLUMNS = 12;

export function deactivationTable(results: RunResults): string[] {
  const d = results.deactivation;
  if (!d) return [];
  const deactivated = [...new Set(d.rows.map((r) => r.deactivated))];
  const columns = d.evaluated.length <= MAX_COLUMNS ? d.evaluated : d.evaluated.filter((c) => deactivated.includes(c));
  const header = ["neurons off", "count", ...columns, "others, mean"];
  const lines = [
    "## Deactivation: held-out perplexity change when a language's neurons are switched off (vs base)",
    "",
    "Rows: whose neurons are off (random = as many random neurons per layer, the control). A language's own column (bold) should rise far more than the rest of its row and than its control.",
    "",
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
  ];
  for (const row of d.rows) {
    const summary = d.summary.find((s) => s.language === row.deactivated);
    const others = d.evaluated.filter((c) => c !== row.deactivated).map((c) => row.change[c]).filter((x): x is number => typeof x === "number");
    const othersMean = row.control === "language" ? summary?.others_mean_change : others.length ? others.reduce((a, b) => a + b, 0) / others.length : null;
    const cells = columns.map((c) => (c === row.deactivated ? `**${pct(row.change[c])}**` : pct(row.change[c])));
    lines.push(`| ${[row.control === "random" ? `${row.deactivated} (random)` : row.deactivated, row.neurons, ...cells, pct(othersMean)].join(" | ")} |`);
  }
  if (d.base) lines.push("", `Base perplexity: ${d.evaluated.map((c) => `${c} ${fmt(d.base![c])}`).join(", ")}.`);
  return [...lines, ""];
}

export function atlasSection(results: RunResults): string[] {
  const a = results.atlas;
  if (!a) return [];
  const lines = [
    `## Atlas: ${a.languages} languages`,
    "",
    `Neurons per language: min ${a.neurons.min}, median ${a.neurons.median}, max ${a.neurons.max}; ${a.neurons.total_unique} distinct neurons in all; ${a.clusters} clusters.` +
      (a.empty.length ? ` No neuron: ${a.empty.join(", ")}.` : ""),
    "",
    "Most overlapping pairs (Jaccard of neuron sets): " + a.most_similar.map((p) => `${p.a}-${p.b} ${fmt(p.jaccard, 3)}${p.shared !== undefined ? ` (${p.shared} shared)` : ""}`).join(", ") + ".",
  ];
  for (const s of a.subsets) lines.push("", `Subset ${s.name} (${s.languages} languages selected alone): mean Jaccard with the all-language sets ${fmt(s.mean_jaccard_with_all, 3)}.`);
  lines.push("", `Files in ${a.dir}: ${a.files.join(", ")}; every set in the reference format: ${a.reference_path}.`, "");
  return lines;
}

/** Outputs quoted per row (results.json has them all). */
const QUOTED = 2;

export function steeringTable(results: RunResults): string[] {
  const rows = results.steering;
  if (!rows?.length) return [];
  const mode = rows[0].mode === "mean" ? "act_fn(gate) of each `to` neuron set to strength x its mean active value" : "strength added to act_fn(gate) x up of each `to` neuron";
  const lines = [
    "## Steering: outputs in the target language, base vs steered",
    "",
    `\`from\`'s neurons off, ${mode}; greedy outputs from openings of \`from\`'s held-out text. Cells: outputs in that language / outputs (95% Wilson interval). (random): the control, random sets as large as both languages' in every layer.`,
    "",
    "| from | to | strength | target, base | target, steered | source, base | source, steered | changed | seconds |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const total = r.outputs.length;
    lines.push(`| ${r.from} | ${r.to} | ${r.strength}${r.control === "random" ? " (random)" : ""} | ${formatShare(r.base.target)} | ${formatShare(r.steered.target)} | ${formatShare(r.base.source)} | ${formatShare(r.steered.source)} | ${r.changed}/${total} | ${fmt(r.seconds, 1)} |`);
  }
  const unknown = rows.filter((r) => !r.identifiable).map((r) => r.to);
  if (unknown.length) lines.push("", `The language identifier does not know ${[...new Set(unknown)].join(", ")}: outputs in it cannot be counted.`);
  for (const r of rows.filter((row) => row.control === "language")) {
    for (const o of r.outputs.slice(0, QUOTED)) {
      lines.push("", `${r.from} -> ${r.to} at ${r.strength}, "${o.prompt}": base (${o.base_language || "?"}) "${o.base}"; steered (${o.steered_language || "?"}) "${o.steered}"`);
    }
  }
  return [...lines, ""];
}
