// WorkerClient against a real worker process: errors as typed data, cancel, neuron-set import.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SparseSubError } from "../ts/errors.js";
import { Method } from "../ts/gen/sparse_sub/v1/worker.js";
import { METHOD_NAMES, methodWire } from "../ts/plan/methods/index.js";
import { lora } from "../ts/plan/methods/lora.js";
import { WorkerClient } from "../ts/worker/client.js";
import { startLocalWorker, type LocalWorker } from "../ts/worker/launch.js";
import { subscribeTelemetry } from "../ts/telemetry/subscriber.js";
import { makeTinyModel } from "./helpers/worker-env.js";

const REFERENCE_DATA = resolve(import.meta.dirname, "../../shared/reference-data");
let worker: LocalWorker;
let client: WorkerClient;
let modelDir: string;
let scratch: string;

beforeAll(async () => {
  [worker, modelDir] = await Promise.all([startLocalWorker(), makeTinyModel(["eng", "afr"])]);
  client = new WorkerClient(worker.address);
  scratch = mkdtempSync(join(tmpdir(), "sparse-sub-worker-"));
});

afterAll(async () => {
  client?.close();
  await worker?.stop();
});

const textCorpus = (path: string) => ({ source: { $case: "textFiles" as const, value: { paths: [path] } } });

function trainRequest(jobId: string, maxSteps: number) {
  const corpus = join(scratch, "train.txt");
  writeFileSync(corpus, "Alle menslike wesens word vry, met gelyke waardigheid en regte, gebore. ".repeat(40));
  const neurons = join(scratch, "af.json");
  writeFileSync(neurons, JSON.stringify({ format: "sparse-sub/neuron-set@1", language: "af", layers: [[1, 2, 3], [4]] }));
  return {
    jobId,
    model: { source: modelDir, ggufFile: "", dtype: "float32", device: "cpu", revision: "" },
    language: "af",
    neuronSetPath: neurons,
    trainCorpus: textCorpus(corpus),
    config: { learningRate: 1e-3, weightDecay: 0.01, maxGradNorm: 1, batchSize: 1, gradientAccumulationSteps: 1, sequenceLength: 16,
      maxTokens: 0, epochs: 100_000, maxSteps, validateEvery: 0, seed: 0, components: [] },
    outputPath: join(scratch, `${jobId}.safetensors`),
  };
}

describe("local worker lifetime", () => {
  it("exits by itself when its controller is killed with SIGKILL", async () => {
    const { execa } = await import("execa");
    const launcher = join(import.meta.dirname, "../dist/worker/launch.js"); // built by npm test
    // a controller that starts a worker, reports its pid, then dies without any cleanup
    const script = `const { startLocalWorker } = await import(${JSON.stringify(launcher)}); const w = await startLocalWorker(); console.log(w.pid); process.kill(process.pid, "SIGKILL");`;
    const controller = await execa("node", ["--input-type=module", "-e", script], { reject: false });
    const pid = Number(controller.stdout.trim().split("\n").at(-1));
    expect(pid).toBeGreaterThan(0);
    const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
    for (let i = 0; i < 100 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive()).toBe(false);
  });
});

describe("worker over gRPC", () => {
  it("describes itself", async () => {
    const info = await client.info();
    expect(info).toMatchObject({ protocol: "sparse_sub.v1", device: "cpu", runningJob: "", queuedJobs: 0 });
    expect(info.telemetryEndpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    // the controller's methods and the worker's registry are the same list
    expect([...info.methods].sort()).toEqual(METHOD_NAMES.map(methodWire).sort());
  });

  it("fills an unset LoRA rank, alpha and target modules with the plan schema's defaults", async () => {
    // the defaults live on both sides (a worker driven without the controller needs them too)
    const plan = lora.schema.parse({ method: "lora" });
    const request = {
      ...trainRequest("lora-defaults", 1),
      method: Method.METHOD_LORA,
      outputPath: join(scratch, "lora-defaults"),
      settings: { $case: "adapter" as const, value: { targetModules: [], r: 0, alpha: 0, dropout: plan.dropout, feedforwardModules: [] } },
    };
    await client.train(request);
    const config = JSON.parse(readFileSync(join(scratch, "lora-defaults", "adapter_config.json"), "utf8"));
    expect({ r: config.r, alpha: config.lora_alpha, targets: [...config.target_modules].sort() })
      .toEqual({ r: plan.r, alpha: plan.alpha, targets: [...plan.target_modules].sort() });
  });

  it("turns worker errors into typed errors naming the request field", async () => {
    const error = await client
      .collectActivations({ jobId: "e1", model: { source: join(scratch, "missing"), ggufFile: "", dtype: "auto", device: "cpu", revision: "" },
        language: "af", corpus: textCorpus("x.txt"), sequenceLength: 16, batchSize: 1, outputPath: join(scratch, "o.safetensors") })
      .catch((e) => e);
    expect(error).toBeInstanceOf(SparseSubError);
    expect(error).toMatchObject({ code: "WORKER_FAILED", extra: { reason: "PATH_NOT_FOUND", field: "model.source", grpcCode: 5 } });
    expect(error.message).toBe(`CollectActivations(af) failed on ${worker.address}: model.source: model directory not found: ${join(scratch, "missing")}`);

    const empty = join(scratch, "empty.txt");
    writeFileSync(empty, "   \n");
    const request = { ...trainRequest("e2", 1), trainCorpus: textCorpus(empty) };
    await expect(client.train(request)).rejects.toMatchObject({ extra: { reason: "EMPTY_CORPUS", field: "train_corpus" } });
  });

  it("cancels a running job promptly, publishes its progress, and stays usable", async () => {
    const seen: string[] = [];
    const telemetry = subscribeTelemetry(worker.telemetry, (topic, event) => seen.push(`${topic}:${event.progress?.phase}`));
    const controller = new AbortController();
    const started = Date.now();
    const call = client.train(trainRequest("cancel-me", 1_000_000), {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === "train" && p.done >= 3) controller.abort();
      },
    });
    await expect(call).rejects.toMatchObject({ code: "CANCELLED" });
    expect(Date.now() - started).toBeLessThan(30_000);
    for (let i = 0; i < 50 && (await client.info()).runningJob !== ""; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await client.info()).runningJob).toBe("");
    expect(existsSync(join(scratch, "cancel-me.safetensors"))).toBe(false);

    const result = await client.train(trainRequest("after-cancel", 2));
    expect(result).toMatchObject({ steps: 2, trainableParameters: 4 * 3 * 32, language: "af" });
    telemetry.close();
    expect(seen).toContain("cancel-me:train");
    expect(seen).toContain("after-cancel:train");
  });

  it.skipIf(!existsSync(REFERENCE_DATA))("imports the paper's released neuron sets and exports them back", async () => {
    const languages = "mt af is cy mk lv lt sl sk et ka ne".split(" ");
    const imported = await client.convertNeuronSet({
      direction: 1,
      referencePath: join(REFERENCE_DATA, "paper-llama-3.1-8b-top5.pt"),
      languages,
      neuronSetPaths: languages.map((l) => join(scratch, `paper-${l}.json`)),
    });
    expect(imported.missingLanguages).toEqual([]);
    expect(Object.fromEntries(imported.neuronSets.map((s) => [s.language, s.neuronCount]))).toEqual({
      mt: 3015, af: 2581, is: 5033, cy: 6020, mk: 1743, lv: 3212, lt: 2978, sl: 2046, sk: 1940, et: 3204, ka: 1150, ne: 4625,
    });
    const exported = await client.convertNeuronSet({
      direction: 2,
      referencePath: join(scratch, "export.pt"),
      neuronSetPaths: languages.map((l) => join(scratch, `paper-${l}.json`)),
      numLayers: 32,
    });
    expect(exported.neuronSets.map((s) => s.neuronCount)).toEqual(imported.neuronSets.map((s) => s.neuronCount));

    const tang = await client.convertNeuronSet({
      direction: 1,
      referencePath: join(REFERENCE_DATA, "tang-mistral-7b.neuron.pth"),
      languages: "en zh fr es vi id ja".split(" "),
      neuronSetPaths: "en zh fr es vi id ja".split(" ").map((l) => join(scratch, `tang-${l}.json`)),
    });
    expect(tang.missingLanguages).toEqual(["ja"]);
  });

  it("with --telemetry off opens no ZeroMQ socket and reports progress over the gRPC stream only", async () => {
    const quiet = await startLocalWorker({ args: ["--telemetry", "off"] });
    const quietClient = new WorkerClient(quiet.address);
    try {
      expect(quiet.telemetry).toBe("");
      expect((await quietClient.info()).telemetryEndpoint).toBe("");
      const phases: string[] = [];
      const result = await quietClient.train(trainRequest("quiet", 2), { onProgress: (p) => phases.push(p.phase) });
      expect(result.steps).toBe(2);
      expect(phases).toContain("train");
    } finally {
      quietClient.close();
      await quiet.stop();
    }
  });
});
