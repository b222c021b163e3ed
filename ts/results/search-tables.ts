// results.md sections of the reviewer checks: the selection search (identification lists), each
// component's share of a pack's gain, and the note naming transfer rows.
import { fmt } from "./format.js";
import type { RunResults, TargetResult } from "./results.js";

const pct = (value: number) => `${value >= 0 ? "+" : ""}${(value * 100).toFixed(1)}%`;

/** Neuron counts per candidate selection (how the counts move with each parameter), then per
 * target the short trainings' curve: parameters -> neurons -> validation loss, the choice marked. */
export function selectionSearchTables(results: RunResults): string[] {
  const search = results.selection_search;
  if (!search) return [];
  const languages = results.languages.map((l) => l.code);
  const header = ["top_rate", "filter_rate", "activation_bar_ratio", "selected", ...languages];
  const lines = [
    "## Neuron selection: candidate parameters (LAPE once per combination)",
    "",
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
  ];
  for (const c of search.candidates) {
    const counts = languages.map((code) => String(c.neuron_sets?.find((s) => s.language === code)?.neuron_count ?? "-"));
    lines.push(`| ${[c.top_rate, c.filter_rate, c.activation_bar_ratio, c.selected_neuron_count ?? "not run", ...counts].join(" | ")} |`);
  }
  for (const choice of search.targets) {
    lines.push(
      "",
      `## Target ${choice.language}: choosing its selection (${choice.steps}-step ${choice.method} training per candidate, held-out validation loss after it)`,
      "",
      "| top_rate | filter_rate | activation_bar_ratio | neurons | validation loss | |",
      "|---|---|---|---|---|---|",
    );
    for (const c of choice.candidates) {
      const loss = c.validation_loss === null ? "not trained (no neurons)" : fmt(c.validation_loss, 4);
      lines.push(`| ${c.top_rate} | ${c.filter_rate} | ${c.activation_bar_ratio} | ${c.neurons} | ${loss} | ${c.id === choice.chosen ? "**chosen**" : ""} |`);
    }
  }
  return [...lines, ""];
}

/** Per target: each pack's components applied alone, their perplexity and share of the whole pack's gain. */
export function componentShareTable(results: RunResults, target: string): string[] {
  const methods = results.targets.filter((t) => t.language === target && t.component_share);
  if (methods.length === 0) return [];
  const base = results.base?.find((s) => s.language === target);
  const lines = [
    `## Target ${target}: which component carries the gain (the pack applied one component at a time, the others at base)`,
    "",
    "Share = (base loss - loss with the component alone) / (base loss - loss with the whole pack), in nats per token; shares need not sum to 1 (the components interact).",
    "",
    `| method | applied | ${target} perplexity | change vs base | share of the gain |`,
    "|---|---|---|---|---|",
  ];
  const change = (perplexity: number) => (base ? pct(perplexity / base.perplexity - 1) : "-");
  for (const m of methods) {
    const whole = m.scores?.find((s) => s.language === target);
    if (whole) lines.push(`| ${m.label} | all | ${fmt(whole.perplexity)} | ${change(whole.perplexity)} | 100% |`);
    for (const c of m.component_share!) {
      lines.push(`| ${m.label} | ${c.component} only | ${fmt(c.perplexity)} | ${change(c.perplexity)} | ${c.share === null ? "-" : `${(c.share * 100).toFixed(0)}%`} |`);
    }
  }
  return [...lines, ""];
}

/** A line naming the rows trained on another language's neurons, under the target's tables. */
export function transferNote(methods: TargetResult[]): string[] {
  const transfers = methods.filter((m) => m.neurons_of && m.neurons_of !== m.language); // results from before transfers have none
  if (transfers.length === 0) return [];
  return ["", `Transfer without re-selection: ${transfers.map((m) => `${m.label} = ${m.method} on ${m.neurons_of}'s neurons`).join("; ")}.`];
}
