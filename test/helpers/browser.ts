// A real Chromium (Debian's, or CHROMIUM_PATH) driven by puppeteer-core, for the report tests:
// pages load from file:// and every console error, page error and request that leaves the
// file is recorded, so a test can require none.
import { existsSync } from "node:fs";
import puppeteer, { type Browser, type Page } from "puppeteer-core";

const CANDIDATES = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

export const chromiumPath = CANDIDATES.find((path): path is string => Boolean(path && existsSync(path)));

export function launchBrowser(): Promise<Browser> {
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
  return puppeteer.launch({ executablePath: chromiumPath, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
}

export interface LoadedPage {
  page: Page;
  problems: string[]; // console errors, uncaught errors, failed or outside requests
}

export async function openReport(browser: Browser, file: string, width = 1280): Promise<LoadedPage> {
  const page = await browser.newPage();
  await page.setViewport({ width, height: 900 });
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warn") problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error instanceof Error ? error.message : String(error)}`));
  page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`));
  page.on("request", (request) => {
    if (!/^(file|data|blob):/.test(request.url())) problems.push(`request outside the file: ${request.url()}`);
  });
  await page.goto(`file://${file}`, { waitUntil: "load" });
  await page.waitForSelector("body[data-charts-ready]", { timeout: 15_000 });
  return { page, problems };
}
