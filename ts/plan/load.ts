// Reading a plan: JSON parse, schema validation (all problems at once, each with its JSON
// path), then paths resolved against the plan file's folder.
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { closest, distance } from "fastest-levenshtein";
import type { z } from "zod";
import { SparseSubError, type PlanIssue } from "../errors.js";
import { Identification, Plan, type TextSource } from "./schema.js";

export interface LoadedPlan {
  plan: Plan; // validated, defaults filled, every path absolute
  path: string; // the plan file, absolute ("<inline>" for objects)
}

/** "languages[2].udhr.id" from ["languages", 2, "udhr", "id"]. */
export function jsonPath(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === "number" ? `[${key}]` : `${i === 0 ? "" : "."}${String(key)}`)).join("");
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value === "string") return value; // a shorthand ("sparse" for { "method": "sparse" })
    value = value && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return value;
}

/** One message for every misspelled name (method, task, mode, direction, ...): the value, the
 * closest accepted one, and the list. */
function unknownValue(value: unknown, options: unknown[]): string {
  const names = options.filter((o): o is string => typeof o === "string");
  let guess = typeof value === "string" && names.length > 0 ? closest(value, names) : undefined;
  if (guess && distance(String(value).toLowerCase(), guess) > Math.max(2, guess.length / 3)) guess = undefined; // too far to be a typo
  const list = options.map((o) => JSON.stringify(o)).join(", ");
  return `unknown value ${JSON.stringify(value)}${guess ? `: did you mean "${guess}"?` : ""} (expected one of ${list})`;
}

function issuesOf(error: z.ZodError, input: unknown): PlanIssue[] {
  return formatIssues(error.issues, [], input);
}

type Issue = z.core.$ZodIssue;

function formatIssues(issues: readonly Issue[], prefix: PropertyKey[], input: unknown): PlanIssue[] {
  return issues.flatMap((issue) => {
    const at = [...prefix, ...issue.path];
    const path = jsonPath(at);
    if (issue.code === "unrecognized_keys") {
      return { path, message: `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `'${k}'`).join(", ")}` };
    }
    if (issue.code === "invalid_union") {
      const options = (issue as { options?: unknown[] }).options;
      if ((issue as { note?: string }).note === "No matching discriminator" && options?.length) {
        return { path, message: unknownValue(valueAt(input, at), options) };
      }
      // The form the user meant is the one whose keys they used: report what is wrong inside it.
      const meant = issue.errors.filter((branch) => !branch.some((i) => i.code === "unrecognized_keys" && i.path.length === 0));
      if (meant.length === 1) return formatIssues(meant[0], at, input);
      return { path, message: "does not match any accepted form (see README: Plan reference)" };
    }
    if (issue.code === "invalid_value" && issue.values.length > 1) return { path, message: unknownValue(valueAt(input, at), issue.values) };
    return { path, message: issue.message };
  });
}

function resolveSource(source: TextSource, base: string): TextSource {
  if ("files" in source) return { files: source.files.map((f) => (isAbsolute(f) ? f : resolve(base, f))) };
  return source;
}

function resolveModelSource(source: string, base: string): string {
  if (source.includes("://")) return source; // pkg://package/file and other schemes are the worker's
  const local = source.startsWith(".") || source.startsWith("/") || source.endsWith(".gguf");
  return local && !isAbsolute(source) ? resolve(base, source) : source;
}

/** Validates an in-memory plan; `base` anchors relative paths. */
export function parsePlan(input: unknown, base: string, path = "<inline>"): LoadedPlan {
  const parsed = Plan.safeParse(input);
  if (!parsed.success) {
    const issues = issuesOf(parsed.error, input);
    throw new SparseSubError("PLAN_INVALID", `${path}: invalid plan (${issues.length} problem${issues.length > 1 ? "s" : ""})`, { issues });
  }
  const plan = parsed.data;
  plan.model.source = resolveModelSource(plan.model.source, base);
  for (const language of plan.languages) {
    if (language.train) language.train = resolveSource(language.train, base);
    if (language.heldout) language.heldout = resolveSource(language.heldout, base);
  }
  const absolute = (file: string) => (isAbsolute(file) ? file : resolve(base, file));
  if (plan.neuron_sets && "files" in plan.neuron_sets) {
    plan.neuron_sets.files = Object.fromEntries(Object.entries(plan.neuron_sets.files).map(([code, file]) => [code, absolute(file)]));
  } else if (plan.neuron_sets) {
    plan.neuron_sets.reference_file = absolute(plan.neuron_sets.reference_file);
  } else {
    plan.identification ??= Identification.parse({});
  }
  plan.output = { dir: resolve(base, plan.output?.dir ?? `runs/${plan.name}`) };
  for (const task of plan.evaluation.tasks) if (task.data && "files" in task.data) task.data.files = task.data.files.map(absolute);
  const alignment = plan.evaluation.alignment;
  if (typeof alignment === "object") alignment.files = Object.fromEntries(Object.entries(alignment.files).map(([code, file]) => [code, absolute(file)]));
  plan.workers = plan.workers.map((w) =>
    "address" in w ? { ...w, token_file: w.token_file && absolute(w.token_file), ca_file: w.ca_file && absolute(w.ca_file) } : w,
  );
  return { plan, path };
}

/** Reads and validates a plan file. `overrides.workers` replaces the plan's workers (e.g. from
 * `--worker` flags) and is validated like the plan's own. */
export function loadPlan(file: string, overrides: { workers?: unknown[] } = {}): LoadedPlan {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new SparseSubError("PLAN_NOT_FOUND", `cannot read plan ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SparseSubError("PLAN_INVALID", `${path}: not valid JSON (${(error as Error).message})`);
  }
  if (overrides.workers && json && typeof json === "object") json = { ...json, workers: overrides.workers };
  return parsePlan(json, dirname(path), path);
}
