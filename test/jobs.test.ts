// Job keys decide what a rerun reuses: they must change with the user's input files' content.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { prepareCorpora } from "../ts/corpora/prepare.js";
import { pipelineJobs, runLayout } from "../ts/pipeline/jobs.js";
import { Method } from "../ts/gen/sparse_sub/v1/worker.js";
import { parsePlan } from "../ts/plan/load.js";
import { validateGraph, type Job } from "../ts/pipeline/graph.js";

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

describe("the job graph of every method", () => {
  const methods = ["sparse", "random", "neuron-lora", "lora", "ia3", "ffn", "full"];
  function graph(dir: string, weightChange = true) {
    const { plan } = parsePlan(
      {
        name: "graph",
        model: { source: "org/model" },
        languages: [{ code: "en", udhr: { id: "eng" } }, { code: "af", udhr: { id: "afr" } }],
        training: { targets: ["af"], methods, seed: 11 },
        evaluation: { weight_change: weightChange },
      },
      dir,
    );
    const { corpora } = prepareCorpora(plan.languages, join(dir, "run/corpora"));
    return pipelineJobs({ plan, corpora, layout: runLayout(join(dir, "run")), runId: "r", onProgress: () => {} });
  }
  /** What each job sends: a client that records the request (no worker runs here). */
  async function sent(job: ReturnType<typeof graph>[number]): Promise<Record<string, unknown>> {
    let request: Record<string, unknown> = {};
    const record = async (r: Record<string, unknown>) => ((request = r), {});
    const client = { train: record, evaluate: record, analyzeWeights: record, collectActivations: record, selectNeurons: record };
    await job.run({ worker: { client } as never, signal: new AbortController().signal, result: () => ({}) as never });
    return request;
  }

  it("orders jobs, sets dependencies and sends each method's own fields", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sparse-sub-graph-"));
    const jobs = graph(dir);
    const byId = new Map(jobs.map((j) => [j.id, j]));
    expect(jobs.map((j) => j.id).slice(0, 4)).toEqual(["collect:en", "collect:af", "select", "evaluate:base"]);
    // whole-model evaluations come last (each loads another model)
    expect(jobs.slice(-2).map((j) => j.id)).toEqual(["evaluate:af:ffn", "evaluate:af:full"]);
    for (const method of methods) {
      const neurons = ["sparse", "random", "neuron-lora"].includes(method);
      expect(byId.get(`train:af:${method}`)!.deps, method).toEqual(neurons ? ["select"] : []);
      expect(byId.get(`evaluate:af:${method}`)!.deps, method).toEqual([`train:af:${method}`]);
      expect(byId.get(`weights:af:${method}`)!.deps, method).toEqual([`train:af:${method}`, "select"]);
    }
    const train = Object.fromEntries(await Promise.all(methods.map(async (m) => [m, await sent(byId.get(`train:af:${m}`)!)])));
    expect(Object.fromEntries(methods.map((m) => [m, train[m].method]))).toEqual({
      sparse: Method.METHOD_SPARSE, random: Method.METHOD_RANDOM, "neuron-lora": Method.METHOD_NEURON_LORA, lora: Method.METHOD_LORA,
      ia3: Method.METHOD_IA3, ffn: Method.METHOD_FFN, full: Method.METHOD_FULL,
    });
    expect(train.random.settings).toEqual({ $case: "random", value: { seed: 11, perLayer: false } }); // training.seed
    expect(train.random.drawnNeuronSetPath).toBe(join(dir, "run/neurons/af.random.json"));
    expect(train["neuron-lora"].settings).toEqual({ $case: "neuronLora", value: { r: 8, alpha: 16 } });
    expect(train.lora.settings).toEqual({ $case: "adapter", value: { targetModules: ["gate_proj", "up_proj", "down_proj"], r: 32, alpha: 64, dropout: 0.1, feedforwardModules: [] } });
    expect(train.ia3.settings).toEqual({ $case: "adapter", value: { targetModules: ["gate_proj", "up_proj", "down_proj"], r: 0, alpha: 0, dropout: 0, feedforwardModules: ["down_proj"] } });
    for (const m of ["sparse", "ffn", "full"]) expect(train[m].settings, m).toBeUndefined();
    for (const m of methods.filter((x) => x !== "random")) expect(train[m].drawnNeuronSetPath, m).toBe("");
    for (const m of methods) expect(train[m].neuronSetPath, m).toBe(["sparse", "random", "neuron-lora"].includes(m) ? join(dir, "run/neurons/af.json") : "");
    expect(Object.fromEntries(methods.map((m) => [m, train[m].outputPath]))).toEqual({
      sparse: join(dir, "run/packs/af.sparse.safetensors"), random: join(dir, "run/packs/af.random.safetensors"),
      "neuron-lora": join(dir, "run/packs/af.neuron-lora.safetensors"), lora: join(dir, "run/adapters/af.lora"),
      ia3: join(dir, "run/adapters/af.ia3"), ffn: join(dir, "run/models/af.ffn"), full: join(dir, "run/models/af.full"),
    });
    // each evaluation scores what its method wrote: a pack, an adapter or a model directory
    const scored = async (m: string) => {
      const r = await sent(byId.get(`evaluate:af:${m}`)!);
      return [r.packPath, r.adapterPath, (r.model as { source: string }).source];
    };
    expect(await scored("neuron-lora")).toEqual([join(dir, "run/packs/af.neuron-lora.safetensors"), "", "org/model"]);
    expect(await scored("ia3")).toEqual(["", join(dir, "run/adapters/af.ia3"), "org/model"]);
    expect(await scored("full")).toEqual(["", "", join(dir, "run/models/af.full")]);
    expect(graph(dir, false).some((j) => j.id.startsWith("weights:"))).toBe(false);
  });
});

describe("what each job does with its worker", () => {
  // A recording client stands in for the worker (the integration tests run the real one): these
  // check the wiring the worker cannot see, i.e. ids, progress, staging, and reuse of outputs.
  function jobsOf(dir: string, extra: Record<string, unknown> = {}, stage?: Parameters<typeof pipelineJobs>[0]["stage"]) {
    const progress: [string, unknown][] = [];
    const { plan } = parsePlan(
      {
        name: "wiring",
        model: { source: "org/model" },
        languages: [{ code: "en", udhr: { id: "eng" } }, { code: "af", udhr: { id: "afr" } }],
        training: { targets: ["af"], methods: ["sparse"] },
        evaluation: { weight_change: true },
        ...extra,
      },
      dir,
    );
    const { corpora } = prepareCorpora(plan.languages, join(dir, "run/corpora"));
    const jobs = pipelineJobs({ plan, corpora, layout: runLayout(join(dir, "run")), runId: "run7", onProgress: (id, p) => progress.push([id, p]), stage });
    return { jobs: new Map(jobs.map((j) => [j.id, j])), progress };
  }
  async function call(job: Job | undefined, response: unknown = {}) {
    const calls: { method: string; request: Record<string, unknown>; options?: { signal?: AbortSignal; onProgress?: (p: unknown) => void } }[] = [];
    const client = new Proxy({}, {
      get: (_t, method: string) => async (request: Record<string, unknown>, options?: never) => {
        calls.push({ method, request, options });
        return response;
      },
    });
    const signal = new AbortController().signal;
    const result = await job!.run({ worker: { client, name: "w" } as never, signal, result: () => ({}) as never });
    return { calls, result, signal };
  }

  it("sends the run's wire id, the job's signal and its progress, and returns the worker's answer", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sparse-sub-wiring-"));
    const { jobs, progress } = jobsOf(dir);
    const expected: Record<string, [string, boolean]> = {
      "collect:af": ["collectActivations", true],
      select: ["selectNeurons", false],
      "evaluate:base": ["evaluate", true],
      "train:af:sparse": ["train", true],
      "weights:af:sparse": ["analyzeWeights", false],
      "evaluate:af:sparse": ["evaluate", true],
    };
    for (const [id, [method, streams]] of Object.entries(expected)) {
      const answer = { answeredBy: id };
      const { calls, result, signal } = await call(jobs.get(id), answer);
      expect(calls.map((c) => c.method), id).toEqual([method]);
      expect(result, id).toBe(answer);
      expect(calls[0].request.jobId, id).toBe(`run7/${id}`);
      if (streams) {
        expect(calls[0].options?.signal, id).toBe(signal);
        calls[0].options!.onProgress!({ step: 3 });
        expect(progress.at(-1), id).toEqual([id, { step: 3 }]);
      }
    }
    expect((await call(jobs.get("collect:af"))).calls[0].request.outputPath).toBe(join(dir, "run/activations/af.safetensors"));
    expect((await call(jobs.get("train:af:sparse"))).calls[0].request.checkpointPath).toBe(join(dir, "run/checkpoints/af.sparse.pt"));
    expect((await call(jobs.get("weights:af:sparse"))).calls[0].request.artifact).toEqual({ $case: "packPath", value: join(dir, "run/packs/af.sparse.safetensors") });
  });

  it("reuses a recorded output only while every file it names exists (run-relative paths)", () => {
    const dir = mkdtempSync(join(tmpdir(), "sparse-sub-wiring-"));
    const { jobs } = jobsOf(dir);
    mkdirSync(join(dir, "run/neurons"), { recursive: true });
    writeFileSync(join(dir, "run/neurons/en.json"), "{}");
    const sets = { neuronSets: [{ path: "neurons/en.json" }, { path: "neurons/af.json" }] };
    expect(jobs.get("select")!.reusable!(sets)).toBe(false); // af's set is gone
    writeFileSync(join(dir, "run/neurons/af.json"), "{}");
    expect(jobs.get("select")!.reusable!(sets)).toBe(true);
    expect(jobs.get("collect:af")!.reusable!({ outputPath: "activations/af.safetensors" })).toBe(false);
    mkdirSync(join(dir, "run/activations"));
    writeFileSync(join(dir, "run/activations/af.safetensors"), "");
    expect(jobs.get("collect:af")!.reusable!({ outputPath: "activations/af.safetensors" })).toBe(true);
    expect(jobs.get("train:af:sparse")!.reusable!({ outputPath: "packs/af.sparse.safetensors" })).toBe(false);
  });

  it("imports a reference file through the stage with its outputs marked, and names a dropped target", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sparse-sub-wiring-"));
    writeFileSync(join(dir, "ref.pt"), "first");
    const staged: { request: Record<string, unknown>; outputs?: ReadonlySet<string> }[] = [];
    const stage: Parameters<typeof pipelineJobs>[0]["stage"] = (_worker, request, send, outputs) => {
      staged.push({ request: request as Record<string, unknown>, outputs });
      return send(request);
    };
    const reference = { neuron_sets: { reference_file: "ref.pt", languages: ["en", "af"] } };
    const { jobs } = jobsOf(dir, reference, stage);
    const job = jobs.get("import");
    expect([...jobs.keys()].filter((id) => id.startsWith("collect") || id === "select")).toEqual([]);
    expect(jobs.get("train:af:sparse")!.deps).toEqual([job!.id]);
    const { calls, result } = await call(job, { missingLanguages: [], neuronSets: [] });
    expect(staged[0].outputs && [...staged[0].outputs]).toEqual(["neuronSetPaths"]);
    expect(calls[0].method).toBe("convertNeuronSet");
    expect(calls[0].request.neuronSetPaths).toEqual([join(dir, "run/neurons/en.json"), join(dir, "run/neurons/af.json")]);
    expect(result).toEqual({ missingLanguages: [], neuronSets: [] });
    const dropped = call(job, { missingLanguages: ["af"], neuronSets: [] });
    await expect(dropped).rejects.toMatchObject({ code: "PLAN_INVALID", extra: { issues: [{ path: "neuron_sets.languages" }] } });
    await expect(dropped).rejects.toThrow(/ref\.pt holds no neurons for af/);
    // a language the plan does not train may be missing
    await expect(call(job, { missingLanguages: ["en"], neuronSets: [] })).resolves.toBeDefined();

    mkdirSync(join(dir, "run/neurons"), { recursive: true });
    const imported = { neuronSets: [{ path: "neurons/en.json" }, { path: "neurons/af.json" }] };
    writeFileSync(join(dir, "run/neurons/en.json"), "{}");
    expect(job!.reusable!(imported)).toBe(false);
    writeFileSync(join(dir, "run/neurons/af.json"), "{}");
    expect(job!.reusable!(imported)).toBe(true);
    const both = jobsOf(dir, { ...reference, training: { targets: ["en", "af"], methods: ["sparse"] } }).jobs.get("import")!;
    await expect(call(both, { missingLanguages: ["en", "af"], neuronSets: [] })).rejects.toMatchObject({
      message: "ref.pt holds no neurons for en, af".replace("ref.pt", join(dir, "ref.pt")),
      extra: { issues: [{ path: "neuron_sets.languages", message: "no neurons for en, af (the reference drops trailing languages without neurons)" }] },
    });

    const key = job!.key();
    writeFileSync(join(dir, "ref.pt"), "second");
    expect(jobsOf(dir, reference).jobs.get(job!.id)!.key()).not.toBe(key);
  });

  it("trains on given neuron set files directly, keyed by their content", () => {
    const dir = mkdtempSync(join(tmpdir(), "sparse-sub-wiring-"));
    writeFileSync(join(dir, "af.json"), "one");
    const given = { neuron_sets: { files: { af: "af.json" } } };
    const train = () => jobsOf(dir, given).jobs.get("train:af:sparse")!;
    expect(train().deps).toEqual([]);
    expect([...jobsOf(dir, given).jobs.keys()].some((id) => id.startsWith("collect") || id === "select" || id.startsWith("import"))).toBe(false);
    const key = train().key();
    writeFileSync(join(dir, "af.json"), "two");
    expect(train().key()).not.toBe(key);
  });

  it("sends the given neuron set file to the trainer", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sparse-sub-wiring-"));
    writeFileSync(join(dir, "af.json"), "{}");
    const { jobs } = jobsOf(dir, { neuron_sets: { files: { af: "af.json" } } });
    expect((await call(jobs.get("train:af:sparse"))).calls[0].request.neuronSetPath).toBe(join(dir, "af.json"));
  });

  it("builds a valid graph for every neuron source, with the selection's inputs and model keys", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sparse-sub-wiring-"));
    writeFileSync(join(dir, "af.json"), "{}");
    writeFileSync(join(dir, "ref.pt"), "ref");
    for (const extra of [{}, { neuron_sets: { files: { af: "af.json" } } }, { neuron_sets: { reference_file: "ref.pt", languages: ["en", "af"] } }]) {
      const jobs = [...jobsOf(dir, extra).jobs.values()];
      expect(() => validateGraph(jobs), JSON.stringify(extra)).not.toThrow();
      for (const job of jobs) expect(job.key(), job.id).toMatch(/^[0-9a-f]{16}$/);
    }
    const { jobs } = jobsOf(dir);
    expect(jobs.get("select")!.deps).toEqual(["collect:en", "collect:af"]);
    const select = (await call(jobs.get("select"))).calls[0].request;
    expect(select.counts).toEqual([
      { language: "en", path: join(dir, "run/activations/en.safetensors") },
      { language: "af", path: join(dir, "run/activations/af.safetensors") },
    ]);
    expect(select.outputDir).toBe(join(dir, "run/neurons"));
    // jobs on the base model share one model key; a trained model directory is another model
    const withFull = jobsOf(dir, { training: { targets: ["af"], methods: ["sparse", "full"] } }).jobs;
    const base = withFull.get("collect:af")!.model;
    expect(base).toBeDefined();
    for (const id of ["select", "evaluate:base", "train:af:sparse", "train:af:full", "weights:af:full", "evaluate:af:sparse"]) {
      if (withFull.get(id)!.model !== undefined) expect(withFull.get(id)!.model, id).toBe(base);
    }
    expect(withFull.get("evaluate:base")!.model).toBe(base);
    expect(withFull.get("evaluate:af:full")!.model).not.toBe(base);
    expect(runLayout(join(dir, "run")).corpora).toBe(join(dir, "run/corpora"));
  });

  it("lists each method's evaluation right after its training, and model-directory evaluations last", () => {
    const dir = mkdtempSync(join(tmpdir(), "sparse-sub-wiring-"));
    const { jobs } = jobsOf(dir, { training: { targets: ["af"], methods: ["full", "sparse"] } });
    expect([...jobs.keys()]).toEqual([
      "collect:en", "collect:af", "select", "evaluate:base",
      "train:af:full", "weights:af:full", "train:af:sparse", "weights:af:sparse", "evaluate:af:sparse", "evaluate:af:full",
    ]);
  });

  it("keys evaluations by alignment files and task data, and trains files without held-out text", () => {
    const dir = mkdtempSync(join(tmpdir(), "sparse-sub-wiring-"));
    writeFileSync(join(dir, "pairs.jsonl"), "{}\n");
    writeFileSync(join(dir, "xx.txt"), "text");
    const extra = {
      languages: [{ code: "en", udhr: { id: "eng" } }, { code: "af", udhr: { id: "afr" } }, { code: "xx", train: { files: ["xx.txt"] } },
        { code: "yy", train: { hub_dataset: { name: "org/yy" } } }],
      training: { targets: ["af", "xx", "yy"], methods: ["sparse"] },
      evaluation: { alignment: { files: { af: "pairs.jsonl", xx: "pairs.jsonl", yy: "pairs.jsonl" } }, tasks: [{ task: "belebele" }] },
    };
    const before = jobsOf(dir, extra).jobs;
    for (const job of before.values()) expect(() => job.key(), job.id).not.toThrow(); // hub corpora name no files
    writeFileSync(join(dir, "pairs.jsonl"), '{"edited": true}\n');
    const after = jobsOf(dir, extra).jobs;
    expect(after.get("evaluate:base")!.key()).not.toBe(before.get("evaluate:base")!.key());
    expect(after.get("evaluate:xx:sparse")!.key()).not.toBe(before.get("evaluate:xx:sparse")!.key());
    expect(after.get("train:xx:sparse")!.key()).toBe(before.get("train:xx:sparse")!.key());
  });

  it("wires the optional stages: base only when compared with, deactivation, steering, components, atlas", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sparse-sub-stages-"));
    const languages = [{ code: "en", udhr: { id: "eng" } }, { code: "af", udhr: { id: "afr" } }, { code: "nl", udhr: { id: "nld" } }];
    const ids = (extra: object) => [...jobsOf(dir, { languages, ...extra }).jobs.keys()];
    const steering = { steering: { pairs: [{ from: "af", to: "nl" }], strength: [2] } };
    // nothing trained, only steering: nothing compares perplexities, so no base evaluation
    expect(ids({ training: { targets: [] }, evaluation: steering })).toEqual(["collect:en", "collect:af", "collect:nl", "select", "steer:af:nl:2", "steer:af:nl:2:random"]);
    expect(ids({ training: { targets: [] }, evaluation: { deactivation: { languages: ["af"], random_control: false } } })).toEqual(["collect:en", "collect:af", "collect:nl", "select", "evaluate:base", "deactivate:af"]);
    expect(ids({ training: { targets: [] }, atlas: {} })).toEqual(["collect:en", "collect:af", "collect:nl", "select", "atlas"]);
    expect(ids({ training: { targets: [] } })).toEqual(["collect:en", "collect:af", "collect:nl", "select"]);
    // stages that read the selected sets wait for the selection, and the atlas for the counts too
    const selected = jobsOf(dir, { languages, training: { targets: [] }, evaluation: { deactivation: { languages: ["af"], random_control: false } }, atlas: {} }).jobs;
    expect(selected.get("deactivate:af")!.deps).toEqual(["select"]);
    expect(selected.get("atlas")!.deps).toEqual(["select", "collect:en", "collect:af", "collect:nl"]);
    // a whole-matrix method's job asks for as many processes as the plan gives it; the others one
    const spread = jobsOf(dir, { languages, training: { targets: ["af"], methods: [{ method: "full", processes: 2 }, "sparse"] } }).jobs;
    expect([spread.get("train:af:full")!.processes, spread.get("train:af:sparse")!.processes]).toEqual([2, 1]);

    const { jobs } = jobsOf(dir, { languages, training: { targets: [] }, evaluation: { ...steering } });
    const steer = jobs.get("steer:af:nl:2")!;
    expect(steer.deps).toEqual(["select", "collect:nl"]); // mean mode reads nl's counts
    const { calls } = await call(steer);
    expect(calls[0].method).toBe("steer");
    expect(calls[0].request).toMatchObject({
      jobId: "run7/steer:af:nl:2", offNeuronSetPath: join(dir, "run/neurons/af.json"), boostNeuronSetPath: join(dir, "run/neurons/nl.json"),
      boostCountsPath: join(dir, "run/activations/nl.safetensors"), strength: 2, randomSameSize: false, seed: 0, promptCount: 12, promptWords: 6, maxNewTokens: 32,
      promptCorpus: { source: { $case: "textFiles", value: { paths: [join(dir, "run/corpora/af/heldout.jsonl")] } } },
    });
    expect((await call(jobs.get("steer:af:nl:2:random"))).calls[0].request).toMatchObject({ randomSameSize: true, seed: 0 });
    // mean mode needs each neuron's active sum: the collection records it only then
    expect((await call(jobs.get("collect:nl"))).calls[0].request.activeSums).toBe(true);
    const addMode = jobsOf(dir, { languages, training: { targets: [] }, evaluation: { steering: { ...steering.steering, mode: "add" } } }).jobs;
    expect((await call(addMode.get("collect:nl"))).calls[0].request.activeSums).toBe(false);
    expect(addMode.get("steer:af:nl:2")!.deps).toEqual(["select"]);
    expect(steer.key()).not.toBe(jobs.get("steer:af:nl:2:random")!.key());

    writeFileSync(join(dir, "af.json"), "{}");
    writeFileSync(join(dir, "nl.json"), "{}");
    const given = { languages, neuron_sets: { files: { af: "af.json", nl: "nl.json" } }, training: { targets: [] } };
    const fromFiles = jobsOf(dir, { ...given, evaluation: { deactivation: true, steering: { pairs: [{ from: "af", to: "nl" }], mode: "add", random_control: false } } }).jobs;
    expect(fromFiles.get("deactivate:af")!.deps).toEqual([]);
    expect(fromFiles.get("steer:af:nl:1")!.deps).toEqual([]); // add mode reads no counts
    expect((await call(fromFiles.get("steer:af:nl:1"))).calls[0].request).toMatchObject({ boostCountsPath: "", offNeuronSetPath: join(dir, "af.json") });
    const keyed = fromFiles.get("steer:af:nl:1")!.key();
    writeFileSync(join(dir, "nl.json"), '{"edited": 1}');
    expect(jobsOf(dir, { ...given, evaluation: { steering: { pairs: [{ from: "af", to: "nl" }], mode: "add", random_control: false } } }).jobs.get("steer:af:nl:1")!.key()).not.toBe(keyed);
    writeFileSync(join(dir, "ref.pt"), "ref");
    const imported = jobsOf(dir, { languages, neuron_sets: { reference_file: "ref.pt", languages: ["en", "af", "nl"] }, training: { targets: [] }, evaluation: { deactivation: true } }).jobs;
    expect(imported.get("deactivate:nl:random")!.deps).toEqual(["import"]);

    const shares = jobsOf(dir, { languages, evaluation: { component_share: true } }).jobs;
    expect([...shares.keys()].filter((id) => id.startsWith("evaluate:af:sparse"))).toEqual(["evaluate:af:sparse:gate", "evaluate:af:sparse:up", "evaluate:af:sparse:down", "evaluate:af:sparse"]);
    const gate = shares.get("evaluate:af:sparse:gate")!;
    expect(gate.deps).toEqual(["train:af:sparse"]);
    const gateCall = (await call(gate)).calls[0];
    expect(gateCall.method).toBe("evaluate");
    expect(gateCall.request).toMatchObject({ jobId: "run7/evaluate:af:sparse:gate", packComponents: ["gate"], packPath: join(dir, "run/packs/af.sparse.safetensors") });
    expect(gateCall.request.sets).toHaveLength(1); // the target only
    expect(gateCall.options!.signal).toBeDefined();
    expect(gate.key()).not.toBe(shares.get("evaluate:af:sparse:up")!.key());

    const search = jobsOf(dir, { languages, identification: { top_rate: [0.01, 0.02] }, training: { targets: ["af"], methods: ["sparse"], selection_search: { steps: 2 } } }).jobs;
    const c1 = "top0.01_filter0.95_bar0.95", c2 = "top0.02_filter0.95_bar0.95";
    expect([...search.keys()].filter((id) => !id.startsWith("collect:"))).toEqual([`candidate:${c1}`, `candidate:${c2}`, `search:af:${c1}`, `search:af:${c2}`, "choose:af", "evaluate:base", "train:af:sparse", "weights:af:sparse", "evaluate:af:sparse"]);
    expect(search.get("train:af:sparse")!.deps).toEqual(["choose:af"]);
  });

  it("keys the weight analysis by the model it reads and the given neuron set", () => {
    const dir = mkdtempSync(join(tmpdir(), "sparse-sub-wiring-"));
    writeFileSync(join(dir, "af.json"), "one");
    const given = { neuron_sets: { files: { af: "af.json" } } };
    const weights = (extra: object) => jobsOf(dir, { ...given, ...extra }).jobs.get("weights:af:sparse")!.key();
    const first = weights({});
    expect(weights({ model: { source: "org/other" } })).not.toBe(first);
    writeFileSync(join(dir, "af.json"), "two");
    expect(weights({})).not.toBe(first);
  });
});
