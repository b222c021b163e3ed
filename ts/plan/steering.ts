// Which generations a plan's evaluation.steering asks for: one per (pair, strength, control), in
// plan order, each language's sets before their random control.
import type { Plan } from "./schema.js";

export interface SteeringRun {
  from: string; // whose neurons are switched off; the prompts are its text
  to: string; // whose neurons are pushed up
  strength: number;
  control: "language" | "random"; // the languages' sets, or random sets of the same size per layer
}

export function steeringRuns(plan: Plan): SteeringRun[] {
  const steering = plan.evaluation.steering;
  if (!steering) return [];
  const strengths = Array.isArray(steering.strength) ? steering.strength : [steering.strength];
  const controls = steering.random_control ? (["language", "random"] as const) : (["language"] as const);
  return steering.pairs.flatMap(({ from, to }) => strengths.flatMap((strength) => controls.map((control) => ({ from, to, strength, control }))));
}
