// The Markdown summary of a run (results.md, and what the CLI prints at the end).
import type { RunResults } from "./results.js";

const fmt = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : String(value));
const pct = (value: number) => `${value >= 0 ? "+" : ""}${(value * 100).toFixed(1)}%`;

export function resultsTable(results: RunResults): string {
  const lines: string[] = [`# ${results.run}: held-out perplexity (lower is better)`, ""];
  const base = new Map((results.base ?? []).map((s) => [s.language, s]));
  const evaluated = results.targets.filter((t) => t.scores);
  const header = ["language", "base", ...evaluated.flatMap((t) => [`after ${t.language} (${t.method})`, "change"])];
  lines.push(`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`);
  const languages = results.languages.map((l) => l.code).filter((code) => base.has(code) || evaluated.some((t) => t.scores!.some((s) => s.language === code)));
  for (const code of languages) {
    const isTarget = evaluated.some((t) => t.language === code);
    const row = [isTarget ? `**${code}** (target)` : code, base.has(code) ? fmt(base.get(code)!.perplexity) : "-"];
    for (const target of evaluated) {
      const score = target.scores!.find((s) => s.language === code);
      const before = base.get(code);
      row.push(score ? fmt(score.perplexity) : "-", score && before ? pct(score.perplexity / before.perplexity - 1) : "-");
    }
    lines.push(`| ${row.join(" | ")} |`);
  }
  if (results.targets.length > 0) {
    lines.push("", "## Training", "", "| target | method | neurons | trainable params | share of model | steps | tokens | tok/s | best step | wall time |", "|---|---|---|---|---|---|---|---|---|---|");
    for (const t of results.targets) {
      lines.push(
        `| ${t.language} | ${t.method} | ${t.neuron_count} | ${t.trainable_parameters.toLocaleString("en-US")} | ${(t.parameter_share * 100).toFixed(3)}% | ${t.steps} | ${t.tokens.toLocaleString("en-US")} | ${fmt(t.tokens_per_second, 0)} | ${t.best_step} | ${fmt(t.seconds, 1)} s |`,
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
