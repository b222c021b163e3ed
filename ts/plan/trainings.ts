// Every training job a plan asks for: each method on each target's own neurons, and each method
// that trains a given set on another language's neurons (training.transfer).
import { jobIds } from "../ids.js";
import { methodLabel, outputKind, trainsGivenNeurons, type MethodSpec } from "./methods/index.js";
import type { Plan } from "./schema.js";

export interface Training {
  target: string; // the language of the training text (and of the table it appears in)
  spec: MethodSpec;
  neuronsOf: string; // whose neuron set is trained: the target, or another language (a transfer)
  label: string; // in job ids, file names and tables: the method's label, "@<language>" for a transfer
}

export function trainings(plan: Plan): Training[] {
  const own = plan.training.targets.flatMap((target) =>
    plan.training.methods.map((spec) => ({ target, spec, neuronsOf: target, label: methodLabel(spec) })),
  );
  const transfers = plan.training.transfer.flatMap(({ text, neurons }) =>
    plan.training.methods
      .filter((spec) => trainsGivenNeurons(spec.method))
      .map((spec) => ({ target: text, spec, neuronsOf: neurons, label: jobIds.transferLabel(methodLabel(spec), neurons) })),
  );
  return [...own, ...transfers];
}

/** The components a pack is evaluated with alone (evaluation.component_share): all it trained,
 * when it trained more than one. */
export function shareComponents(plan: Plan, spec: MethodSpec): string[] {
  if (!plan.evaluation.component_share || outputKind(spec.method) !== "pack" || !("components" in spec)) return [];
  return spec.components.length > 1 ? [...spec.components] : [];
}
