// `sparse-sub pack info|apply|merge` through the built CLI and a real local worker, on packs of a
// tiny random-init Llama made by the worker's own code.
import { execa } from "execa";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { makeTinyModel, runFixture } from "./helpers/worker-env.js";

const bin = join(import.meta.dirname, "../bin/sparse-sub.js");
const cli = (args: string[]) => execa("node", [bin, ...args], { reject: false, env: { CI: "1" } });

// Two packs on the same model (test/helpers/fixtures.py make-packs): af trains layer-0 neurons
// 1, 2 to 1.0; mt trains 2, 3 to 3.0.
let modelDir: string;
let otherModel: string;
let dir: string;

beforeAll(async () => {
  [modelDir, otherModel] = await Promise.all([makeTinyModel(["eng", "afr"]), makeTinyModel(["eng", "afr"], { seed: 1 })]);
  dir = mkdtempSync(join(tmpdir(), "sparse-sub-packs-"));
  await runFixture("make-packs", modelDir, dir);
}, 120_000);

describe("sparse-sub pack", () => {
  it("info describes a pack from its header", async () => {
    const result = await cli(["pack", "info", join(dir, "af.safetensors"), "--json"]);
    expect(result.exitCode).toBe(0);
    const [info] = JSON.parse(result.stdout);
    expect(info).toMatchObject({ language: "af", baseModel: modelDir, numLayers: 2, hiddenSize: 32, intermediateSize: 64, neuronCount: 2, perLayer: { "0": 2 } });
    expect(info.components).toEqual(["gate", "up", "down"]);
  });

  it("info names a file that is not a pack", async () => {
    const notPack = join(dir, "notes.safetensors");
    writeFileSync(notPack, "hello");
    const result = await cli(["pack", "info", notPack]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`${notPack} is not a safetensors file`);
  });

  it("merge averages a neuron two packs share, and 'first' keeps the first pack's", async () => {
    const mean = join(dir, "merged-mean");
    const merged = await cli(["pack", "merge", join(dir, "af.safetensors"), join(dir, "mt.safetensors"), "--model", modelDir, "--output", mean, "--device", "cpu"]);
    expect(merged.stderr).toBe("");
    expect(merged.stdout).toBe(`wrote ${mean}: 2 pack(s), 3 neurons (1 shared by several packs: mean)`);
    const rows = await runFixture<number[]>("up-rows", mean);
    expect(rows).toEqual([1, 2, 3]);

    const first = join(dir, "merged-first");
    await cli(["pack", "merge", join(dir, "mt.safetensors"), join(dir, "af.safetensors"), "--model", modelDir, "--output", first, "--overlap", "first"]);
    expect(await runFixture("up-rows", first)).toEqual([1, 3, 3]);
  }, 120_000);

  it("merge with --overlap error refuses shared neurons and writes nothing", async () => {
    const out = join(dir, "merged-error");
    const result = await cli(["pack", "merge", join(dir, "af.safetensors"), join(dir, "mt.safetensors"), "--model", modelDir, "--output", out, "--overlap", "error"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/packs \['af', 'mt'\] all train 1 (gate|up|down)_proj slice\(s\) of layer 0/);
    expect(existsSync(out)).toBe(false);
  }, 60_000);

  it("apply refuses a pack trained on another model", async () => {
    const out = join(dir, "applied-other");
    const result = await cli(["pack", "apply", join(dir, "af.safetensors"), "--model", otherModel, "--output", out]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/pack_paths\[0\]: pack \(af\) was trained on other base weights .*: its neurons' base weights differ by up to/);
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});
