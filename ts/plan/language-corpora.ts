// What a plan language's text resolves to once its corpora are prepared (corpora/prepare.ts
// makes these; the request builders read them). Kept in the plan layer so that requests do
// not import the corpus preparation code.
import type { Corpus } from "../gen/sparse_sub/v1/worker.js";

export interface LanguageCorpora {
  code: string;
  name: string;
  train: Corpus;
  heldout?: Corpus;
  /** UDHR languages: the offline evaluation tasks' files (see corpora/udhr-tasks.ts). */
  udhrTasks?: { translation: string; reading: string; pairs: number };
}
