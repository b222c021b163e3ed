// ISO 639-1 codes of plan and UDHR language codes: what the offline language identifier reports
// an output's language as, so outputs can be counted as "in the target language".
import { iso6393 } from "iso-639-3";

const ISO_639_1 = new Set(iso6393.flatMap((entry) => (entry.iso6391 ? [entry.iso6391] : [])));

/** ISO 639-1 of a plan / UDHR code: "nl" -> nl, "nld" -> nl, "deu_1996" -> de; null when it has
 * none (a two-letter code that is not ISO 639-1, such as "xx", included). */
export function iso6391Of(code: string): string | null {
  const head = code.toLowerCase().split(/[_-]/)[0];
  if (head.length === 2) return ISO_639_1.has(head) ? head : null;
  return iso6393.find((entry) => entry.iso6393 === head)?.iso6391 ?? null;
}
