// The atlas and deactivation stages over the real stack (real worker, gRPC, tiny Llama): files
// checked against values computed here from the neuron sets themselves, a run cancelled between
// jobs that resumes, and deactivation checked against a model whose weights are zeroed by hand.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { chromiumPath, launchBrowser, openReport } from "./helpers/browser.js";
import { SparseSubError } from "../ts/errors.js";
import { runPlan } from "../ts/pipeline/run.js";
import { steerGeneration } from "../ts/steer/steer.js";
import { silentDisplay } from "../ts/telemetry/progress.js";
import { tinyPlan } from "./helpers/tiny-plan.js";
import { makeTinyModel, runFixture } from "./helpers/worker-env.js";

const IDS = ["eng", "afr", "nld", "mlt", "deu_1996"];
const udhrLanguages = IDS.map((id) => ({ code: id, udhr: { id } }));
let modelDir: string;

beforeAll(async () => {
  modelDir = await makeTinyModel(IDS, { layers: 3 });
});

/** A CSV of plain cells (the atlas writes no quoted commas in these files but names). */
const readCsv = (path: string) => {
  const [header, ...rows] = readFileSync(path, "utf8").trim().split("\n").map((line) => line.split(","));
  return rows.map((row) => Object.fromEntries(header.map((h, i) => [h, row[i]])));
};
const setOf = (path: string) => {
  const layers = JSON.parse(readFileSync(path, "utf8")).layers as number[][];
  return new Set(layers.flatMap((indices, layer) => indices.map((n) => `${layer}:${n}`)));
};

describe("atlas", () => {
  let dir: string;
  const plan = () =>
    tinyPlan(modelDir, {
      languages: udhrLanguages,
      identification: { sequence_length: 64, batch_size: 4, top_rate: 0.1, max_tokens: 512 },
      training: undefined,
      atlas: { subsets: { west: ["eng", "afr", "nld"] }, nearest: 2, clusters: 2 },
    });

  beforeAll(async () => {
    dir = join(mkdtempSync(join(tmpdir(), "sparse-sub-atlas-")), "run");
    // cancelled after two jobs (as Ctrl-C would), then resumed: the finished collections are reused
    const controller = new AbortController();
    const display = { ...silentDisplay, jobs: (done: number) => done >= 2 && controller.abort() };
    await expect(runPlan(plan(), { outDir: dir, signal: controller.signal, display })).rejects.toThrow(SparseSubError);
    await runPlan(plan(), { outDir: dir });
  });

  it("resumes a cancelled atlas: what finished before the cancel is reused, the rest runs", () => {
    const results = JSON.parse(readFileSync(join(dir, "results.json"), "utf8"));
    expect(results.status).toBe("complete");
    const reused = results.jobs.filter((j: { reused: boolean }) => j.reused).map((j: { id: string }) => j.id);
    expect(reused.length).toBeGreaterThanOrEqual(2);
    expect(reused.every((id: string) => id.startsWith("collect:"))).toBe(true);
    expect(results.jobs.map((j: { id: string }) => j.id).sort()).toEqual([...IDS.map((id) => `collect:${id}`), "atlas", "select", "select:west"].sort());
    expect(results.base).toBeNull(); // nothing compares with the base: it is not scored
    expect(results.atlas.languages).toBe(5);
  });

  it("shows the atlas in the report: the overlap heatmap draws a cell per pair of languages", async () => {
    const charts = await drawnCharts(join(dir, "report.html"));
    if (!charts) return;
    expect(charts.find(([id]) => id === "overlap")).toEqual(["overlap", 25, 20]); // 5 x 5 rows, the diagonal not drawn
  }, 60_000);

  it("writes the overlap matrix as the Jaccard of the sets it names", () => {
    const sets = IDS.map((id) => setOf(join(dir, "neurons", `${id}.json`)));
    expect(sets.some((s) => s.size > 0)).toBe(true);
    const rows = readCsv(join(dir, "atlas/overlap.csv"));
    expect(rows.map((r) => r.language)).toEqual(IDS);
    IDS.forEach((a, i) =>
      IDS.forEach((b, j) => {
        const shared = [...sets[i]].filter((n) => sets[j].has(n)).length;
        const union = sets[i].size + sets[j].size - shared;
        const expected = union === 0 ? 0 : shared / union;
        expect(Number(rows[i][b]), `${a}-${b}`).toBeCloseTo(expected, 6);
      }),
    );
  });

  it("lists per layer counts, nearest languages, clusters and shared neurons that agree with the sets", () => {
    const sets = IDS.map((id) => JSON.parse(readFileSync(join(dir, "neurons", `${id}.json`), "utf8")).layers as number[][]);
    const layers = readCsv(join(dir, "atlas/layers.csv")).filter((r) => r.selection === "all");
    expect(layers).toHaveLength(5 * 3);
    for (const row of layers) expect(Number(row.neurons)).toBe(sets[IDS.indexOf(row.language)][Number(row.layer)].length);
    const overlap = readCsv(join(dir, "atlas/overlap.csv"));
    for (const row of readCsv(join(dir, "atlas/nearest.csv")).filter((r) => r.rank === "1")) {
      const others = IDS.filter((id) => id !== row.language).map((id) => Number(overlap[IDS.indexOf(row.language)][id]));
      expect(Number(row.jaccard)).toBeCloseTo(Math.max(...others), 6);
    }
    expect(new Set(readCsv(join(dir, "atlas/clusters.csv")).map((r) => r.cluster)).size).toBe(2);
    const owners = new Map<string, string[]>();
    sets.forEach((layers, i) => layers.forEach((indices, layer) => indices.forEach((n) => owners.set(`${layer}:${n}`, [...(owners.get(`${layer}:${n}`) ?? []), IDS[i]]))));
    const shared = readCsv(join(dir, "atlas/shared.csv"));
    expect(shared.length).toBe([...owners.values()].filter((o) => o.length >= 2).length);
    for (const row of shared) expect(row.codes.split(" ")).toEqual(owners.get(`${row.layer}:${row.neuron}`));
  });

  it("steers generation with the atlas's sets: counts outputs per language over the real worker", async () => {
    const prompts = ["All human beings are", "Alle mense word", "Alle mensen worden"];
    const summary = await steerGeneration({ model: { source: modelDir, device: "cpu", dtype: "float32" }, neurons: join(dir, "neurons"), from: "afr", to: "nld", strength: 8, prompts, maxNewTokens: 6 });
    expect(summary.target).toBe("nl");
    expect(summary.source).toBe("af");
    expect(summary.result.outputs.map((o) => o.prompt)).toEqual(prompts);
    expect(Number(summary.result.offNeurons)).toBe(setOf(join(dir, "neurons/afr.json")).size);
    expect(Number(summary.result.boostNeurons)).toBe(setOf(join(dir, "neurons/nld.json")).size);
    expect(summary.steered.target).toBe(summary.result.outputs.filter((o) => o.steeredLanguage === "nl").length);
    expect(summary.base.n).toBe(3);
    await expect(steerGeneration({ model: { source: modelDir }, neurons: join(dir, "neurons"), to: "xyz", strength: 1, prompts })).rejects.toThrow(/--to: no neuron set .*xyz\.json/);
  }, 120_000);

  it("selects a subset from its own languages' counts and exports every set in the reference format", async () => {
    expect(readCsv(join(dir, "atlas/subsets.csv")).map((r) => r.language)).toEqual(["eng", "afr", "nld"]);
    expect(existsSync(join(dir, "neurons/subsets/west/afr.json"))).toBe(true);
    expect(existsSync(join(dir, "neurons/subsets/west/mlt.json"))).toBe(false);
    const exported = await runFixture<number[][][]>("read-reference", join(dir, "atlas/language_neurons.pt"));
    expect(exported).toEqual(IDS.map((id) => JSON.parse(readFileSync(join(dir, "neurons", `${id}.json`), "utf8")).layers));
  });
});

/** The charts a report draws (id, rows drawn, SVG cells) in Chromium; null without one (CI has one). */
async function drawnCharts(reportFile: string): Promise<[string, number, number][] | null> {
  if (!chromiumPath) return null;
  const browser = await launchBrowser();
  try {
    const { page, problems } = await openReport(browser, reportFile);
    expect(problems).toEqual([]);
    return await page.$$eval("figure[data-chart]", (fs) => fs.map((f) => [f.id, Number(f.dataset.drawn), f.querySelectorAll("svg [aria-label=cell] > *").length] as [string, number, number]));
  } finally {
    await browser.close();
  }
}

describe("deactivation", () => {
  it("scores every language with each set off as a model whose columns are zeroed by hand, and the random control apart", async () => {
    const root = mkdtempSync(join(tmpdir(), "sparse-sub-deactivate-"));
    // the sets of a first run, then a model on which afr's neurons matter more (their outputs x 2000; the final norm damps it)
    const first = join(root, "first");
    await runPlan(tinyPlan(modelDir, { languages: udhrLanguages.slice(0, 3), identification: { sequence_length: 64, batch_size: 4, top_rate: 0.1 }, training: undefined }), { outDir: first });
    const afrSet = join(first, "neurons/afr.json");
    expect(setOf(afrSet).size).toBeGreaterThan(0);
    const planted = join(root, "planted");
    await runFixture("plant", modelDir, afrSet, "2000", planted);

    const dir = join(root, "run");
    const files = Object.fromEntries(IDS.slice(0, 3).map((id) => [id, join(first, "neurons", `${id}.json`)]));
    const { results } = await runPlan(tinyPlan(planted, {
      languages: udhrLanguages.slice(0, 3),
      identification: undefined,
      neuron_sets: { files },
      training: undefined,
      evaluation: { sequence_length: 64, batch_size: 4, deactivation: { languages: ["afr"], seed: 3 } },
    }), { outDir: dir });
    const d = results.deactivation!;
    expect(d.rows.map((r) => [r.deactivated, r.control])).toEqual([["afr", "language"], ["afr", "random"]]);
    expect(d.rows[0].neurons).toBe(setOf(afrSet).size);
    expect(d.rows[1].neurons).toBe(setOf(afrSet).size);
    for (const code of IDS.slice(0, 3)) {
      const expected = await runFixture<number>("zeroed-perplexity", planted, afrSet, join(dir, "corpora", code, "heldout.jsonl"), "64");
      expect(d.rows[0].perplexity[code] / expected - 1, code).toBeCloseTo(0, 5);
      expect(d.rows[0].change[code]).toBeCloseTo(d.rows[0].perplexity[code] / d.base![code] - 1, 10);
    }
    // the effect is far above the tolerance of the comparison above (1e-5), and the control is another set
    expect(Math.abs(d.summary[0].own_change!)).toBeGreaterThan(1e-3);
    expect(d.rows[1].perplexity.afr).not.toBeCloseTo(d.rows[0].perplexity.afr, 4);
    expect(readFileSync(join(dir, "results.md"), "utf8")).toContain("| afr (random) |");
    const charts = await drawnCharts(join(dir, "report.html"));
    if (charts) expect(charts.find(([id]) => id === "deactivation")).toEqual(["deactivation", 6, 6]); // 2 rows x 3 languages
  });
});
