// The report's data and page, checked without a browser against values worked out by hand from
// the hand-built run (test/helpers/hand-run.ts); report.browser.test.ts checks the drawing.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compareRuns } from "../ts/report/compare.js";
import { reportData } from "../ts/report/data.js";
import { REPORT_FILE, runReport, writeReport } from "../ts/report/report.js";
import { RECORD_COLUMNS, resultRecords } from "../ts/results/records.js";
import { handPlan, handRun, withCurves } from "./helpers/hand-run.js";
import { fullResults, results } from "./helpers/hand-results.js";

const dataOf = (dir: string) => reportData(JSON.parse(readFileSync(join(dir, "results.json"), "utf8")), dir);

describe("report data", () => {
  it("counts per layer the neurons two languages' sets share", () => {
    expect(dataOf(handRun()).shared).toEqual([
      { layer: 0, neurons: 2, languages: 2 },
      { layer: 1, neurons: 0, languages: 2 },
      { layer: 2, neurons: 1, languages: 2 },
    ]);
  });

  it("leaves shared neurons out when a set file is gone, and keeps the rest", () => {
    const dir = handRun();
    rmSync(join(dir, "neurons/de.json"));
    const data = dataOf(dir);
    expect(data.shared).toEqual([]);
    expect(data.neurons).toEqual([
      { language: "af", layer: 0, neurons: 4 },
      { language: "af", layer: 2, neurons: 6 },
      { language: "de", layer: 1, neurons: 2 },
    ]);
  });

  it("lists what the plan asked for and the run has not produced", () => {
    // sparse: trained, evaluated, analyzed; random: trained (diverged), not evaluated, not analyzed; lora: never trained
    expect(dataOf(handRun()).missing).toEqual([
      "evaluate:af:random: trained, not evaluated",
      "weights:af:random: weight change not analyzed",
      "train:af:lora: not trained",
    ]);
    const noWeights = handRun(withCurves(fullResults()), handPlan({ evaluation: { weight_change: false } }));
    expect(dataOf(noWeights).missing).toEqual(["evaluate:af:random: trained, not evaluated", "train:af:lora: not trained"]);
    // a transfer asks for one more training per method that trains a given set (sparse, not random or lora)
    const withTransfer = handPlan() as { training: { transfer: unknown[] } };
    withTransfer.training.transfer = [{ text: "de", neurons: "af" }];
    const transfer = handRun(withCurves(fullResults()), withTransfer);
    expect(dataOf(transfer).missing).toEqual([
      "evaluate:af:random: trained, not evaluated",
      "weights:af:random: weight change not analyzed",
      "train:af:lora: not trained",
      "train:de:sparse@af: not trained",
    ]);
    const unscored = withCurves(fullResults());
    unscored.base = null;
    expect(dataOf(handRun(unscored)).missing[0]).toBe("evaluate:base: the base model has not been scored");
  });

  it("flattens curves, weight change and alignment into chart rows", () => {
    const data = dataOf(handRun());
    expect(data.methods).toEqual(["sparse", "random", "lora"]);
    expect(data.loss.filter((r) => r.method === "sparse" && r.curve === "validation")).toEqual([
      { target: "af", method: "sparse", curve: "validation", step: 0, loss: 4.5 },
      { target: "af", method: "sparse", curve: "validation", step: 2, loss: 4 },
      { target: "af", method: "sparse", curve: "validation", step: 4, loss: 3.5 },
    ]);
    expect(data.loss).toHaveLength(4 + 3 + 3 + 2);
    // the hand weight change: down 1, 2, 2 per layer against gate and up 1; totals down 3, gate sqrt(3)
    expect(data.weights.filter((r) => r.projection === "down_proj").map((r) => r.change)).toEqual([1, 2, 2]);
    expect(data.weights).toHaveLength(9);
    expect(data.downOverGate).toEqual([{ target: "af", method: "sparse", ratio: 3 / Math.sqrt(3) }]);
    expect(data.alignment).toEqual([
      { target: "af", model: "base", layer: 0, similarity: 0.5 },
      { target: "af", model: "base", layer: 1, similarity: 0.7 },
      { target: "af", model: "sparse", layer: 0, similarity: 0.4 },
      { target: "af", model: "sparse", layer: 1, similarity: 0.9 },
    ]);
    expect(data.jobs.map((j) => [j.job, j.stage, j.reused])).toEqual([
      ["collect:af", "collect", false], ["select", "select", false], ["train:af:sparse", "train", true], ["evaluate:base", "evaluate", false],
    ]);
  });

  it("works from results.json alone (no plan file)", () => {
    const dir = handRun();
    rmSync(join(dir, "plan.resolved.json"));
    const data = dataOf(dir);
    expect(data.methods).toEqual(["sparse", "random"]);
    expect(data.missing).toEqual(["evaluate:af:random: trained, not evaluated", "weights:af:random: weight change not analyzed"]);
  });
});

describe("report page", () => {
  it("is one file: no external script, style, image or link, and the data block cannot end its script early", () => {
    const r = withCurves(fullResults());
    r.error = "a </script><b>bold</b> error";
    const html = runReport(handRun(r));
    const markup = html.replace(/<script>[\s\S]*?<\/script>/g, "<script></script>"); // the inlined libraries' own code aside
    expect(markup.match(/\b(src|href)="(?!#|data:)[^"]*"/g)).toBeNull(); // only anchors and data: URLs
    expect(markup).not.toMatch(/@import|url\((?!data:)/);
    expect(markup.match(/<script>/g)).toHaveLength(3); // d3, Plot, the charts: inline, none with src
    expect(html).toContain("a &lt;/script&gt;&lt;b&gt;bold&lt;/b&gt; error"); // the error is text, not markup
    const data = html.slice(html.indexOf('id="report-data">') + 17, html.indexOf("</script>", html.indexOf('id="report-data">')));
    expect(JSON.parse(data).error).toBe("a </script><b>bold</b> error");
  });

  it("offers the results records as CSV, one line per record", () => {
    const html = runReport(handRun());
    const href = html.match(/download="hand-results\.csv" href="data:text\/csv;charset=utf-8,([^"]*)"/)![1];
    const lines = decodeURIComponent(href).trimEnd().split("\n");
    expect(lines[0]).toBe(RECORD_COLUMNS.join(","));
    expect(lines).toHaveLength(1 + resultRecords(withCurves(fullResults())).length);
  });

  it("shows each table cell with its change vs base as worked out by hand", () => {
    const html = runReport(handRun());
    expect(html).toContain("30.00<small>-25.0%</small>"); // af perplexity 40 -> 30
    expect(html).toContain("11.00<small>+10.0%</small>"); // en 10 -> 11
    expect(html).toContain("36.0 ±2.0<small>+6.0</small>"); // chrF +6, beyond two standard errors (5.66)
    expect(html).toContain("40.0 ±10.0<small>-10.0 (within 2 SE)</small>"); // reading 50 -> 40, within 2 x 14.1
    expect(html).toMatch(/<span class="status failed">failed<\/span>/);
    expect(html).toContain("worker local-1 is gone");
  });

  it("shows steering's shares with their intervals and examples, and lists steering as missing until it ran", () => {
    const share = (count: number, n: number, low: number, high: number) => ({ count, n, share: count / n, low, high });
    const row = (control: "language" | "random", steered: string) => ({
      from: "en", to: "de", mode: "mean" as const, strength: 2, control, target_code: "de", source_code: "en", identifiable: true,
      base: { target: share(0, 4, 0, 0.49), source: share(4, 4, 0.51, 1) },
      steered: { target: share(control === "language" ? 3 : 0, 4, control === "language" ? 0.3 : 0, 0.95), source: share(1, 4, 0.05, 0.7) },
      changed: 1, off_neurons: 9, boost_neurons: 7, mean_active_value: 1.3, seconds: 2,
      outputs: [{ prompt: "Everyone has <the>", base: "right", steered, base_language: "en", steered_language: "de" }],
    });
    const r = withCurves(fullResults());
    r.steering = [row("language", "eine Welt"), row("random", "the rights")];
    const html = runReport(handRun(r));
    expect(html).toContain('<a href="#steering">steering</a>');
    expect(html).toContain("<th>en -&gt; de</th><td>2</td><td>0/4 (0-49%)</td><td>3/4 (30-95%)</td><td>4/4 (51-100%)</td><td>1/4 (5-70%)</td><td>1/1</td>");
    expect(html).toContain("<th>en -&gt; de (random)</th><td>2</td><td>0/4 (0-49%)</td><td>0/4 (0-95%)</td>");
    expect(html).toContain("<td>Everyone has &lt;the&gt;</td><td>right [en]</td><td>eine Welt [de]</td>"); // escaped; the control's output is not an example
    expect(html).not.toContain("the rights [de]");
    const planned = handPlan({ evaluation: { steering: { pairs: [{ from: "en", to: "de" }] } } });
    expect(dataOf(handRun(withCurves(fullResults()), planned)).missing).toContain("steer: nothing has been generated with steering yet");
  });

  it("carries the plan the run started with, and each worker's device, memory and libraries", () => {
    const r = withCurves(fullResults());
    r.workers = [{ name: "gpu-1", address: "box:50051", device: "cuda:0 (NVIDIA H200)", version: "0.1.0", torch: "2.11.0", transformers: "5.17.0", memory_total_bytes: 141 * 2 ** 30 }];
    const html = runReport(handRun(r));
    expect(html).toContain("gpu-1 at box:50051: cuda:0 (NVIDIA H200), 141 GiB, worker 0.1.0, torch 2.11.0, transformers 5.17.0");
    expect(html).toContain("&quot;top_rate&quot;: 0.05"); // plan.resolved.json, escaped inside <pre>
  });

  it("is written atomically beside results.json by default, or where --out says", () => {
    const dir = handRun();
    expect(writeReport(dir)).toBe(join(dir, REPORT_FILE));
    expect(readFileSync(join(dir, REPORT_FILE), "utf8")).toMatch(/^<!doctype html>/);
    const elsewhere = join(dir, "sub/page.html");
    expect(writeReport(dir, elsewhere)).toBe(elsewhere);
    expect(existsSync(elsewhere)).toBe(true);
  });

  it("refuses a folder without results.json, naming it", () => {
    expect(() => runReport("/nonexistent-run")).toThrow(/\/nonexistent-run holds no results\.json/);
  });
});

describe("comparison page", () => {
  it("lists exactly the settings that differ, and each run's target perplexity", () => {
    const a = handRun(withCurves(results()), handPlan({ identification: { top_rate: 0.05 } }));
    const second = withCurves(fullResults());
    second.run = "hand-b";
    second.targets[0].scores![2].perplexity = 35;
    const b = handRun(second, handPlan({ name: "hand-b", identification: { top_rate: 0.01 }, output: { dir: "/elsewhere" } }));
    const html = compareRuns([a, b]);
    const settings = html.slice(html.indexOf('id="settings"'), html.indexOf("</section>", html.indexOf('id="settings"')));
    expect([...settings.matchAll(/<tr><th>([^<]+)<\/th>/g)].map((m) => m[1])).toEqual(["identification.top_rate"]);
    expect(settings).toContain("<td>0.05</td><td>0.01</td>");
    const data = JSON.parse(html.slice(html.indexOf('id="report-data">') + 17, html.indexOf("</script>", html.indexOf('id="report-data">'))));
    expect(data.perplexity).toEqual([
      { run: "hand", target: "af", method: "base", perplexity: 40 },
      { run: "hand", target: "af", method: "sparse", perplexity: 30 },
      { run: "hand-b", target: "af", method: "base", perplexity: 40 },
      { run: "hand-b", target: "af", method: "sparse", perplexity: 35 },
    ]);
  });

  it("names two runs of the same name by their folders, and needs two runs", () => {
    const [a, b] = [handRun(), handRun()];
    const html = compareRuns([a, b]);
    expect(html).toContain(`hand (${a.split("/").at(-1)})`);
    expect(() => compareRuns([a])).toThrow("compare needs at least two run directories, got 1");
  });
});
