// Control-plane costs, printed as one JSON line:
//  1. expanding a plan of 100 languages x 6 methods into jobs (parse, corpora, jobs, resume keys);
//  2. one training job driven through gRPC + ZeroMQ telemetry vs the same work in-process.
// Needs `npm run build` (imports dist/). Usage: node bench/control-plane.mjs [--steps 20]
import { execa } from "execa";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prepareCorpora } from "../dist/corpora/prepare.js";
import { readDeclaration, splitDeclaration } from "../dist/corpora/udhr.js";
import { pipelineJobs, runLayout } from "../dist/pipeline/jobs.js";
import { validateGraph } from "../dist/pipeline/graph.js";
import { parsePlan } from "../dist/plan/load.js";
import { subscribeTelemetry, startLocalWorker, WorkerClient, proto } from "../dist/index.js";
import { PACKAGE_ROOT, workerPython } from "../dist/worker/launch.js";

const steps = Number(process.argv[process.argv.indexOf("--steps") + 1]) || 60;
const python = workerPython();
const py = (args) => execa(python, args, { cwd: join(PACKAGE_ROOT, "py-worker"), env: { PYTHONPATH: join(PACKAGE_ROOT, "py-worker"), TOKENIZERS_PARALLELISM: "false" } });

function planExpansion() {
  const languages = Array.from({ length: 100 }, (_, i) => ({
    code: `l${i}`,
    train: { hub_dataset: { name: "cis-lmu/GlotCC-V1", config: `l${i}-Latn`, text_field: "content" } },
    heldout: { hub_dataset: { name: "openlanguagedata/flores_plus", config: `l${i}_Latn`, split: "dev", text_field: "text" } },
  }));
  const methods = ["sparse", "random", "ffn", "full", "lora", "ia3"];
  const start = performance.now();
  const { plan } = parsePlan({ name: "big", model: { source: "meta-llama/Llama-3.1-8B" }, languages, training: { targets: languages.map((l) => l.code), methods } }, tmpdir());
  const { corpora } = prepareCorpora(plan.languages, join(tmpdir(), "unused"));
  const jobs = pipelineJobs({ plan, corpora, layout: runLayout("/tmp/big"), runId: "bench", onProgress: () => {} });
  validateGraph(jobs);
  for (const job of jobs) job.key();
  return { languages: 100, methods: methods.length, jobs: jobs.length, seconds: (performance.now() - start) / 1000 };
}

async function grpcOverhead() {
  const dir = mkdtempSync(join(tmpdir(), "sparse-sub-bench-"));
  const text = join(dir, "af.txt");
  writeFileSync(text, splitDeclaration(readDeclaration("afr"), [30]).train.join("\n"));
  const model = join(dir, "model");
  await py(["-m", "sparse_sub_worker.testing.tiny_model", "--out", model, "--text", text, "--layers", "4", "--hidden", "256", "--intermediate", "768", "--vocab-size", "2000"]);
  writeFileSync(join(dir, "set.json"), JSON.stringify({ format: "sparse-sub/neuron-set@1", language: "af", layers: Array.from({ length: 4 }, () => Array.from({ length: 16 }, (_, i) => i * 7)) }));
  const config = { learningRate: 1e-4, weightDecay: 0.01, maxGradNorm: 1, batchSize: 2, gradientAccumulationSteps: 1, sequenceLength: 128, maxTokens: 0, epochs: 1000, maxSteps: steps, validateEvery: 0, seed: 0, components: [], gradientCheckpointing: false };
  const request = (jobId) => ({ jobId, model: { source: model, ggufFile: "", dtype: "float32", device: "cpu", revision: "" }, language: "af", neuronSetPath: join(dir, "set.json"), trainCorpus: { source: { $case: "textFiles", value: { paths: [text] } } }, config, outputPath: join(dir, `${jobId}.safetensors`), method: proto.Method.METHOD_SPARSE, drawnNeuronSetPath: "" });

  // in-process first, with no worker alive: an idle worker's OpenMP threads spin and steal cores
  const script = `
import json, sys, time, torch
from sparse_sub_worker.corpus import TextFilesCorpus, load_sequences
from sparse_sub_worker.methods.subnetwork import SubnetworkTrainable
from sparse_sub_worker.models.loading import ModelRequest, load_model
from sparse_sub_worker.neuron_sets import load_neuron_set
from sparse_sub_worker.packs import save_pack
from sparse_sub_worker.training import TrainSettings, run_training
model, text, neurons, out, steps = sys.argv[1:6]
loaded = load_model(ModelRequest(model, device="cpu", dtype="float32"))
walls = []
for i in range(4):
    start = time.perf_counter()
    settings = TrainSettings(learning_rate=1e-4, batch_size=2, sequence_length=128, epochs=1000, max_steps=int(steps), validate_every=0)
    data = load_sequences(TextFilesCorpus((text,)), loaded.tokenizer, "c", 128, 0, separate_documents=True, keep_tail=True)
    trainable = SubnetworkTrainable(loaded, load_neuron_set(neurons, "n"))
    run_training(loaded, trainable, data, None, settings, out)
    walls.append(time.perf_counter() - start)
print(json.dumps(walls[1:]))
`;
  const inProcess = JSON.parse((await py(["-c", script, model, text, join(dir, "set.json"), join(dir, "inproc.safetensors"), String(steps)])).stdout.trim().split("\n").at(-1));
  const worker = await startLocalWorker();
  const client = new WorkerClient(worker.address);
  const info = await client.info();
  let events = 0;
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const subscription = subscribeTelemetry(info.telemetryEndpoint, () => { events += 1; });
  try {
    await client.train(request("warm")); // loads the model once
    const walls = [];
    for (let i = 0; i < 3; i++) {
      const start = performance.now();
      await client.train(request(`timed-${i}`), { onProgress: () => {} });
      walls.push((performance.now() - start) / 1000);
    }
    return { steps, grpc_seconds: median(walls), in_process_seconds: median(inProcess), overhead: median(walls) / median(inProcess) - 1, telemetry_events: events };
  } finally {
    subscription.close();
    client.close();
    await worker.stop();
  }
}

console.log(JSON.stringify({ plan_expansion: planExpansion(), grpc: await grpcOverhead() }));
