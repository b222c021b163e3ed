// Job keys decide what a rerun reuses: they must change with the user's input files' content.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { prepareCorpora } from "../ts/corpora/prepare.js";
import { pipelineJobs, runLayout } from "../ts/pipeline/jobs.js";
import { parsePlan } from "../ts/plan/load.js";

function keys(dir: string, identification: Record<string, number> = {}): Record<string, string> {
  const { plan } = parsePlan(
    {
      identification,
      name: "keys",
      model: { source: "org/model" },
      languages: [
        { code: "en", udhr: { id: "eng" } },
        { code: "xx", train: { files: ["xx.txt"] }, heldout: { files: ["xx-dev.txt"] } },
      ],
      training: { targets: ["xx"] },
      evaluation: { tasks: [{ task: "mmlu", data: { files: ["mmlu.jsonl"] } }] },
    },
    dir,
  );
  const { corpora } = prepareCorpora(plan.languages, join(dir, "run/corpora"));
  const jobs = pipelineJobs({ plan, corpora, layout: runLayout(join(dir, "run")), runId: "r", onProgress: () => {} });
  return Object.fromEntries(jobs.map((j) => [j.id, j.key()]));
}

describe("job keys", () => {
  it("follow the content of the plan's input files, and nothing else changes them", () => {
    const dir = mkdtempSync(join(tmpdir(), "sparse-sub-keys-"));
    writeFileSync(join(dir, "xx.txt"), "first version");
    writeFileSync(join(dir, "xx-dev.txt"), "held out");
    writeFileSync(join(dir, "mmlu.jsonl"), "{}\n");
    const before = keys(dir);
    expect(keys(dir)).toEqual(before);

    writeFileSync(join(dir, "xx.txt"), "second version");
    const after = keys(dir);
    expect(after["collect:xx"]).not.toBe(before["collect:xx"]);
    expect(after["train:xx:sparse"]).not.toBe(before["train:xx:sparse"]);
    expect(after["collect:en"]).toBe(before["collect:en"]);
    expect(after["evaluate:base"]).toBe(before["evaluate:base"]);

    writeFileSync(join(dir, "xx-dev.txt"), "held out, edited");
    const edited = keys(dir);
    expect(edited["evaluate:base"]).not.toBe(after["evaluate:base"]);
    expect(edited["train:xx:sparse"]).not.toBe(after["train:xx:sparse"]); // validation reads the held-out text

    writeFileSync(join(dir, "mmlu.jsonl"), '{"question": "q"}\n'); // task data counts too
    const retasked = keys(dir);
    expect(retasked["evaluate:base"]).not.toBe(edited["evaluate:base"]);
    expect(retasked["evaluate:xx:sparse"]).not.toBe(edited["evaluate:xx:sparse"]);
    expect(retasked["train:xx:sparse"]).toBe(edited["train:xx:sparse"]);
  });

  it("change with each LAPE parameter for the selection, and not for the counts it reads", () => {
    const dir = mkdtempSync(join(tmpdir(), "sparse-sub-keys-"));
    for (const [file, text] of [["xx.txt", "text"], ["xx-dev.txt", "held out"], ["mmlu.jsonl", "{}\n"]]) writeFileSync(join(dir, file), text);
    const base = keys(dir);
    for (const [name, value] of [["top_rate", 0.02], ["filter_rate", 0.9], ["activation_bar_ratio", 0.9]] as const) {
      const changed = keys(dir, { [name]: value });
      expect(changed.select, name).not.toBe(base.select);
      expect(changed["collect:xx"], name).toBe(base["collect:xx"]);
    }
  });
});
