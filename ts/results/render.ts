// `sparse-sub results <run-dir>`: re-renders a finished or partial run from its results.json.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SparseSubError } from "../errors.js";
import { toCsv } from "../csv.js";
import { RECORD_COLUMNS, resultRecords } from "./records.js";
import { RESULTS_SCHEMA, type RunResults } from "./results.js";
import { resultsTable } from "./table.js";

export type ResultsFormat = "md" | "csv" | "json";

export function readResults(runDir: string): RunResults {
  const path = join(runDir, "results.json");
  if (!existsSync(path)) throw new SparseSubError("NOT_A_RUN", `${runDir} holds no results.json (not a run directory, or no job finished yet)`);
  let results: RunResults;
  try {
    results = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new SparseSubError("RESULTS_INVALID", `${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (results.schema !== RESULTS_SCHEMA) {
    throw new SparseSubError("RESULTS_INVALID", `${path} has schema ${results.schema}; this sparse-sub reads ${RESULTS_SCHEMA} (rerun the plan into the directory to rebuild it)`);
  }
  return results;
}

export function renderResults(results: RunResults, format: ResultsFormat): string {
  if (format === "md") return resultsTable(results);
  const records = resultRecords(results);
  if (format === "json") return JSON.stringify(records, null, 2) + "\n";
  return toCsv(RECORD_COLUMNS, records);
}
