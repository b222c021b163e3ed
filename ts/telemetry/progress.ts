// Progress display: live bars with rate and ETA on a terminal, plain throttled lines
// elsewhere (CI logs, pipes). Both read the same Progress events.
import cliProgress from "cli-progress";
import type { Progress } from "../gen/sparse_sub/v1/worker.js";

export interface ProgressDisplay {
  update(label: string, progress: Progress): void;
  finish(label: string, summary: string): void;
  /** The run as a whole: jobs finished (or reused) of all. Optional for displays of one's own. */
  jobs?(done: number, total: number): void;
  log(line: string): void;
  stop(): void;
}

function rateText(progress: Progress): string {
  const parts: string[] = [];
  if (progress.tokensPerSecond > 0) parts.push(`${Math.round(progress.tokensPerSecond).toLocaleString("en-US")} tok/s`);
  if (progress.phase === "train" && progress.loss > 0) parts.push(`loss ${progress.loss.toFixed(4)}`);
  if (progress.message) parts.push(progress.message);
  return parts.join(" | ");
}

class BarDisplay implements ProgressDisplay {
  private readonly multibar = new cliProgress.MultiBar(
    {
      format: "{label} {phase} [{bar}] {percentage}% {value}/{total} {unit} | ETA {eta_formatted} | {rate}",
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      etaBuffer: 20,
      barsize: 24,
    },
    cliProgress.Presets.shades_classic,
  );
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  private overall: cliProgress.SingleBar | undefined;

  jobs(done: number, total: number): void {
    const payload = { label: "run".padEnd(22), phase: "".padEnd(8), unit: "jobs", rate: "" };
    if (!this.overall) this.overall = this.multibar.create(total, done, payload);
    else {
      this.overall.setTotal(total);
      this.overall.update(done, payload);
    }
  }

  update(label: string, progress: Progress): void {
    const payload = { label: label.padEnd(22), phase: progress.phase.padEnd(8), unit: progress.unit, rate: rateText(progress) };
    const total = Math.max(progress.total, progress.done, 1);
    let bar = this.bars.get(label);
    if (!bar) {
      bar = this.multibar.create(total, progress.done, payload);
      this.bars.set(label, bar);
    } else {
      bar.setTotal(total);
      bar.update(progress.done, payload);
    }
  }

  finish(label: string, summary: string): void {
    const bar = this.bars.get(label);
    if (bar) {
      this.multibar.remove(bar); // a finished job leaves the screen; its summary line stays
      this.bars.delete(label);
    }
    this.multibar.log(`${label}: ${summary}\n`);
  }

  log(line: string): void {
    this.multibar.log(line + "\n");
  }

  stop(): void {
    this.multibar.stop();
  }
}

class LineDisplay implements ProgressDisplay {
  private readonly lastPrinted = new Map<string, { at: number; phase: string }>();
  constructor(
    private readonly write: (line: string) => void,
    private readonly intervalMs: number,
  ) {}

  update(label: string, progress: Progress): void {
    const last = this.lastPrinted.get(label);
    const now = Date.now();
    const complete = progress.total > 0 && progress.done >= progress.total;
    if (last && last.phase === progress.phase && !complete && now - last.at < this.intervalMs) return;
    this.lastPrinted.set(label, { at: now, phase: progress.phase });
    const amount = progress.total > 0 ? `${progress.done}/${progress.total} ${progress.unit}` : `${progress.done} ${progress.unit}`;
    const rate = rateText(progress);
    this.write(`[${label}] ${progress.phase} ${amount}${rate ? ` | ${rate}` : ""}`);
  }

  finish(label: string, summary: string): void {
    this.lastPrinted.delete(label);
    this.write(`[${label}] done: ${summary}`);
  }

  jobs(done: number, total: number): void {
    if (done > 0) this.write(`[run] ${done}/${total} jobs done`);
  }

  log(line: string): void {
    this.write(line);
  }

  stop(): void {}
}

/** Bars on a TTY; plain lines (at most one per job every `intervalMs`) otherwise. */
export function createProgressDisplay(options: { tty?: boolean; write?: (line: string) => void; intervalMs?: number } = {}): ProgressDisplay {
  const tty = options.tty ?? (Boolean(process.stderr.isTTY) && !process.env.CI);
  if (tty) return new BarDisplay();
  return new LineDisplay(options.write ?? ((line) => process.stderr.write(line + "\n")), options.intervalMs ?? 5_000);
}

/** A display that shows nothing (programmatic use). */
export const silentDisplay: ProgressDisplay = { update() {}, finish() {}, jobs() {}, log() {}, stop() {} };
