#!/usr/bin/env node
// `node scripts/report-screenshot.mjs <report.html> <out.png> [height]`: the top of a report as
// Chromium draws it (README's picture of the demo's report). Needs Debian's chromium (or
// CHROMIUM_PATH) and the dev dependency puppeteer-core.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import puppeteer from "puppeteer-core";

const [report, out, height = "1500"] = process.argv.slice(2);
if (!report || !out) {
  console.error("usage: node scripts/report-screenshot.mjs <report.html> <out.png> [height]");
  process.exit(2);
}
const executablePath = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => p && existsSync(p));
if (!executablePath) {
  console.error("no Chromium found: apt-get install chromium, or set CHROMIUM_PATH");
  process.exit(1);
}
const browser = await puppeteer.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1100, height: Number(height), deviceScaleFactor: 1 });
  await page.goto(`file://${resolve(report)}`, { waitUntil: "load" });
  await page.waitForSelector("body[data-charts-ready]");
  await page.screenshot({ path: out, clip: { x: 0, y: 0, width: 1100, height: Number(height) } });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
}
