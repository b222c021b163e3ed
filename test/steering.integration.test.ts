// evaluation.steering over the real stack (real worker, real gRPC, tiny Llama, Lingua on the
// worker): prompts drawn from the source language's held-out text, Tang's mean-active-value mode
// read from the run's own activation counts, one generation per strength, and the results' shares.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runPlan } from "../ts/pipeline/run.js";
import { resultRecords } from "../ts/results/records.js";
import type { RunResults } from "../ts/results/results.js";
import { tinyPlan, UDHR_LANGUAGES } from "./helpers/tiny-plan.js";
import { makeTinyModel, runFixture } from "./helpers/worker-env.js";

let modelDir: string;
let dir: string;
let results: RunResults;
const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8"));
const neuronCount = (path: string) => readJson(path).layers.reduce((n: number, layer: number[]) => n + layer.length, 0);

beforeAll(async () => {
  modelDir = await makeTinyModel(["eng", "afr", "nld"]);
  dir = join(mkdtempSync(join(tmpdir(), "sparse-sub-steer-")), "run");
  const steering = { pairs: [{ from: "af", to: "nl" }], strength: [1, 8], prompts: 3, prompt_words: 3, max_new_tokens: 4 };
  const plan = tinyPlan(modelDir, { languages: [UDHR_LANGUAGES.en, UDHR_LANGUAGES.af, UDHR_LANGUAGES.nl], training: undefined, evaluation: { sequence_length: 64, batch_size: 4, steering } });
  ({ results } = await runPlan(plan, { outDir: dir }));
});

describe("evaluation.steering", () => {
  it("generates once per strength from openings of the source's held-out text, and scores nothing else", () => {
    expect(results.status).toBe("complete");
    expect(results.jobs.map((j) => j.id).filter((id) => id.startsWith("steer:"))).toEqual(["steer:af:nl:1", "steer:af:nl:1:random", "steer:af:nl:8", "steer:af:nl:8:random"]);
    expect(results.base).toBeNull(); // nothing compares perplexities with the base
    const heldout = readFileSync(join(dir, "corpora", "af", "heldout.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l).text as string);
    // the documents open with a heading line ("Artikel 26"), too short to open a prompt with
    const firstLine = heldout[0].split("\n").map((l) => l.split(/\s+/).filter(Boolean)).find((words) => words.length > 3)!;
    expect(heldout[0].startsWith(firstLine[0])).toBe(false);
    const firstWords = firstLine.slice(0, 3).join(" ");
    for (const row of results.steering!) {
      const prompts = row.outputs.map((o) => o.prompt);
      expect(prompts.length).toBe(3);
      expect(prompts[0]).toBe(firstWords);
      for (const p of prompts) {
        expect(p.split(" ").length).toBe(3);
        expect(heldout.some((doc) => doc.replace(/\s+/g, " ").includes(p))).toBe(true);
      }
    }
  });

  it("switches off af's set, pushes nl's to strength x the mean active value read from nl's counts", async () => {
    const [weak, strong] = results.steering!.filter((r) => r.control === "language");
    expect([weak.strength, strong.strength]).toEqual([1, 8]);
    expect(weak.off_neurons).toBe(neuronCount(join(dir, "neurons", "af.json")));
    expect(weak.boost_neurons).toBe(neuronCount(join(dir, "neurons", "nl.json")));
    const expected = await runFixture<number>("set-mean-active", join(dir, "activations", "nl.safetensors"), join(dir, "neurons", "nl.json"));
    expect(weak.mean_active_value! / expected - 1).toBeCloseTo(0, 5);
    expect(weak.mean_active_value).toBeGreaterThan(0);
    // base generations do not depend on the strength; the strong push changes outputs
    expect(strong.outputs.map((o) => o.base)).toEqual(weak.outputs.map((o) => o.base));
    expect(strong.changed).toBeGreaterThan(0);
    expect(strong.outputs.map((o) => o.steered)).not.toEqual(weak.outputs.map((o) => o.steered));
  });

  it("runs a same-size random control beside each strength, with the same prompts and base outputs", () => {
    const rows = results.steering!;
    expect(rows.map((r) => `${r.strength}:${r.control}`)).toEqual(["1:language", "1:random", "8:language", "8:random"]);
    const [own, random] = [rows[2], rows[3]];
    expect([random.off_neurons, random.boost_neurons]).toEqual([own.off_neurons, own.boost_neurons]);
    expect(random.outputs.map((o) => [o.prompt, o.base])).toEqual(own.outputs.map((o) => [o.prompt, o.base]));
    expect(random.mean_active_value).not.toBe(own.mean_active_value); // other neurons, their own means
    expect(readFileSync(join(dir, "results.md"), "utf8")).toContain("| af | nl | 8 (random) |");
  });

  it("counts outputs per identified language, with n, in results.json, results.md and the records", () => {
    for (const row of results.steering!) {
      expect(row).toMatchObject({ from: "af", to: "nl", mode: "mean", target_code: "nl", source_code: "af", identifiable: true });
      const inDutch = row.outputs.filter((o) => o.steered_language === "nl").length;
      expect(row.steered.target).toMatchObject({ count: inDutch, n: 3 });
      expect(row.base.source!.count).toBe(row.outputs.filter((o) => o.base_language === "af").length);
    }
    const md = readFileSync(join(dir, "results.md"), "utf8");
    expect(md).toContain("## Steering: outputs in the target language, base vs steered");
    const strong = results.steering![2];
    expect(md).toContain(`| af | nl | 8 | ${strong.base.target!.count}/3 `);
    const records = resultRecords(results).filter((r) => r.method === "steer:af@8");
    expect(records.map((r) => r.measure)).toEqual(["steering_target_share_base", "steering_target_share", "steering_source_share_base", "steering_source_share"]);
    expect(records[1]).toMatchObject({ target: "nl", language: "nl", n: 3, value: strong.steered.target!.share });
  });
});
