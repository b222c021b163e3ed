// The report in a real browser: Debian's Chromium through puppeteer-core, pages from file://.
// No console error, no failed or outside request; every chart drew one mark per series and per
// point of its data (counted in the SVG, against counts worked out from the hand-built run).
// .ci/run installs Chromium; without one (a laptop) these tests skip, and CI fails instead.
import { mkdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Browser, Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeComparison } from "../ts/report/compare.js";
import { writeReport } from "../ts/report/report.js";
import { chromiumPath, launchBrowser, openReport } from "./helpers/browser.js";
import { handPlan, handRun, withCurves } from "./helpers/hand-run.js";
import { fullResults, results } from "./helpers/hand-results.js";

const SHOTS = resolve(import.meta.dirname, "../.cache/browser-tests");
const OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"].map((c) => c.toLowerCase());

if (!chromiumPath && process.env.CI) throw new Error("no Chromium found (CHROMIUM_PATH, /usr/bin/chromium): .ci/run installs Debian's chromium");

/** Per figure: the rows it says it drew, and the SVG marks of each kind Plot made. */
async function drawn(page: Page) {
  return page.$$eval("figure[data-chart]", (figures) =>
    Object.fromEntries(
      figures.map((f) => {
        const count = (selector: string) => f.querySelectorAll(selector).length;
        return [f.id, { rows: f.dataset.drawn, lines: count('g[aria-label="line"] path'), dots: count('g[aria-label="dot"] circle'), bars: count('g[aria-label="bar"] rect') }];
      }),
    ),
  );
}

describe.skipIf(!chromiumPath)("the report in Chromium", () => {
  let browser: Browser;
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => browser?.close());

  it("draws every chart of a run from file:// with no error and nothing fetched", async () => {
    const file = writeReport(handRun());
    const { page, problems } = await openReport(browser, file);
    expect(problems).toEqual([]);
    // fullResults + withCurves: sparse (train 4, validation 3 points) and random (train 3,
    // validation 2) on af; sparse alone has weight change (3 layers x 3 projections) and
    // alignment (2 layers, with base); af's set over layers 0 and 2, de's over layer 1; 4 jobs
    expect(await drawn(page)).toEqual({
      "loss-af": { rows: "12", lines: 4, dots: 5, bars: 0 },
      "weights-af": { rows: "9", lines: 3, dots: 9, bars: 0 },
      "ratio-af": { rows: "1", lines: 0, dots: 0, bars: 1 },
      "alignment-af": { rows: "4", lines: 2, dots: 4, bars: 0 },
      neurons: { rows: "3", lines: 2, dots: 3, bars: 0 },
      shared: { rows: "3", lines: 0, dots: 0, bars: 3 },
      jobs: { rows: "4", lines: 0, dots: 0, bars: 4 },
    });
    // series colours come from the colour-blind-safe palette; every chart is labelled for screen readers
    const strokes: string[] = await page.$$eval('g[aria-label="line"] path', (paths) => paths.map((p) => (p.getAttribute("stroke") ?? p.parentElement!.getAttribute("stroke") ?? "").toLowerCase()));
    expect(strokes.length).toBeGreaterThan(0);
    for (const stroke of strokes) expect(OKABE_ITO).toContain(stroke);
    expect(await page.$$eval("figure svg[role=img]", (svgs) => svgs.map((s) => s.getAttribute("aria-label")?.length ?? 0).every((n) => n > 10))).toBe(true);
    await page.screenshot({ path: join(SHOTS, "report.png"), fullPage: true });
    expect(statSync(join(SHOTS, "report.png")).size).toBeGreaterThan(20_000);
  }, 60_000);

  it("fits a laptop screen, and prints without its download links", async () => {
    const { page } = await openReport(browser, writeReport(handRun()), 1024);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1024);
    const csv = await page.$$eval("figure a.download", (links) => links.map((a) => (a as HTMLAnchorElement).href.slice(0, 5)));
    expect(csv).toHaveLength(7); // one per chart: its own rows
    expect(new Set(csv)).toEqual(new Set(["blob:"]));
    await page.emulateMediaType("print");
    expect(await page.$$eval("a.download", (links) => links.filter((a) => getComputedStyle(a).display !== "none").length)).toBe(0);
  }, 60_000);

  it("shows a cancelled run's missing jobs, and says so where a chart has no data", async () => {
    const partial = withCurves(results());
    partial.status = "cancelled";
    partial.targets[0].weight_change = null;
    partial.targets[0].alignment = null;
    partial.base_alignment = null;
    partial.jobs = [];
    const { page, problems } = await openReport(browser, writeReport(handRun(partial, handPlan())));
    expect(problems).toEqual([]);
    const missing = await page.$eval("#missing", (section) => section.textContent);
    expect(missing).toContain("This run is cancelled.");
    for (const job of ["train:af:random: not trained", "train:af:lora: not trained", "weights:af:sparse: weight change not analyzed"]) expect(missing).toContain(job);
    // no weight, alignment or neuron chart without their data; the job chart says it has none
    expect(await drawn(page)).toEqual({ "loss-af": { rows: "7", lines: 2, dots: 3, bars: 0 }, jobs: { rows: "empty", lines: 0, dots: 0, bars: 0 } });
    expect(await page.$eval("#jobs .plot", (plot) => plot.textContent)).toBe("No data for this chart in this run.");
    await page.screenshot({ path: join(SHOTS, "partial.png"), fullPage: true });
  }, 60_000);

  it("compares runs in one page", async () => {
    const second = withCurves(fullResults());
    second.run = "hand-b";
    const out = join(handRun(), "comparison.html");
    writeComparison([handRun(withCurves(fullResults())), handRun(second, handPlan({ identification: { top_rate: 0.01 } }))], out);
    const { page, problems } = await openReport(browser, out);
    expect(problems).toEqual([]);
    // per run: base and sparse scored on af (random was not evaluated); validation: sparse 3 + random 2 points per run
    expect(await drawn(page)).toEqual({
      "perplexity-af": { rows: "4", lines: 0, dots: 0, bars: 4 },
      "validation-af": { rows: "10", lines: 4, dots: 10, bars: 0 },
    });
    await page.screenshot({ path: join(SHOTS, "comparison.png"), fullPage: true });
  }, 60_000);
});
