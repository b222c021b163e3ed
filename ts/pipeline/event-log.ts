// events.jsonl: one JSON line per thing that happened in a run. Lines logged before the run
// directory may be written (plan warnings, worker start-up) wait in memory and go first.
import { appendFileSync } from "node:fs";

export type RunEvent = Record<string, unknown>;

/** One events.jsonl line: `time` first, every field snake_case (protobuf messages spread in
 * arrive camelCase: `tokensPerSecond` is written `tokens_per_second`). */
export function eventLine(event: RunEvent): string {
  const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const fields = Object.entries(event).filter(([, v]) => v !== undefined).map(([k, v]) => [snake(k), v]);
  return JSON.stringify({ time: new Date().toISOString(), ...Object.fromEntries(fields) }) + "\n";
}

export class EventLog {
  private early: string[] | null = [];
  private path = "";

  readonly log = (event: RunEvent): void => {
    const line = eventLine(event);
    if (this.early) this.early.push(line);
    else appendFileSync(this.path, line);
  };

  /** From now on, lines go to `path` (the ones held so far first). */
  open(path: string): void {
    this.path = path;
    for (const line of this.early ?? []) appendFileSync(path, line);
    this.early = null;
  }
}
