// A results.json built by hand (no worker runs): the inputs whose every derived value the results
// and report tests work out by hand. See the comments for the numbers each one is chosen for.
import { RESULTS_SCHEMA, type RunResults, type TargetResult, type TaskRow } from "../../ts/results/results.js";

export const task = (label: string, language: string, headline: string, value: number, stderr: number, items: number, extra: Partial<TaskRow> = {}): TaskRow => ({
  label,
  task: label,
  language,
  direction: "",
  mode: "",
  metrics: { [headline]: value, [`${headline}_stderr`]: stderr },
  headline,
  items,
  seconds: 1,
  examples: [],
  ...extra,
});

export function method(overrides: Partial<TargetResult>): TargetResult {
  return {
    language: "af",
    method: "sparse",
    label: "sparse",
    settings: { method: "sparse" } as TargetResult["settings"],
    output: "packs/af.sparse.safetensors",
    output_kind: "pack",
    neuron_count: 10,
    drawn_neuron_set: null,
    trainable_parameters: 100,
    parameter_share: 0.001,
    steps: 4,
    tokens: 2048,
    seconds: 2,
    tokens_per_second: 1024,
    peak_memory_bytes: 2 ** 20,
    optimizer_state_bytes: 800,
    best_step: 4,
    diverged_step: null,
    train_loss: [],
    validation_loss: [],
    scores: null,
    tasks: null,
    alignment: null,
    weight_change: null,
    neurons_of: overrides.language ?? "af",
    component_share: null,
    worker: "local-1",
    ...overrides,
  };
}

export function results(): RunResults {
  return {
    schema: RESULTS_SCHEMA,
    run: "hand",
    status: "complete",
    error: null,
    started_at: "",
    finished_at: "",
    model: { source: "m" } as RunResults["model"],
    workers: [],
    languages: [
      { code: "en", name: "English", tokens_counted: 1 },
      { code: "de", name: "German", tokens_counted: 1 },
      { code: "af", name: "Afrikaans", tokens_counted: 1 },
    ],
    neuron_source: "lape",
    selection: null,
    base: [
      { language: "en", perplexity: 10, mean_loss: Math.log(10), tokens: 100 },
      { language: "de", perplexity: 20, mean_loss: Math.log(20), tokens: 200 },
      { language: "af", perplexity: 40, mean_loss: Math.log(40), tokens: 300 },
    ],
    // chrF 30 ±2 on af; reading accuracy 0.50 ±0.10 on af; an English task 0.60 ±0.05
    base_tasks: [
      task("udhr_translation", "af", "chrf", 30, 2, 10, { direction: "eng-x" }),
      task("udhr_reading", "af", "accuracy", 0.5, 0.1, 20, { mode: "loglik" }),
      task("mmlu", "", "accuracy", 0.6, 0.05, 40),
    ],
    base_alignment: [{ language: "af", per_layer: [0.5, 0.7], mean: 0.6, pairs: 7 }],
    targets: [
      method({
        // af 40 -> 30 (-25%); en 10 -> 11 (+10%), de 20 -> 18 (-10%): others mean 0%
        scores: [
          { language: "en", perplexity: 11, mean_loss: Math.log(11), tokens: 100 },
          { language: "de", perplexity: 18, mean_loss: Math.log(18), tokens: 200 },
          { language: "af", perplexity: 30, mean_loss: Math.log(30), tokens: 300 },
        ],
        // chrF 36 ±2 (+6, beyond 2*sqrt(8)=5.66); reading 0.40 ±0.10 (-10 points, within 2*14.1); mmlu 0.58 ±0.05
        tasks: [
          task("udhr_translation", "af", "chrf", 36, 2, 10, { direction: "eng-x" }),
          task("udhr_reading", "af", "accuracy", 0.4, 0.1, 20, { mode: "loglik" }),
          task("mmlu", "", "accuracy", 0.58, 0.05, 40),
        ],
        alignment: [{ language: "af", per_layer: [0.4, 0.9], mean: 0.65, pairs: 7 }],
        weight_change: {
          // three layers: the last third is layer 2 only
          layers: [
            { layer: 0, gate_proj: { neurons: 1, matrix: 1 }, up_proj: { neurons: 1, matrix: 1 }, down_proj: { neurons: 1, matrix: 1 } },
            { layer: 1, gate_proj: { neurons: 1, matrix: 1 }, up_proj: { neurons: 1, matrix: 1 }, down_proj: { neurons: 2, matrix: 2 } },
            { layer: 2, gate_proj: { neurons: 1, matrix: 1 }, up_proj: { neurons: 1, matrix: 1 }, down_proj: { neurons: 2, matrix: 2 } },
          ],
          total: { gate_proj: { neurons: Math.sqrt(3), matrix: Math.sqrt(3) }, up_proj: { neurons: Math.sqrt(3), matrix: Math.sqrt(3) }, down_proj: { neurons: 3, matrix: 3 } },
        },
      }),
    ],
    jobs: [],
  };
}

/** Everything the table can show: a selection, a second method that diverged and was not
 * evaluated, a failed run. */
export function fullResults(): RunResults {
  const r = results();
  r.selection = {
    top_rate: 0.05, filter_rate: 0.95, activation_bar_ratio: 0.95, selected_neuron_count: 12, total_neuron_count: 192,
    filter_threshold: 0.1, activation_threshold: 0.2,
    neuron_sets: [
      { language: "af", neuron_count: 10, per_layer: { "0": 4, "2": 6 }, path: "neurons/af.json" },
      { language: "de", neuron_count: 2, per_layer: { "1": 2 }, path: "neurons/de.json" },
    ],
  };
  r.targets.push(method({ method: "random", label: "random", neuron_count: 10, trainable_parameters: 960, parameter_share: 0.0123456,
    steps: 3, tokens: 1536, seconds: 1.25, tokens_per_second: 1228.8, peak_memory_bytes: 3 * 2 ** 20, best_step: 2, diverged_step: 3 }));
  r.status = "failed";
  r.error = "worker local-1 is gone";
  return r;
}
