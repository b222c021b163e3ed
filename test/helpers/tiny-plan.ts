// The one plan builder of the integration tests: a tiny model on CPU, English and Afrikaans from
// the UDHR, small identification and evaluation shapes, sparse training of af. Tests replace the
// top-level sections they are about; a key set to undefined is left out.
import { tmpdir } from "node:os";
import { parsePlan } from "../../ts/plan/load.js";

export const UDHR_LANGUAGES = {
  en: { code: "en", udhr: { id: "eng" } },
  af: { code: "af", udhr: { id: "afr" } },
  mt: { code: "mt", udhr: { id: "mlt" } },
  nl: { code: "nl", udhr: { id: "nld" } },
};

export function tinyPlan(modelDir: string, overrides: Record<string, unknown> = {}) {
  const plan = {
    name: "tiny",
    model: { source: modelDir, device: "cpu" },
    languages: [UDHR_LANGUAGES.en, UDHR_LANGUAGES.af],
    identification: { sequence_length: 64, batch_size: 4, top_rate: 0.1 },
    evaluation: { sequence_length: 64, batch_size: 4 },
    training: { targets: ["af"], methods: [{ method: "sparse", learning_rate: 0.01 }] },
    ...overrides,
  };
  return parsePlan(JSON.parse(JSON.stringify(plan)), tmpdir());
}
