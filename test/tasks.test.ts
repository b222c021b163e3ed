// evaluation.tasks expanded into the worker's TaskRequests, written out by hand for each kind of
// task: translation by direction, multiple choice by mode, UDHR tasks onto their generated files,
// English tasks without a language, local and hub data.
import { describe, expect, it } from "vitest";
import { TaskEntry, taskRequests } from "../ts/plan/tasks.js";

const udhrFiles = (language: string) => ({ translation: `/run/corpora/${language}/udhr_translation.jsonl`, reading: `/run/corpora/${language}/udhr_reading.jsonl` });
const requests = (entries: unknown[], targets = ["af", "mt"]) => taskRequests(entries.map((e) => TaskEntry.parse(e)), targets, udhrFiles);
const request = (fields: Record<string, unknown>) => ({
  label: "", language: "", direction: "", mode: "", files: [], hubName: "", hubConfig: "", split: "", limit: 0, maxNewTokens: 0, ...fields,
});

describe("task requests", () => {
  it("UDHR translation runs as flores on the generated file, both directions, every target", () => {
    expect(requests([{ task: "udhr_translation" }])).toEqual([
      request({ name: "flores", label: "udhr_translation", language: "af", direction: "eng-x", files: [udhrFiles("af").translation] }),
      request({ name: "flores", label: "udhr_translation", language: "af", direction: "x-eng", files: [udhrFiles("af").translation] }),
      request({ name: "flores", label: "udhr_translation", language: "mt", direction: "eng-x", files: [udhrFiles("mt").translation] }),
      request({ name: "flores", label: "udhr_translation", language: "mt", direction: "x-eng", files: [udhrFiles("mt").translation] }),
    ]);
  });

  it("multiple choice expands by mode; UDHR reading runs as belebele on its file; a name relabels it", () => {
    expect(requests([{ task: "udhr_reading", name: "reading", languages: ["mt"], modes: ["generative", "loglik"], limit: 5 }])).toEqual([
      request({ name: "belebele", label: "reading", language: "mt", mode: "generative", files: [udhrFiles("mt").reading], limit: 5 }),
      request({ name: "belebele", label: "reading", language: "mt", mode: "loglik", files: [udhrFiles("mt").reading], limit: 5 }),
    ]);
  });

  it("an English task has no language; hub and file data pass through", () => {
    expect(requests([
      { task: "mmlu", data: { hub: { name: "me/mmlu-small", config: "all", split: "dev" } }, max_new_tokens: 4 },
      { task: "belebele", languages: ["af"], data: { files: ["/data/bele.jsonl"] }, directions: ["x-eng"] },
      { task: "flores", languages: ["af"], directions: ["x-eng"] },
    ])).toEqual([
      request({ name: "mmlu", label: "mmlu", mode: "generative", hubName: "me/mmlu-small", hubConfig: "all", split: "dev", maxNewTokens: 4 }),
      request({ name: "belebele", label: "belebele", language: "af", mode: "generative", files: ["/data/bele.jsonl"] }),
      request({ name: "flores", label: "flores", language: "af", direction: "x-eng" }),
    ]);
  });

  it("refuses what a task entry cannot hold", () => {
    for (const bad of [{ task: "squad" }, { task: "flores", directions: [] }, { task: "mmlu", modes: ["guess"] }, { task: "mmlu", name: "Has Caps" },
      { task: "mmlu", data: { files: [] } }, { task: "mmlu", data: { hub: { name: "" } } }, { task: "mmlu", limit: -1 }, { task: "flores", languages: [] }]) {
      expect(TaskEntry.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    expect(TaskEntry.parse({ task: "mmlu" })).toMatchObject({ directions: ["eng-x", "x-eng"], modes: ["generative"], limit: 0, max_new_tokens: 0 });
  });
});
