// Real local workers killed with SIGKILL in the middle of training. The job is retried, on the
// other worker or on the killed one once the pool has restarted it, from its last checkpoint,
// and the run completes with every result.
import { existsSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Progress } from "../ts/gen/sparse_sub/v1/worker.js";
import { runPlan } from "../ts/pipeline/run.js";
import { WorkerPool } from "../ts/worker/pool.js";
import { tinyPlan } from "./helpers/tiny-plan.js";
import { makeTinyModel } from "./helpers/worker-env.js";

async function runKillingOneWorker(workers: number, methods: string[], steps: number) {
  const modelDir = await makeTinyModel(["eng", "afr"]);
  const { plan, path } = tinyPlan(modelDir, {
    name: "faults",
    training: { targets: ["af"], methods, batch_size: 1, sequence_length: 32, epochs: 1000, max_steps: steps, validate_every: 0, checkpoint_every: 5 },
    evaluation: { sequence_length: 64, batch_size: 4, weight_change: false },
    workers: [{ local: true, count: workers }],
  });
  const pool = await WorkerPool.start(plan.workers);
  let killed: string | undefined;
  const display = {
    update: (job: string, progress: Progress) => {
      if (killed || !job.startsWith("train:") || progress.phase !== "train" || progress.done < 8) return;
      killed = "pending";
      void Promise.all(pool.workers.map(async (w) => ({ w, info: await w.client.info().catch(() => undefined) }))).then((infos) => {
        // kill the worker running THIS job: it is past step 8, so its step-5 checkpoint exists
        // (another training job may still be before its first checkpoint)
        const victim = infos.find((x) => x.info?.runningJob.endsWith(`/${job}`))!.w;
        killed = victim.name;
        process.kill(victim.pid!, "SIGKILL");
      });
    },
    finish: () => {},
    log: () => {},
    stop: () => {},
  };
  const dir = join(mkdtempSync(join(tmpdir(), "sparse-sub-faults-")), "run");
  try {
    const { results } = await runPlan({ plan, path }, { outDir: dir, pool, display });
    const events = readFileSync(join(dir, "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    return { results, events, dir, killed: killed! };
  } finally {
    await pool.close();
  }
}

/** Checks the killed job was retried once and went on from its last checkpoint. */
function expectResumed(events: Record<string, any>[], dir: string, killed: string) {
  const retried = events.filter((e) => e.event === "job_retried");
  expect(retried).toHaveLength(1);
  expect(retried[0]).toMatchObject({ worker: killed, attempt: 1 });
  const after = events.slice(events.indexOf(retried[0]));
  const resumedAt = after.find((e) => e.event === "progress" && e.job === retried[0].job && e.phase === "train");
  expect(resumedAt.done).toBeGreaterThan(5); // from the step-5 (or later) checkpoint, not step 1
  expect(existsSync(join(dir, "checkpoints"))).toBe(true);
  expect(readdirSync(join(dir, "checkpoints"))).toEqual([]); // removed once each job finished
  return retried[0].job as string;
}

describe("a worker dies during training", () => {
  it("with two workers: the job is retried and the run finishes with every result", async () => {
    const { results, events, dir, killed } = await runKillingOneWorker(2, ["sparse", "random"], 600);
    expect(killed).toMatch(/^local-1\.[12]$/);
    expect(results.status).toBe("complete");
    expect(results.targets.map((t) => [t.label, t.steps, t.scores !== null])).toEqual([["sparse", 600, true], ["random", 600, true]]);
    const job = expectResumed(events, dir, killed);
    expect(results.jobs.find((j) => j.id === job)).toBeDefined();
    expect(new Set(results.jobs.map((j) => j.worker))).toEqual(new Set(["local-1.1", "local-1.2"])); // the work was spread
  }, 240_000);

  it("with one worker: the pool restarts it and the job goes on there", async () => {
    const { results, events, dir, killed } = await runKillingOneWorker(1, ["sparse"], 1000);
    expect(killed).toBe("local-1");
    expect(results.status).toBe("complete");
    expect(results.targets.map((t) => [t.label, t.steps, t.scores !== null])).toEqual([["sparse", 1000, true]]);
    const lifecycle = ["worker_lost", "worker_rejoined", "worker_gone"];
    expect(events.filter((e) => lifecycle.includes(e.event)).map((e) => [e.event, e.worker])).toEqual([
      ["worker_lost", "local-1"],
      ["worker_rejoined", "local-1"],
    ]);
    const job = expectResumed(events, dir, killed);
    expect(results.jobs.find((j) => j.id === job)!.worker).toBe("local-1");
  }, 240_000);
});
