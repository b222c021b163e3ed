// The controller's one error type. Every failure a user can cause or meet surfaces as a
// SparseSubError with a stable code (docs/errors.md), a one-line message naming the field,
// file or value, and optional details shown under --verbose.

export type ErrorCode =
  | "PLAN_INVALID" // plan.json failed validation (issues lists each JSON path)
  | "PLAN_NOT_FOUND" // plan file missing or unreadable
  | "CORPUS_INVALID" // a corpus is unknown, empty or unreadable
  | "PACK_INVALID" // a subnetwork pack given on the command line is missing or not a pack
  | "WORKER_START_FAILED" // a local worker process exited or never became ready
  | "WORKER_UNREACHABLE" // a worker address did not answer
  | "WORKER_FAILED" // a worker RPC failed (reason and field come from the worker)
  | "RUN_LOCKED" // another sparse-sub run holds the run directory
  | "OUTPUT_INVALID" // the run directory is a file, or a folder of other files
  | "NOT_A_RUN" // `results` on a folder that holds no results.json
  | "RESULTS_INVALID" // a results.json that is not JSON or of another schema
  | "CANCELLED"; // the user interrupted the run

export interface PlanIssue {
  path: string; // JSON path like "training.targets[0]"
  message: string;
}

export class SparseSubError extends Error {
  override name = "SparseSubError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: {
      issues?: PlanIssue[];
      reason?: string; // the worker's UPPER_SNAKE reason
      field?: string; // the worker request field the error is about
      grpcCode?: number;
      details?: string; // long text (stderr tail, traceback) for --verbose
      cause?: unknown;
    } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
  }
}

/** A plan warning as printed on stderr (validate and run alike). */
export const formatWarning = (warning: PlanIssue): string => `sparse-sub: warning: ${warning.path}: ${warning.message}`;

/** Formats an error for a terminal: one line, plus details when verbose. */
export function formatError(error: unknown, verbose: boolean): string {
  if (!(error instanceof SparseSubError)) {
    const text = error instanceof Error ? (verbose ? (error.stack ?? error.message) : error.message) : String(error);
    return `sparse-sub: ${text}`;
  }
  const lines = [`sparse-sub: ${error.message}`];
  for (const issue of error.extra.issues ?? []) lines.push(`  ${issue.path || "(plan)"}: ${issue.message}`);
  if (verbose) {
    if (error.extra.reason) lines.push(`  reason: ${error.extra.reason}`);
    if (error.extra.details) lines.push(error.extra.details.replace(/^/gm, "  | "));
    if (error.extra.cause instanceof Error && error.extra.cause !== error) lines.push(formatError(error.extra.cause, true));
  }
  return lines.join("\n");
}
