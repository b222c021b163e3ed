// What every command shares: its exit codes, and one way to report a failure (stderr, or JSON).
import type { Argv } from "yargs";
import { SparseSubError, formatError } from "../errors.js";

export const EXIT = { ok: 0, failed: 1, invalid: 2, locked: 3, notARun: 4, cancelled: 130 } as const;

/** Adds a command (or a group) to the parser; `setExit` receives the code its handler ends with. */
export type CommandRegistration = <T>(parser: Argv<T>, setExit: (code: number) => void) => Argv<T>;

export function exitCodeFor(error: unknown): number {
  if (!(error instanceof SparseSubError)) return EXIT.failed;
  if (error.code === "CANCELLED") return EXIT.cancelled;
  if (error.code === "RUN_LOCKED") return EXIT.locked;
  if (error.code === "NOT_A_RUN") return EXIT.notARun;
  if (["PLAN_INVALID", "PLAN_NOT_FOUND", "CORPUS_INVALID", "PACK_INVALID", "OUTPUT_INVALID", "RESULTS_INVALID"].includes(error.code)) return EXIT.invalid;
  return EXIT.failed;
}

/** `--json`: one JSON object on stdout, the error's too (code, message, issues). */
export function errorJson(error: unknown, dir?: string): string {
  const known = error instanceof SparseSubError;
  const message = error instanceof Error ? error.message : String(error);
  const issues = known ? (error.extra.issues ?? []) : [];
  return JSON.stringify({ ok: false, code: known ? error.code : "FAILED", message, issues, ...(dir ? { dir } : {}) }) + "\n";
}

/** Runs a command's body; a failure is printed (JSON on stdout with --json, else stderr) and
 * becomes the exit code its error calls for. */
export async function reporting(options: { verbose: boolean; json?: boolean }, body: () => number | Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (options.json) process.stdout.write(errorJson(error));
    else process.stderr.write(formatError(error, options.verbose) + "\n");
    return exitCodeFor(error);
  }
}
