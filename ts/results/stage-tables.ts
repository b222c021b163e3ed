// results.md sections of the optional stages: the deactivation matrix and the atlas summary.
import { fmt } from "./format.js";
import type { RunResults } from "./results.js";

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
