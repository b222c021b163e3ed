// Lists of LAPE parameters (identification.top_rate / filter_rate / activation_bar_ratio): every
// combination is a candidate selection; per target, a short training on each candidate's set
// (training.selection_search) picks the one with the lowest held-out validation loss.
import { MethodSpec, methodLabel, trainsGivenNeurons } from "./methods/index.js";

type RateOrList = number | number[];
export interface SelectionParameters {
  top_rate: RateOrList;
  filter_rate: RateOrList;
  activation_bar_ratio: RateOrList;
}

/** One combination of LAPE parameters; `id` names its job and folder. */
export interface SelectionCandidate {
  id: string;
  top_rate: number;
  filter_rate: number;
  activation_bar_ratio: number;
}

const asList = (value: RateOrList) => (Array.isArray(value) ? value : [value]);

/** Every combination, top_rate varying slowest (the order the plan lists them in). */
export function selectionCandidates(identification: SelectionParameters): SelectionCandidate[] {
  const candidates: SelectionCandidate[] = [];
  for (const top_rate of asList(identification.top_rate)) {
    for (const filter_rate of asList(identification.filter_rate)) {
      for (const activation_bar_ratio of asList(identification.activation_bar_ratio)) {
        candidates.push({ id: `top${top_rate}_filter${filter_rate}_bar${activation_bar_ratio}`, top_rate, filter_rate, activation_bar_ratio });
      }
    }
  }
  return candidates;
}

/** One candidate's short training on one target. */
export interface CandidateTraining {
  candidate: string;
  neurons: number; // the target's set size under this candidate
  validation_loss: number | null; // after the last step; null when the set was empty (not trained)
  steps: number;
  seconds: number;
}

/** The record of a target's choice: every candidate's curve point, and the one chosen. */
export interface SelectionChoice {
  language: string;
  method: string; // the label of the method that trained the candidates
  steps: number;
  chosen: string; // candidate id
  candidates: (SelectionCandidate & { neurons: number; validation_loss: number | null })[];
}

/** More than one candidate: the plan searches the selection instead of running one. */
export const searchesSelection = (identification: SelectionParameters | undefined): boolean =>
  identification !== undefined && selectionCandidates(identification).length > 1;

/** The method the short trainings use: the one named, else the plan's first that trains a given
 * neuron set, else sparse with its defaults. */
export function searchMethod(methods: MethodSpec[], name: string | undefined): MethodSpec | undefined {
  if (name !== undefined) return methods.find((m) => methodLabel(m) === name);
  return methods.find((m) => trainsGivenNeurons(m.method)) ?? MethodSpec.parse("sparse");
}
