// Which languages a plan's evaluation.deactivation switches off, in plan order.
import type { Plan } from "./schema.js";

/** The languages with a neuron set: all with identification, else those neuron_sets covers. */
export function languagesWithSets(plan: Plan): string[] {
  const codes = plan.languages.map((l) => l.code);
  const given = plan.neuron_sets;
  if (!given) return codes;
  const covered = "files" in given ? Object.keys(given.files) : given.languages;
  return codes.filter((code) => covered.includes(code));
}

export function deactivationLanguages(plan: Plan): string[] {
  const deactivation = plan.evaluation.deactivation;
  if (deactivation === false) return [];
  if (deactivation === true || !deactivation.languages) return languagesWithSets(plan);
  return plan.languages.map((l) => l.code).filter((code) => deactivation.languages!.includes(code));
}

/** Whether each deactivated language also gets a random same-size control. */
export const randomControl = (plan: Plan): boolean => {
  const deactivation = plan.evaluation.deactivation;
  return deactivation === true || (typeof deactivation === "object" && deactivation.random_control);
};
