// Turns each plan language's text sources into worker-readable corpora, before any worker
// starts: UDHR declarations are parsed and written as JSONL into the run directory; files are
// checked to exist and hold text; hub datasets pass through to the worker's datasets loader.
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { SparseSubError, type PlanIssue } from "../errors.js";
import type { Corpus } from "../gen/sparse_sub/v1/worker.js";
import type { LanguageCorpora } from "../plan/language-corpora.js";
import type { Language, TextSource } from "../plan/schema.js";
import { writeFileAtomic } from "../atomic-files.js";
import { readDeclaration, splitDeclaration } from "./udhr.js";
import { readingRows, translationRows, udhrPairs } from "./udhr-tasks.js";

export type { LanguageCorpora };

function toCorpus(source: TextSource): Corpus {
  if ("files" in source) return { source: { $case: "textFiles", value: { paths: source.files } } };
  const { name, config, split, text_field } = source.hub_dataset;
  return { source: { $case: "hubDataset", value: { name, config, split, textField: text_field } } };
}

function checkFiles(source: TextSource, path: string, issues: PlanIssue[]): void {
  if (!("files" in source)) return;
  source.files.forEach((file, i) => {
    if (!existsSync(file)) issues.push({ path: `${path}.files[${i}]`, message: `file not found: ${file}` });
    else if (statSync(file).size === 0) issues.push({ path: `${path}.files[${i}]`, message: `file is empty: ${file}` });
    else {
      const bad = firstNonUtf8Line(file);
      if (bad !== undefined) issues.push({ path: `${path}.files[${i}]`, message: `${file}:${bad}: not UTF-8 text; re-encode it as UTF-8` });
    }
  });
}

/** Newlines before the first invalid UTF-8 sequence of a chunk that holds one: binary search on
 * prefixes (a prefix fails to decode once it contains the error). Up to 3 leading continuation
 * bytes finish the previous chunk's character and are skipped. */
function newlinesBeforeFirstError(chunk: Buffer): number {
  let start = 0;
  while (start < 3 && start < chunk.length && (chunk[start] & 0xc0) === 0x80) start++;
  const fails = (end: number) => {
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(chunk.subarray(start, end), { stream: true });
      return false;
    } catch {
      return true;
    }
  };
  let [low, high] = [start, chunk.length]; // the shortest failing prefix ends in (low, high]
  if (!fails(high)) return 0; // the error was in the skipped bytes
  while (high - low > 1) {
    const mid = (low + high) >> 1;
    if (fails(mid)) high = mid;
    else low = mid;
  }
  return chunk.subarray(0, high - 1).filter((b) => b === 0x0a).length; // the last byte revealed the error (it may be a newline)
}

/** The line of a file's first invalid UTF-8 sequence, if any; reads in chunks (corpora are large). */
function firstNonUtf8Line(file: string): number | undefined {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const buffer = Buffer.alloc(1 << 20);
  const fd = openSync(file, "r");
  let line = 1;
  try {
    for (;;) {
      const read = readSync(fd, buffer, 0, buffer.length, null);
      const chunk = buffer.subarray(0, read);
      try {
        decoder.decode(chunk, { stream: read > 0 });
      } catch {
        return line + newlinesBeforeFirstError(chunk);
      }
      if (read === 0) return undefined;
      line += chunk.filter((b) => b === 0x0a).length;
    }
  } finally {
    closeSync(fd);
  }
}

function jsonl(documents: string[]): string {
  return documents.map((text) => JSON.stringify({ text })).join("\n") + "\n";
}

export interface PreparedCorpora {
  corpora: LanguageCorpora[];
  /** Writes the generated corpus files; call once the run directory may be created. */
  write(): void;
}

/** Checks every language's sources (all problems at once, nothing written), and plans the
 * UDHR corpora at `<corpusDir>/<code>/{train,heldout}.jsonl`. */
export function prepareCorpora(languages: Language[], corpusDir: string): PreparedCorpora {
  const issues: PlanIssue[] = [];
  const udhrTexts = new Map<string, { name: string; train: string[]; heldout: string[] }>();
  languages.forEach((language, i) => {
    if (language.udhr) {
      try {
        const declaration = readDeclaration(language.udhr.id);
        udhrTexts.set(language.code, { name: declaration.name, ...splitDeclaration(declaration, language.udhr.heldout_articles) });
      } catch (error) {
        issues.push({ path: `languages[${i}].udhr.id`, message: (error as Error).message });
      }
    }
    if (language.train) checkFiles(language.train, `languages[${i}].train`, issues);
    if (language.heldout) checkFiles(language.heldout, `languages[${i}].heldout`, issues);
  });
  if (issues.length > 0) {
    throw new SparseSubError("CORPUS_INVALID", `${issues.length} corpus problem${issues.length > 1 ? "s" : ""}`, { issues });
  }
  const pending: [string, string][] = [];
  const corpora = languages.map((language) => {
    const udhr = udhrTexts.get(language.code);
    if (udhr) {
      const dir = join(corpusDir, language.code);
      pending.push([join(dir, "train.jsonl"), jsonl(udhr.train)], [join(dir, "heldout.jsonl"), jsonl(udhr.heldout)]);
      const pairs = udhrPairs(language.udhr!.id, language.udhr!.heldout_articles);
      const rows = (items: object[]) => items.map((r) => JSON.stringify(r)).join("\n") + "\n";
      const udhrTasks = { translation: join(dir, "udhr_translation.jsonl"), reading: join(dir, "udhr_reading.jsonl"), pairs: pairs.length };
      pending.push([udhrTasks.translation, rows(translationRows(language.code, pairs))], [udhrTasks.reading, rows(readingRows(pairs, udhr.name))]);
      const files = (name: string): Corpus => ({ source: { $case: "textFiles", value: { paths: [join(dir, name)] } } });
      return { code: language.code, name: language.name ?? udhr.name, train: files("train.jsonl"), heldout: files("heldout.jsonl"), udhrTasks };
    }
    return {
      code: language.code,
      name: language.name ?? language.code,
      train: toCorpus(language.train!),
      heldout: language.heldout ? toCorpus(language.heldout) : undefined,
    };
  });
  return { corpora, write: () => pending.forEach(([path, text]) => writeFileAtomic(path, text)) };
}
