// The selection search's choice rule and the results.md sections of the reviewer checks, on
// hand-made results whose every cell is worked out here.
import { describe, expect, it } from "vitest";
import { bestCandidate } from "../ts/pipeline/selection-search-jobs.js";
import { componentShareTable, selectionSearchTables, transferNote } from "../ts/results/search-tables.js";
import { method, results } from "./helpers/hand-results.js";

describe("bestCandidate", () => {
  it("takes the lowest validation loss, the first listed on a tie, and skips untrained candidates", () => {
    const points = (losses: (number | null)[]) => losses.map((validation_loss, i) => ({ id: `c${i}`, validation_loss }));
    expect(bestCandidate(points([5.1, 4.9, 5.0]))?.id).toBe("c1");
    expect(bestCandidate(points([4.9, 5.0, 4.9]))?.id).toBe("c0");
    expect(bestCandidate(points([null, 6.0, Number.NaN, 5.5]))?.id).toBe("c3");
    expect(bestCandidate(points([null, null]))).toBeUndefined();
  });
});

describe("results.md sections of the reviewer checks", () => {
  it("lists each component's perplexity, change and share", () => {
    const r = results();
    // English listed first: the table must read af's base and af's whole-pack score
    r.base = [{ language: "en", perplexity: 7, mean_loss: 2, tokens: 10 }, { language: "af", perplexity: 100, mean_loss: 4.6, tokens: 10 }];
    r.targets = [
      method({
        scores: [{ language: "en", perplexity: 8, mean_loss: 2.1, tokens: 10 }, { language: "af", perplexity: 50, mean_loss: 3.9, tokens: 10 }],
        component_share: [
          { component: "gate", perplexity: 90, mean_loss: 4.5, share: 0.1 / 0.7 },
          { component: "down", perplexity: 60, mean_loss: 4.1, share: 0.5 / 0.7 },
        ],
      }),
    ];
    expect(componentShareTable(r, "af")).toEqual([
      "## Target af: which component carries the gain (the pack applied one component at a time, the others at base)",
      "",
      "Share = (base loss - loss with the component alone) / (base loss - loss with the whole pack), in nats per token; shares need not sum to 1 (the components interact).",
      "",
      "| method | applied | af perplexity | change vs base | share of the gain |",
      "|---|---|---|---|---|",
      "| sparse | all | 50.00 | -50.0% | 100% |",
      "| sparse | gate only | 90.00 | -10.0% | 14% |",
      "| sparse | down only | 60.00 | -40.0% | 71% |",
      "",
    ]);
    expect(componentShareTable(r, "nl")).toEqual([]);
    // no base score: no change; a component that made it worse: "+"; a pack that gained nothing: no share
    r.targets[0].component_share = [{ component: "up", perplexity: 100, mean_loss: 4.6, share: null }, { component: "gate", perplexity: 120, mean_loss: 4.8, share: -0.2 / 0.7 }];
    expect(componentShareTable(r, "af").slice(-3)).toEqual(["| sparse | up only | 100.00 | +0.0% | - |", "| sparse | gate only | 120.00 | +20.0% | -29% |", ""]);
    r.targets[0].scores = null;
    r.base = null;
    expect(componentShareTable(r, "af").slice(-3)).toEqual(["| sparse | up only | 100.00 | - | - |", "| sparse | gate only | 120.00 | - | -29% |", ""]);
  });

  it("writes the candidates' counts and each target's curve with the choice marked", () => {
    const r = results();
    r.languages = [{ code: "en", name: "English", tokens_counted: 1 }, { code: "af", name: "Afrikaans", tokens_counted: 1 }];
    const a = { id: "a", top_rate: 0.01, filter_rate: 0.95, activation_bar_ratio: 0.95 };
    const b = { id: "b", top_rate: 0.05, filter_rate: 0.95, activation_bar_ratio: 0.95 };
    r.selection_search = {
      candidates: [
        { ...a, selected_neuron_count: 12, neuron_sets: [{ language: "en", neuron_count: 7 }, { language: "af", neuron_count: 5 }] },
        { ...b, selected_neuron_count: null, neuron_sets: null },
      ],
      targets: [{ language: "af", method: "sparse", steps: 20, chosen: "b", candidates: [{ ...a, neurons: 5, validation_loss: 4.56789 }, { ...b, neurons: 0, validation_loss: null }] }],
    };
    expect(selectionSearchTables(r)).toEqual([
      "## Neuron selection: candidate parameters (LAPE once per combination)",
      "",
      "| top_rate | filter_rate | activation_bar_ratio | selected | en | af |",
      "|---|---|---|---|---|---|",
      "| 0.01 | 0.95 | 0.95 | 12 | 7 | 5 |",
      "| 0.05 | 0.95 | 0.95 | not run | - | - |",
      "",
      "## Target af: choosing its selection (20-step sparse training per candidate, held-out validation loss after it)",
      "",
      "| top_rate | filter_rate | activation_bar_ratio | neurons | validation loss | |",
      "|---|---|---|---|---|---|",
      "| 0.01 | 0.95 | 0.95 | 5 | 4.5679 |  |",
      "| 0.05 | 0.95 | 0.95 | 0 | not trained (no neurons) | **chosen** |",
      "",
    ]);
    // a candidate whose sets do not cover a language shows it as -
    r.selection_search.candidates[0].neuron_sets = [{ language: "af", neuron_count: 5 }];
    expect(selectionSearchTables(r)[4]).toBe("| 0.01 | 0.95 | 0.95 | 12 | - | 5 |");
    r.selection_search = null;
    expect(selectionSearchTables(r)).toEqual([]);
  });

  it("names transfer rows, and nothing for a target's own", () => {
    expect(transferNote([method({}), method({ label: "sparse@nl", neurons_of: "nl" })])).toEqual(["", "Transfer without re-selection: sparse@nl = sparse on nl's neurons."]);
    expect(transferNote([method({})])).toEqual([]);
    expect(transferNote([method({ label: "sparse@nl", neurons_of: "nl" }), method({ label: "neuron-lora@de", method: "neuron-lora", neurons_of: "de" })]))
      .toEqual(["", "Transfer without re-selection: sparse@nl = sparse on nl's neurons; neuron-lora@de = neuron-lora on de's neurons."]);
  });
});

describe("result records of the reviewer checks", async () => {
  const { resultRecords } = await import("../ts/results/records.js");
  it("has a perplexity and a share per component, and each candidate's curve point", () => {
    const r = results();
    // English first in both lists: the component's record must take af's base and af's token count
    r.base = [{ language: "en", perplexity: 7, mean_loss: 2, tokens: 99 }, { language: "af", perplexity: 100, mean_loss: 4.6, tokens: 10 }];
    r.targets = [method({ scores: [{ language: "en", perplexity: 8, mean_loss: 2.1, tokens: 99 }, { language: "af", perplexity: 50, mean_loss: 3.9, tokens: 10 }], component_share: [{ component: "down", perplexity: 60, mean_loss: 4.1, share: 0.5 / 0.7 }] })];
    const a = { id: "a", top_rate: 0.01, filter_rate: 0.95, activation_bar_ratio: 0.95 };
    r.selection_search = { candidates: [], targets: [{ language: "af", method: "sparse", steps: 20, chosen: "a", candidates: [{ ...a, neurons: 5, validation_loss: 4.5 }] }] };
    const records = resultRecords(r);
    const none = { stderr: null, within_2se: null };
    expect(records.filter((x) => x.measure.includes("_down"))).toEqual([
      { target: "af", method: "sparse", measure: "perplexity_down_only", language: "af", unit: "perplexity", value: 60, n: 10, delta: -40, relative_change: 60 / 100 - 1, ...none },
      { target: "af", method: "sparse", measure: "gain_share_down", language: "af", unit: "fraction", value: 0.5 / 0.7, n: null, delta: null, relative_change: null, ...none },
    ]);
    const at = { target: "af", method: "search:a", language: "af", delta: null, relative_change: null, ...none };
    expect(records.filter((x) => x.method.startsWith("search:"))).toEqual([
      { ...at, measure: "search_neurons", unit: "neurons", value: 5, n: null },
      { ...at, measure: "search_validation_loss", unit: "nats/token", value: 4.5, n: 20 },
      { ...at, measure: "search_chosen", unit: "bool", value: 1, n: null },
    ]);
    r.selection_search.targets[0].chosen = "b"; // another candidate chosen: a is not
    expect(resultRecords(r).find((x) => x.measure === "search_chosen")!.value).toBe(0);
    // a component's perplexity without a base score or the pack's own score: no change, no n
    r.base = null;
    r.base_alignment = null;
    r.targets[0].scores = null;
    const unscored = resultRecords(r);
    expect(unscored.find((x) => x.measure === "perplexity_down_only")).toMatchObject({ value: 60, n: null, delta: null, relative_change: null });
    expect(unscored.filter((x) => x.method === "base" && (x.measure === "perplexity" || x.measure.startsWith("alignment")))).toEqual([]); // no base scores, no base records
  });
});
