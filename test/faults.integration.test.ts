// Two real local workers; one is killed with SIGKILL in the middle of training. The job is
// retried on the other worker from its last checkpoint, and the run completes with every result.
import { existsSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Progress } from "../ts/gen/sparse_sub/v1/worker.js";
import { runPlan } from "../ts/pipeline/run.js";
import { parsePlan } from "../ts/plan/load.js";
import { WorkerPool } from "../ts/worker/pool.js";
import { makeTinyModel } from "./helpers/worker-env.js";

describe("a worker dies during training", () => {
  it("retries the job on the other worker and finishes the run", async () => {
    const modelDir = await makeTinyModel(["eng", "afr"]);
    const { plan, path } = parsePlan(
      {
        name: "faults",
        model: { source: modelDir, device: "cpu" },
        languages: [{ code: "en", udhr: { id: "eng" } }, { code: "af", udhr: { id: "afr" } }],
        identification: { sequence_length: 64, batch_size: 4, top_rate: 0.1 },
        training: { targets: ["af"], methods: ["sparse", "random"], batch_size: 1, sequence_length: 32, epochs: 1000, max_steps: 150, validate_every: 0, checkpoint_every: 5 },
        evaluation: { sequence_length: 64, batch_size: 4, weight_change: false },
        workers: [{ local: true, count: 2 }],
      },
      tmpdir(),
    );
    const pool = await WorkerPool.start(plan.workers);
    let killed: string | undefined;
    const display = {
      update: (job: string, progress: Progress) => {
        if (killed || !job.startsWith("train:") || progress.phase !== "train" || progress.done < 8) return;
        killed = "pending";
        void Promise.all(pool.workers.map(async (w) => ({ w, info: await w.client.info().catch(() => undefined) }))).then((infos) => {
          // kill the worker running THIS job: it is past step 8, so its step-5 checkpoint exists
          // (the other training job may still be before its first checkpoint)
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
      expect(killed).toMatch(/^local-1\.[12]$/);
      expect(results.status).toBe("complete");
      expect(results.targets.map((t) => [t.label, t.steps, t.scores !== null])).toEqual([["sparse", 150, true], ["random", 150, true]]);
      const events = readFileSync(join(dir, "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
      const retried = events.filter((e) => e.event === "job_retried");
      expect(retried).toHaveLength(1);
      expect(retried[0]).toMatchObject({ worker: killed, attempt: 1 });
      const after = events.slice(events.indexOf(retried[0]));
      expect(after.filter((e) => e.event === "job_started").every((e) => e.worker !== killed)).toBe(true);
      expect(results.jobs.find((j) => j.id === retried[0].job)!.worker).not.toBe(killed);
      // the retry continued from the killed job's last checkpoint instead of step 1
      const resumedAt = after.find((e) => e.event === "progress" && e.job === retried[0].job && e.phase === "train");
      expect(resumedAt.done).toBeGreaterThan(5);
      expect(existsSync(join(dir, "checkpoints"))).toBe(true);
      expect(readdirSync(join(dir, "checkpoints"))).toEqual([]); // removed once each job finished
    } finally {
      await pool.close();
    }
  }, 240_000);
});
