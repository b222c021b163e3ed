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
    r.base = [{ language: "af", perplexity: 100, mean_loss: 4.6, tokens: 10 }];
    r.targets = [
      method({
        scores: [{ language: "af", perplexity: 50, mean_loss: 3.9, tokens: 10 }],
        component_share: [
          { component: "gate", perplexity: 90, mean_loss: 4.5, share: 0.1 / 0.7 },
          { component: "down", perplexity: 60, mean_loss: 4.1, share: 0.5 / 0.7 },
        ],
      }),
    ];
    const lines = componentShareTable(r, "af");
    expect(lines.slice(-4)).toEqual([
      "| sparse | all | 50.00 | -50.0% | 100% |",
      "| sparse | gate only | 90.00 | -10.0% | 14% |",
      "| sparse | down only | 60.00 | -40.0% | 71% |",
      "",
    ]);
    expect(componentShareTable(r, "nl")).toEqual([]);
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
    const text = selectionSearchTables(r).join("\n");
    expect(text).toContain("| 0.01 | 0.95 | 0.95 | 12 | 7 | 5 |\n| 0.05 | 0.95 | 0.95 | not run | - | - |");
    expect(text).toContain("## Target af: choosing its selection (20-step sparse training per candidate");
    expect(text).toContain("| 0.01 | 0.95 | 0.95 | 5 | 4.5679 |  |\n| 0.05 | 0.95 | 0.95 | 0 | not trained (no neurons) | **chosen** |");
  });

  it("names transfer rows, and nothing for a target's own", () => {
    expect(transferNote([method({}), method({ label: "sparse@nl", neurons_of: "nl" })])).toEqual(["", "Transfer without re-selection: sparse@nl = sparse on nl's neurons."]);
    expect(transferNote([method({})])).toEqual([]);
  });
});

describe("result records of the reviewer checks", async () => {
  const { resultRecords } = await import("../ts/results/records.js");
  it("has a perplexity and a share per component, and each candidate's curve point", () => {
    const r = results();
    r.base = [{ language: "af", perplexity: 100, mean_loss: 4.6, tokens: 10 }];
    r.targets = [method({ scores: [{ language: "af", perplexity: 50, mean_loss: 3.9, tokens: 10 }], component_share: [{ component: "down", perplexity: 60, mean_loss: 4.1, share: 0.5 / 0.7 }] })];
    const a = { id: "a", top_rate: 0.01, filter_rate: 0.95, activation_bar_ratio: 0.95 };
    r.selection_search = { candidates: [], targets: [{ language: "af", method: "sparse", steps: 20, chosen: "a", candidates: [{ ...a, neurons: 5, validation_loss: 4.5 }] }] };
    const records = resultRecords(r);
    const down = records.find((x) => x.measure === "perplexity_down_only")!;
    expect(down).toMatchObject({ target: "af", method: "sparse", language: "af", value: 60, n: 10, delta: -40 });
    expect(down.relative_change).toBeCloseTo(-0.4, 12);
    expect(records.find((x) => x.measure === "gain_share_down")!.value).toBeCloseTo(5 / 7, 12);
    expect(records.filter((x) => x.method === "search:a").map((x) => [x.measure, x.value])).toEqual([["search_neurons", 5], ["search_validation_loss", 4.5], ["search_chosen", 1]]);
  });
});
