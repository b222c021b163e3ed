// The Markdown summary of a run (results.md, and what the CLI prints at the end): per target
// language, rows = base + each method, columns = held-out perplexity per language.
import type { RunResults, ScoreRow, TargetResult } from "./results.js";

const fmt = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : String(value));
const pct = (value: number) => `${value >= 0 ? "+" : ""}${(value * 100).toFixed(1)}%`;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

function perplexityTable(results: RunResults, target: string, methods: TargetResult[]): string[] {
  const base = new Map((results.base ?? []).map((s) => [s.language, s]));
  const languages = results.languages
    .map((l) => l.code)
    .filter((code) => base.has(code) || methods.some((m) => m.scores?.some((s) => s.language === code)));
  const others = languages.filter((code) => code !== target);
  const header = ["method", ...languages.map((code) => (code === target ? `**${code}** (target)` : code)), "others, mean change"];
  const lines = [`## Target ${target}: held-out perplexity (lower is better; change vs base)`, "", `| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  const cell = (score: ScoreRow | undefined, before: ScoreRow | undefined, isBase: boolean) =>
    !score ? "-" : isBase || !before ? fmt(score.perplexity) : `${fmt(score.perplexity)} (${pct(score.perplexity / before.perplexity - 1)})`;
  const row = (name: string, scores: ScoreRow[] | null, isBase: boolean) => {
    const byLanguage = new Map((scores ?? []).map((s) => [s.language, s]));
    const changes = others.filter((c) => byLanguage.has(c) && base.has(c)).map((c) => byLanguage.get(c)!.perplexity / base.get(c)!.perplexity - 1);
    const mean = !isBase && changes.length ? pct(changes.reduce((a, b) => a + b, 0) / changes.length) : "-";
    const cells = scores ? languages.map((code) => cell(byLanguage.get(code), base.get(code), isBase)) : languages.map(() => "not evaluated");
    return `| ${[name, ...cells, mean].join(" | ")} |`;
  };
  lines.push(row("base", results.base, true));
  for (const method of methods) lines.push(row(method.label, method.scores, false));
  return lines;
}

export function resultsTable(results: RunResults): string {
  const lines: string[] = [`# ${results.run}`, ""];
  const targets = [...new Set(results.targets.map((t) => t.language))];
  if (targets.length === 0 && results.base) lines.push(...perplexityTable(results, "", []), "");
  for (const target of targets) lines.push(...perplexityTable(results, target, results.targets.filter((t) => t.language === target)), "");
  if (results.targets.length > 0) {
    lines.push(
      "## Training",
      "",
      "| target | method | neurons | trainable params | share of model | steps | tokens | tok/s | peak memory | best step | wall time |",
      "|---|---|---|---|---|---|---|---|---|---|---|",
    );
    for (const t of results.targets) {
      lines.push(
        `| ${t.language} | ${t.label} | ${t.neuron_count ?? "-"} | ${t.trainable_parameters.toLocaleString("en-US")} | ${(t.parameter_share * 100).toFixed(3)}% | ${t.steps} | ${t.tokens.toLocaleString("en-US")} | ${fmt(t.tokens_per_second, 0)} | ${mib(t.peak_memory_bytes)} | ${t.best_step} | ${fmt(t.seconds, 1)} s |`,
      );
    }
  }
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
