// results.json: everything a run measured, assembled from job records. Schema documented in
// README ("Run directory"); bump RESULTS_SCHEMA when a field changes meaning.
import type {
  AlignmentResult,
  AnalyzeWeightsResponse,
  CollectActivationsResult,
  EvaluateResult,
  LanguageScore,
  TaskScore,
  SelectNeuronsResponse,
  TrainResult,
  WorkerInfo,
} from "../gen/sparse_sub/v1/worker.js";
import { jobIds } from "../ids.js";
import { methodLabel, outputKind, trainsNeurons, type MethodName, type MethodSpec, type OutputKind } from "../plan/methods/index.js";
import type { Plan } from "../plan/schema.js";
import { searchesSelection, selectionCandidates, type SelectionCandidate, type SelectionChoice } from "../plan/selection-search.js";
import { shareComponents, trainings, type Training } from "../plan/trainings.js";
import type { AtlasResult } from "../atlas/atlas.js";
import { deactivationResult, type DeactivationResult } from "./deactivation.js";
import { steeringResult, type SteeringRow } from "./steering.js";

export const RESULTS_SCHEMA = "sparse-sub/results@3";

export interface ScoreRow {
  language: string;
  perplexity: number;
  mean_loss: number; // nats per predicted token
  tokens: number;
}

/** One benchmark task's score on one model. */
export interface TaskRow {
  label: string; // e.g. "flores", "udhr_translation"
  task: string; // the worker task that scored it (udhr_translation runs as flores)
  language: string; // "" for English tasks
  direction: string; // translation: eng-x | x-eng
  mode: string; // multiple choice: generative | loglik
  metrics: Record<string, number>; // bleu, chrf, chrf_pp | accuracy, unreadable | acc_norm; each with <name>_stderr
  headline: string; // the metric tables show (lm-eval's convention per task)
  items: number;
  seconds: number;
  examples: unknown[]; // first prompts and outputs
}

export interface AlignmentRow {
  language: string;
  per_layer: number[]; // mean cosine similarity English vs language, per decoder layer
  mean: number;
  pairs: number;
}

export type ProjectionNorms = { neurons: number; matrix: number };
export interface WeightChange {
  layers: { layer: number; gate_proj: ProjectionNorms | null; up_proj: ProjectionNorms | null; down_proj: ProjectionNorms | null }[];
  total: Record<"gate_proj" | "up_proj" | "down_proj", ProjectionNorms>; // L2 over all layers
}

/** One (target language, method) training job and the evaluation of what it wrote. */
export interface TargetResult {
  language: string;
  method: MethodName;
  label: string; // the method's name in the plan (e.g. "sparse-up-down")
  settings: MethodSpec; // the method's full settings, defaults filled in
  output: string; // pack file, peft adapter directory or model directory
  output_kind: OutputKind;
  neuron_count: number | null; // sparse / random: neurons trained; else null
  drawn_neuron_set: string | null; // random: the drawn set (JSON)
  trainable_parameters: number;
  parameter_share: number; // trainable / all model parameters
  steps: number;
  tokens: number;
  seconds: number;
  tokens_per_second: number;
  peak_memory_bytes: number;
  optimizer_state_bytes: number;
  best_step: number;
  diverged_step: number | null; // the step whose loss was NaN or infinite (training stopped there, best weights kept); null if none
  train_loss: { step: number; loss: number }[];
  validation_loss: { step: number; loss: number }[];
  scores: ScoreRow[] | null; // held-out scores of the trained model; null until evaluated
  tasks: TaskRow[] | null; // benchmark tasks on the trained model; null until evaluated
  alignment: AlignmentRow[] | null;
  weight_change: WeightChange | null; // null when not analyzed
  neurons_of: string; // whose neuron set was trained: the language itself, or another (training.transfer)
  component_share: ComponentShare[] | null; // evaluation.component_share: null when not asked or not yet scored
  worker: string;
}

/** The target's held-out perplexity with only one of a pack's components applied. */
export interface ComponentShare {
  component: string; // gate | up | down
  perplexity: number;
  mean_loss: number;
  // (base loss - this loss) / (base loss - loss with the whole pack): the component's share of
  // the pack's gain in nats per token; null when the base was not scored or the pack gained nothing
  share: number | null;
}

export interface SelectionSearchResult {
  // null counts: the candidate's selection has not run yet
  candidates: (SelectionCandidate & { selected_neuron_count: number | null; neuron_sets: { language: string; neuron_count: number }[] | null })[];
  targets: SelectionChoice[]; // once chosen
}

export interface RunResults {
  schema: typeof RESULTS_SCHEMA;
  run: string;
  status: "complete" | "failed" | "cancelled";
  error: string | null;
  started_at: string;
  finished_at: string;
  model: Plan["model"];
  // torch / transformers / memory: absent in results written before sparse-sub 0.1.0 recorded them
  workers: { name: string; address: string; device: string; version: string; torch?: string; transformers?: string; memory_total_bytes?: number }[];
  languages: { code: string; name: string; tokens_counted: number | null }[];
  neuron_source: "lape" | "reference_file" | "files"; // where the neuron sets came from
  selection: {
    top_rate: number;
    filter_rate: number;
    activation_bar_ratio: number;
    selected_neuron_count: number;
    total_neuron_count: number;
    filter_threshold: number;
    activation_threshold: number;
    neuron_sets: { language: string; neuron_count: number; per_layer: Record<string, number>; path: string }[];
  } | null;
  base: ScoreRow[] | null;
  base_tasks: TaskRow[] | null;
  base_alignment: AlignmentRow[] | null;
  targets: TargetResult[];
  deactivation?: DeactivationResult | null; // evaluation.deactivation; absent in results written before it existed
  steering?: SteeringRow[] | null; // evaluation.steering: one row per (pair, strength) generated
  atlas?: AtlasResult | null; // the plan's atlas stage, once written
  // identification lists: each candidate's selection, and per target the short trainings' choice
  selection_search?: SelectionSearchResult | null;
  jobs: { id: string; worker: string; seconds: number; reused: boolean }[];
}

const taskRows = (tasks: TaskScore[]): TaskRow[] =>
  tasks.map((t) => ({
    label: t.label,
    task: t.name,
    language: t.language,
    direction: t.direction,
    mode: t.mode,
    metrics: t.metrics,
    headline: t.headline || ("chrf" in t.metrics ? "chrf" : "accuracy"), // results from before headlines existed
    items: t.items,
    seconds: t.seconds,
    examples: t.examplesJson ? (JSON.parse(t.examplesJson) as unknown[]) : [],
  }));

const alignmentRows = (rows: AlignmentResult[]): AlignmentRow[] =>
  rows.map((a) => ({ language: a.language, per_layer: a.perLayer, mean: a.mean, pairs: a.pairs }));

function weightChange(response: AnalyzeWeightsResponse): WeightChange {
  const norms = (p?: { neurons: number; matrix: number }) => (p ? { neurons: p.neurons, matrix: p.matrix } : null);
  const layers = response.layers.map((l) => ({ layer: l.layerIndex, gate_proj: norms(l.gateProj), up_proj: norms(l.upProj), down_proj: norms(l.downProj) }));
  const total = (name: "gate_proj" | "up_proj" | "down_proj") => {
    const square = (key: "neurons" | "matrix") => Math.sqrt(layers.reduce((sum, l) => sum + (l[name]?.[key] ?? 0) ** 2, 0));
    return { neurons: square("neurons"), matrix: square("matrix") };
  };
  return { layers, total: { gate_proj: total("gate_proj"), up_proj: total("up_proj"), down_proj: total("down_proj") } };
}

const scoreRows = (scores: LanguageScore[]): ScoreRow[] =>
  scores.map((s) => ({ language: s.language, perplexity: s.perplexity, mean_loss: s.meanLoss, tokens: s.tokens }));

/** What results read of a finished job (the job graph's records have this shape). */
export interface FinishedJob {
  result: unknown;
  worker: string;
  seconds: number;
}

type RunInput = {
  plan: Plan;
  languages: { code: string; name: string }[];
  workers: { name: string; address: string; info: WorkerInfo }[];
  records: Map<string, FinishedJob>;
  reused: Set<string>;
  startedAt: Date;
  status: RunResults["status"];
  error: string | null;
};

export function assembleResults(input: RunInput): RunResults {
  const { plan, records } = input;
  const result = <T>(id: string) => records.get(id)?.result as T | undefined;
  const base = result<EvaluateResult>(jobIds.evaluateBase);
  const baseScores = base ? scoreRows(base.scores) : null;
  const targets = trainings(plan).flatMap((training) => targetResult(plan, records, training, baseScores) ?? []);
  return {
    schema: RESULTS_SCHEMA,
    run: plan.name,
    status: input.status,
    error: input.error,
    started_at: input.startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    model: plan.model,
    workers: input.workers.map((w) => ({
      name: w.name,
      address: w.address,
      device: w.info.device,
      version: w.info.version,
      torch: w.info.torchVersion,
      transformers: w.info.transformersVersion,
      memory_total_bytes: w.info.memoryTotalBytes,
    })),
    languages: input.languages.map((l) => ({
      code: l.code,
      name: l.name,
      tokens_counted: result<CollectActivationsResult>(jobIds.collect(l.code))?.tokenCount ?? null,
    })),
    neuron_source: !plan.neuron_sets ? "lape" : "files" in plan.neuron_sets ? "files" : "reference_file",
    selection: selectionSummary(plan, result<SelectNeuronsResponse>(jobIds.select)),
    base: baseScores,
    base_tasks: base ? taskRows(base.tasks) : null,
    base_alignment: base ? alignmentRows(base.alignment) : null,
    targets,
    deactivation: deactivationResult(plan, result),
    steering: steeringResult(plan, result),
    selection_search: selectionSearchResult(plan, result),
    atlas: plan.atlas ? (result<AtlasResult>(jobIds.atlas) ?? null) : null, // a record may be another plan's, run in the same directory
    jobs: [...records.entries()].map(([id, r]) => ({ id, worker: r.worker, seconds: r.seconds, reused: input.reused.has(id) })),
  };
}

/** One trained method on one target, with its scores and weight change once those jobs finished;
 * null while it has not trained. */
function targetResult(plan: Plan, records: Map<string, FinishedJob>, { target: language, spec, label, neuronsOf }: Training, base: ScoreRow[] | null): TargetResult | null {
  const result = <T>(id: string) => records.get(id)?.result as T | undefined;
  const train = result<TrainResult>(jobIds.train(language, label));
  if (!train) return null;
  const evaluation = result<EvaluateResult>(jobIds.evaluateTrained(language, label));
  const analysis = result<AnalyzeWeightsResponse>(jobIds.analyze(language, label));
  return {
    language,
    method: spec.method,
    label,
    settings: spec,
    output: train.outputPath,
    output_kind: outputKind(spec.method),
    neuron_count: trainsNeurons(spec.method) ? train.neuronCount : null,
    drawn_neuron_set: train.drawnNeuronSetPath || null,
    trainable_parameters: train.trainableParameters,
    parameter_share: train.totalParameters ? train.trainableParameters / train.totalParameters : 0,
    steps: train.steps,
    tokens: train.tokens,
    seconds: train.seconds,
    tokens_per_second: train.tokensPerSecond,
    peak_memory_bytes: train.peakMemoryBytes,
    optimizer_state_bytes: train.optimizerStateBytes,
    best_step: train.bestStep,
    diverged_step: train.divergedStep || null,
    train_loss: train.trainLoss,
    validation_loss: train.validationLoss,
    scores: evaluation ? scoreRows(evaluation.scores) : null,
    tasks: evaluation ? taskRows(evaluation.tasks) : null,
    alignment: evaluation ? alignmentRows(evaluation.alignment) : null,
    weight_change: analysis ? weightChange(analysis) : null,
    neurons_of: neuronsOf,
    component_share: componentShares(plan, records, language, spec, label, evaluation, base),
    worker: records.get(jobIds.train(language, label))!.worker,
  };
}

function componentShares(plan: Plan, records: Map<string, FinishedJob>, language: string, spec: MethodSpec, label: string,
  whole: EvaluateResult | undefined, base: ScoreRow[] | null): ComponentShare[] | null {
  const components = shareComponents(plan, spec);
  if (components.length === 0) return null;
  const lossOn = (scores: { language: string; mean_loss: number }[] | undefined) => scores?.find((s) => s.language === language)?.mean_loss;
  const baseLoss = lossOn(base ?? undefined);
  const wholeLoss = lossOn(whole ? scoreRows(whole.scores) : undefined);
  const gain = baseLoss !== undefined && wholeLoss !== undefined ? baseLoss - wholeLoss : 0;
  const rows = components.flatMap((component) => {
    const scored = records.get(jobIds.evaluateComponent(language, label, component))?.result as EvaluateResult | undefined;
    const score = scored?.scores.find((s) => s.language === language);
    if (!score) return [];
    const share = gain !== 0 ? (baseLoss! - score.meanLoss) / gain : null;
    return [{ component, perplexity: score.perplexity, mean_loss: score.meanLoss, share }];
  });
  return rows.length > 0 ? rows : null;
}

function selectionSearchResult(plan: Plan, result: <T>(id: string) => T | undefined): SelectionSearchResult | null {
  if (!searchesSelection(plan.identification)) return null;
  return {
    candidates: selectionCandidates(plan.identification!).map((c) => {
      const selected = result<SelectNeuronsResponse>(jobIds.selectCandidate(c.id));
      return selected
        ? { ...c, selected_neuron_count: selected.selectedNeuronCount, neuron_sets: selected.neuronSets.map((s) => ({ language: s.language, neuron_count: s.neuronCount })) }
        : { ...c, selected_neuron_count: null, neuron_sets: null };
    }),
    targets: plan.training.targets.flatMap((t) => result<SelectionChoice>(jobIds.chooseSelection(t)) ?? []),
  };
}

/** LAPE's parameters and what it selected (null when the neuron sets were given). */
function selectionSummary(plan: Plan, selection: SelectNeuronsResponse | undefined): RunResults["selection"] {
  if (!selection || !plan.identification) return null;
  const { top_rate, filter_rate, activation_bar_ratio } = selectionCandidates(plan.identification)[0];
  return {
    top_rate,
    filter_rate,
    activation_bar_ratio,
    selected_neuron_count: selection.selectedNeuronCount,
    total_neuron_count: selection.totalNeuronCount,
    filter_threshold: selection.filterThreshold,
    activation_threshold: selection.activationThreshold,
    neuron_sets: selection.neuronSets.map((s) => ({
      language: s.language,
      neuron_count: s.neuronCount,
      per_layer: Object.fromEntries(s.layers.map((l) => [String(l.layerIndex), l.neuronIndices.length])),
      path: s.path,
    })),
  };
}
