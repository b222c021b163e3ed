// results.md sections of the optional stages (deactivation, atlas, steering), each line written
// out here by hand from the hand-made results below.
import { describe, expect, it } from "vitest";
import { atlasSection, deactivationTable, steeringTable } from "../ts/results/stage-tables.js";
import type { SteeringRow } from "../ts/results/steering.js";
import { resultsTable } from "../ts/results/table.js";
import { results } from "./helpers/hand-results.js";

describe("deactivationTable", () => {
  it("writes one row per switched-off set, the own column bold, the others' mean, and the base", () => {
    const r = results();
    r.deactivation = {
      evaluated: ["en", "af"],
      base: { en: 10, af: 40 },
      rows: [
        { deactivated: "af", control: "language", neurons: 12, perplexity: { en: 11, af: 60 }, change: { en: 0.1, af: 0.5 } },
        { deactivated: "af", control: "random", neurons: 12, perplexity: { en: 9.5, af: 41 }, change: { en: -0.05, af: 0.025 } },
        { deactivated: "en", control: "language", neurons: 3, perplexity: { en: 20, af: 40 }, change: { en: 1, af: null } },
      ],
      summary: [
        { language: "af", own_change: 0.5, others_mean_change: 0.1, others_max_change: 0.1, random_own_change: 0.025 },
        { language: "en", own_change: 1, others_mean_change: null, others_max_change: null, random_own_change: null },
      ],
    };
    expect(deactivationTable(r)).toEqual([
      "## Deactivation: held-out perplexity change when a language's neurons are switched off (vs base)",
      "",
      "Rows: whose neurons are off (random = as many random neurons per layer, the control). A language's own column (bold) should rise far more than the rest of its row and than its control.",
      "",
      "| neurons off | count | en | af | others, mean |",
      "|---|---|---|---|---|",
      "| af | 12 | +10.0% | **+50.0%** | +10.0% |",
      "| af (random) | 12 | -5.0% | **+2.5%** | -5.0% |",
      "| en | 3 | **+100.0%** | - | - |",
      "",
      "Base perplexity: en 10.00, af 40.00.",
      "",
    ]);
    r.deactivation = null;
    expect(deactivationTable(r)).toEqual([]);
  });

  it("shows only the deactivated languages' columns when more than 12 languages were scored", () => {
    const r = results();
    const evaluated = Array.from({ length: 13 }, (_, i) => `l${i}`);
    const change = Object.fromEntries(evaluated.map((c, i) => [c, i / 100]));
    r.deactivation = { evaluated, base: null, rows: [{ deactivated: "l2", control: "language", neurons: 1, perplexity: {}, change }], summary: [] };
    const lines = deactivationTable(r);
    expect(lines[4]).toBe("| neurons off | count | l2 | others, mean |");
    // twelve languages still fit: every column shown; a control row's others' mean skips unscored cells
    const twelve = evaluated.slice(0, 12);
    r.deactivation = { evaluated: twelve, base: null, rows: [{ deactivated: "l0", control: "random", neurons: 1, perplexity: {}, change: { ...Object.fromEntries(twelve.map((c) => [c, 0.1])), l5: null } }], summary: [] };
    const all = deactivationTable(r);
    expect(all[4]).toBe(`| neurons off | count | ${twelve.join(" | ")} | others, mean |`);
    expect(all[6].endsWith("| +10.0% |")).toBe(true);
    // a language's own row takes the others' mean from the summary: none here
    expect(lines[6]).toBe("| l2 | 1 | **+2.0%** | - |");
    expect(lines.at(-1)).toBe("");
  });
});

describe("atlasSection", () => {
  it("summarizes the counts, the most overlapping pairs, the subsets and the files", () => {
    const r = results();
    r.atlas = {
      dir: "runs/a/atlas", languages: 3, clusters: 2, neurons: { min: 0, median: 4, max: 9, total_unique: 11 }, empty: ["maz"],
      most_similar: [{ a: "de", b: "nl", jaccard: 0.5, shared: 3 }, { a: "af", b: "nl", jaccard: 1 / 3 }],
      subsets: [{ name: "paper", languages: 2, mean_jaccard_with_all: 0.25 }],
      files: ["languages.csv", "overlap.csv"], reference_path: "runs/a/atlas/language_neurons.pt", reference_languages: ["de", "nl", "maz"],
    } as NonNullable<typeof r.atlas>;
    expect(atlasSection(r)).toEqual([
      "## Atlas: 3 languages",
      "",
      "Neurons per language: min 0, median 4, max 9; 11 distinct neurons in all; 2 clusters. No neuron: maz.",
      "",
      "Most overlapping pairs (Jaccard of neuron sets): de-nl 0.500 (3 shared), af-nl 0.333.",
      "",
      "Subset paper (2 languages selected alone): mean Jaccard with the all-language sets 0.250.",
      "",
      "Files in runs/a/atlas: languages.csv, overlap.csv; every set in the reference format: runs/a/atlas/language_neurons.pt.",
      "",
    ]);
    // two languages without neurons are listed apart; none: no such sentence
    r.atlas = { ...r.atlas!, empty: ["maz", "xyz"] };
    expect(atlasSection(r)[2]).toBe("Neurons per language: min 0, median 4, max 9; 11 distinct neurons in all; 2 clusters. No neuron: maz, xyz.");
    r.atlas = { ...r.atlas!, empty: [] };
    expect(atlasSection(r)[2]).toBe("Neurons per language: min 0, median 4, max 9; 11 distinct neurons in all; 2 clusters.");
    r.atlas = null;
    expect(atlasSection(r)).toEqual([]);
  });
});

describe("steeringTable", () => {
  const share = (count: number, n: number, low: number, high: number) => ({ count, n, share: count / n, low, high });
  const row = (extra: Partial<SteeringRow>): SteeringRow => ({
    from: "en", to: "de", mode: "mean", strength: 2, control: "language", target_code: "de", source_code: "en", identifiable: true,
    base: { target: share(0, 3, 0, 0.561), source: share(3, 3, 0.439, 1) },
    steered: { target: share(2, 3, 0.208, 0.939), source: null },
    changed: 3, off_neurons: 5, boost_neurons: 4, mean_active_value: 1.2, seconds: 1.24,
    outputs: [
      { prompt: "Everyone has", base: "rights.", steered: "eine Welt", base_language: "en", steered_language: "de" },
      { prompt: "All are", base: "equal.", steered: "", base_language: "", steered_language: "" },
      { prompt: "No one", base: "shall.", steered: "keine", base_language: "en", steered_language: "de" },
    ],
    ...extra,
  });

  it("writes a row per generation with counts, intervals and changed outputs, and quotes the first two of each own-set row", () => {
    const r = results();
    r.steering = [row({}), row({ control: "random", changed: 1, steered: { target: share(0, 3, 0, 0.561), source: share(3, 3, 0.439, 1) } }), row({ to: "mt", identifiable: false, strength: 4, base: { target: null, source: null }, steered: { target: null, source: null } })];
    expect(steeringTable(r)).toEqual([
      "## Steering: outputs in the target language, base vs steered",
      "",
      "`from`'s neurons off, act_fn(gate) of each `to` neuron set to strength x its mean active value; greedy outputs from openings of `from`'s held-out text. Cells: outputs in that language / outputs (95% Wilson interval). (random): the control, random sets as large as both languages' in every layer.",
      "",
      "| from | to | strength | target, base | target, steered | source, base | source, steered | changed | seconds |",
      "|---|---|---|---|---|---|---|---|---|",
      "| en | de | 2 | 0/3 (0-56%) | 2/3 (21-94%) | 3/3 (44-100%) | - | 3/3 | 1.2 |",
      "| en | de | 2 (random) | 0/3 (0-56%) | 0/3 (0-56%) | 3/3 (44-100%) | 3/3 (44-100%) | 1/3 | 1.2 |",
      "| en | mt | 4 | - | - | - | - | 3/3 | 1.2 |",
      "",
      "The language identifier does not know mt: outputs in it cannot be counted.",
      "",
      'en -> de at 2, "Everyone has": base (en) "rights."; steered (de) "eine Welt"',
      "",
      'en -> de at 2, "All are": base (?) "equal."; steered (?) ""',
      "",
      'en -> mt at 4, "Everyone has": base (en) "rights."; steered (de) "eine Welt"',
      "",
      'en -> mt at 4, "All are": base (?) "equal."; steered (?) ""',
      "",
    ]);
  });

  it("names the additive mode, and writes nothing without steering", () => {
    const r = results();
    r.steering = [row({ mode: "add" })];
    expect(steeringTable(r)[2]).toMatch(/^`from`'s neurons off, strength added to act_fn\(gate\) x up of each `to` neuron; /);
    expect(steeringTable(r).some((line) => line.includes("does not know"))).toBe(false); // every target identifiable
    const unknown = (to: string) => row({ to, identifiable: false, base: { target: null, source: null }, steered: { target: null, source: null } });
    r.steering = [unknown("mt"), unknown("xh"), unknown("mt")];
    expect(steeringTable(r)).toContain("The language identifier does not know mt, xh: outputs in it cannot be counted.");
    r.steering = [];
    expect(steeringTable(r)).toEqual([]);
    r.steering = null;
    expect(steeringTable(r)).toEqual([]);
  });
});

describe("resultsTable of a run without targets", () => {
  const r = () => {
    const run = results();
    run.targets = [];
    run.base = null;
    run.selection = {
      top_rate: 0.05, filter_rate: 0.95, activation_bar_ratio: 0.95, selected_neuron_count: 2, total_neuron_count: 8, filter_threshold: 0.1, activation_threshold: 0.2,
      neuron_sets: [{ language: "en", neuron_count: 2, per_layer: { "1": 2 }, path: "n/en.json" }, { language: "af", neuron_count: 0, per_layer: {}, path: "n/af.json" }],
    };
    return run;
  };

  it("writes the stages it ran, the selection (a set without neurons as -) and how the run ended", () => {
    const run = r();
    run.status = "cancelled";
    run.error = null;
    run.deactivation = { evaluated: ["en"], base: null, rows: [{ deactivated: "en", control: "language", neurons: 2, perplexity: { en: 3 }, change: { en: null } }], summary: [] };
    run.steering = [];
    expect(resultsTable(run)).toBe(`# hand


## Deactivation: held-out perplexity change when a language's neurons are switched off (vs base)

Rows: whose neurons are off (random = as many random neurons per layer, the control). A language's own column (bold) should rise far more than the rest of its row and than its control.

| neurons off | count | en | others, mean |
|---|---|---|---|
| en | 2 | **-** | - |


## Neuron selection (LAPE, top_rate 0.05)

2 of 8 neurons selected.

| language | neurons | layers (count) |
|---|---|---|
| en | 2 | 1:2 |
| af | 0 | - |

**Run cancelled**
`);
    run.status = "failed";
    run.error = "worker lost";
    expect(resultsTable(run).endsWith("\n\n**Run failed**: worker lost\n")).toBe(true);
  });

  it("writes an atlas without a deactivation, steering and a selection search, each after a blank line", () => {
    const run = r();
    run.atlas = { dir: "a", languages: 1, clusters: 1, neurons: { min: 1, median: 1, max: 1, total_unique: 1 }, empty: [], most_similar: [], subsets: [], files: [], reference_path: "a/l.pt", reference_languages: ["en"] } as NonNullable<typeof run.atlas>;
    run.steering = [{
      from: "en", to: "de", mode: "add", strength: 1, control: "language", target_code: "de", source_code: "en", identifiable: true,
      base: { target: null, source: null }, steered: { target: null, source: null }, changed: 0, off_neurons: 0, boost_neurons: 0, mean_active_value: null, seconds: 0, outputs: [],
    }];
    run.selection_search = { candidates: [], targets: [] };
    const text = resultsTable(run);
    expect(text).toContain("\n\n## Atlas: 1 languages\n");
    expect(text).toContain("\n\n## Steering: outputs in the target language, base vs steered\n");
    expect(text).toContain("\n\n## Neuron selection: candidate parameters (LAPE once per combination)\n");
  });
});
