// Which generations a plan's evaluation.steering asks for: one per (pair, strength), in plan order.
import type { Plan } from "./schema.js";

export interface SteeringRun {
  from: string; // whose neurons are switched off; the prompts are its text
  to: string; // whose neurons are pushed up
  strength: number;
}

export function steeringRuns(plan: Plan): SteeringRun[] {
  const steering = plan.evaluation.steering;
  if (!steering) return [];
  const strengths = Array.isArray(steering.strength) ? steering.strength : [steering.strength];
  return steering.pairs.flatMap(({ from, to }) => strengths.map((strength) => ({ from, to, strength })));
}
