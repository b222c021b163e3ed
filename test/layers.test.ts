// Imports point one way: plan <- corpora, results <- report <- pipeline <- cli; worker knows no plan. A lower layer that imports
// a higher one pulls its dependencies (and cycles) into every user of the lower one.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const TS = resolve(import.meta.dirname, "../ts");

function importsOf(folder: string): { file: string; target: string }[] {
  const found: { file: string; target: string }[] = [];
  for (const entry of readdirSync(join(TS, folder), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
    const path = join(entry.parentPath, entry.name);
    for (const match of readFileSync(path, "utf8").matchAll(/^(?:import|export)[^;]*?from "(\.[^"]+)"/gms)) {
      const target = relative(TS, resolve(entry.parentPath, match[1])).split("/")[0];
      found.push({ file: relative(TS, path), target });
    }
  }
  return found;
}

const RULES: Record<string, string[]> = {
  plan: ["corpora", "pipeline", "results", "report", "worker", "packs", "cli", "cli.js"],
  corpora: ["pipeline", "results", "report", "worker", "packs", "cli", "cli.js"],
  worker: ["plan", "pipeline", "results", "report", "corpora", "packs", "cli", "cli.js"],
  results: ["pipeline", "report", "worker", "corpora", "cli", "cli.js"],
  report: ["pipeline", "worker", "corpora", "packs", "cli", "cli.js"],
  pipeline: ["cli", "cli.js"],
  atlas: ["plan", "pipeline", "results", "report", "worker", "corpora", "packs", "cli", "cli.js"],
  steer: ["plan", "pipeline", "results", "report", "corpora", "packs", "cli", "cli.js"],
};

describe("module layers", () => {
  it.each(Object.entries(RULES))("%s imports none of the layers above it", (folder, forbidden) => {
    const wrong = importsOf(folder).filter((i) => forbidden.includes(i.target));
    expect(wrong).toEqual([]);
  });

  it("sees the imports it checks (a parser that found none would pass every rule)", () => {
    expect(importsOf("pipeline").some((i) => i.file === "pipeline/jobs.ts" && i.target === "plan")).toBe(true);
  });
});
