// The job graph's scheduling, resume and failure rules. Jobs here are plain async functions,
// so the pool holds placeholder workers (no process): only scheduling is under test.
import { describe, expect, it } from "vitest";
import { SparseSubError } from "../ts/errors.js";
import { defineJob, runGraph, validateGraph, type Job, type JobRecord } from "../ts/pipeline/graph.js";
import { MAX_PASSES, WorkerPool, type PooledWorker } from "../ts/worker/pool.js";

const pool = (n: number) =>
  WorkerPool.fromWorkers(Array.from({ length: n }, (_, i) => ({ name: `w${i + 1}`, client: null, info: null }) as unknown as PooledWorker));
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

function job(id: string, deps: string[], log: string[], options: { fail?: boolean; key?: string; ms?: number } = {}): Job {
  return defineJob<string>({
    id,
    deps,
    key: () => options.key ?? id,
    run: async ({ worker, signal }) => {
      log.push(`start ${id}@${worker.name}`);
      await tick(options.ms);
      if (signal.aborted) throw new Error(`${id} aborted`);
      if (options.fail) throw new Error(`${id} broke`);
      log.push(`end ${id}`);
      return `${id}-result`;
    },
  });
}

describe("job graph", () => {
  it("runs dependencies first and independent jobs in parallel across workers", async () => {
    const log: string[] = [];
    const records = new Map<string, JobRecord>();
    await runGraph([job("a", [], log, { ms: 20 }), job("b", [], log, { ms: 20 }), job("c", ["a", "b"], log)], pool(2), records);
    expect(log.slice(0, 2).sort()).toEqual(["start a@w1", "start b@w2"]);
    expect(log.indexOf("start c@w1") > log.indexOf("end b") || log.indexOf("start c@w2") > log.indexOf("end b")).toBe(true);
    expect(records.get("c")!.result).toBe("c-result");
  });

  it("starts nothing new after a failure, keeps finished records, and throws the failure", async () => {
    const log: string[] = [];
    const records = new Map<string, JobRecord>();
    const jobs = [job("a", [], log), job("b", ["a"], log, { fail: true }), job("c", ["b"], log)];
    await expect(runGraph(jobs, pool(1), records)).rejects.toThrow("b broke");
    expect([...records.keys()]).toEqual(["a"]);
    expect(log).not.toContain("start c@w1");
  });

  it("reuses recorded jobs whose key still matches and reruns those downstream of a change", async () => {
    const records = new Map<string, JobRecord>();
    await runGraph([job("a", [], []), job("b", ["a"], [])], pool(1), records);
    const log: string[] = [];
    await runGraph([job("a", [], log), job("b", ["a"], log)], pool(1), records);
    expect(log).toEqual([]);
    await runGraph([job("a", [], log, { key: "a-v2" }), job("b", ["a"], log)], pool(1), records);
    expect(log).toEqual(["start a@w1", "end a", "start b@w1", "end b"]);
  });

  it("cancels running jobs when the caller aborts", async () => {
    const controller = new AbortController();
    const records = new Map<string, JobRecord>();
    const promise = runGraph([job("slow", [], [], { ms: 50 }), job("next", ["slow"], [])], pool(1), records, { signal: controller.signal });
    await tick(10);
    controller.abort();
    // the job stopped because the user cancelled: the run is cancelled, not failed with the job's abort error
    await expect(promise).rejects.toMatchObject({ code: "CANCELLED", message: "cancelled" });
    expect(records.size).toBe(0);

    const before = new AbortController();
    before.abort();
    await expect(runGraph([job("never", [], [])], pool(1), new Map(), { signal: before.signal })).rejects.toMatchObject({ code: "CANCELLED" });
  });

  it("refuses cycles and unknown dependencies", () => {
    expect(() => validateGraph([job("a", ["b"], []), job("b", ["a"], [])])).toThrow("job graph has a cycle: a -> b -> a");
    expect(() => validateGraph([job("a", ["nope"], [])])).toThrow("job a depends on unknown job nope");
  });

  it("retries a job whose worker is lost on another worker, and fails once every worker is gone", async () => {
    const lost = () => new SparseSubError("WORKER_UNREACHABLE", "connection dropped");
    const dying = (id: string, deadWorkers: string[], log: string[]) =>
      defineJob<string>({
        id,
        deps: [],
        key: () => id,
        run: async ({ worker }) => {
          log.push(`${id}@${worker.name}`);
          await tick();
          if (deadWorkers.includes(worker.name)) throw lost();
          return "ok";
        },
      });
    const log: string[] = [];
    const retried: string[] = [];
    const records = new Map<string, JobRecord>();
    await runGraph([dying("t", ["w1"], log)], pool(2), records, { hooks: { onRetry: (job, worker) => retried.push(`${job.id}@${worker.name}`) } });
    expect(log).toEqual(["t@w1", "t@w2"]);
    expect(retried).toEqual(["t@w1"]);
    expect(records.get("t")!.worker).toBe("w2");

    const tried: string[] = [];
    const error = await runGraph([dying("u", ["w1", "w2"], tried)], pool(2), new Map()).catch((e) => e);
    expect(error).toBeInstanceOf(SparseSubError);
    expect(error.code).toBe("WORKER_UNREACHABLE");
    // the job's own error, from its last worker: not requeued once no worker is left
    expect([error.message, tried]).toEqual(["connection dropped", ["u@w1", "u@w2"]]);
  });

  it("retries on the same worker once it has restarted, and fails when it cannot come back", async () => {
    let kills = 0;
    const flaky = defineJob<string>({
      id: "t",
      deps: [],
      key: () => "t",
      run: async () => {
        if (kills++ === 0) throw new SparseSubError("WORKER_UNREACHABLE", "killed");
        return "ok";
      },
    });
    const restarting = (recover: () => Promise<void>) =>
      WorkerPool.fromWorkers([{ name: "w1", client: { address: "w1" }, info: null, recover } as unknown as PooledWorker]);
    const records = new Map<string, JobRecord>();
    const comeback = restarting(() => tick(20));
    const seen: string[] = [];
    comeback.onLifecycle((event) => seen.push(event.event));
    await runGraph([flaky], comeback, records);
    expect(records.get("t")!.result).toBe("ok");
    expect(seen).toEqual(["worker_lost", "worker_rejoined"]);

    kills = 0;
    const broken = restarting(async () => {
      await tick(20);
      throw new Error("no GPU left");
    });
    const error = await runGraph([flaky], broken, new Map()).catch((e) => e);
    expect(error.code).toBe("WORKER_UNREACHABLE");
    expect(error.message).toBe("every worker of the run is gone");
  });

  it("gives a multi-GPU job to a worker that sees enough GPUs, and refuses one no worker can run", async () => {
    const gpus = WorkerPool.fromWorkers([
      { name: "one-gpu", client: null, info: { accelerators: 1 } },
      { name: "four-gpus", client: null, info: { accelerators: 4 } },
    ] as unknown as PooledWorker[]);
    const log: string[] = [];
    const spread = (id: string, processes: number) => ({ ...job(id, [], log, { ms: 20 }), processes });
    const records = new Map<string, JobRecord>();
    await runGraph([spread("full", 4), job("small-1", [], log), job("small-2", [], log)], gpus, records);
    expect(records.get("full")!.worker).toBe("four-gpus");
    expect(log[0]).toBe("start full@four-gpus");
    const error = await runGraph([spread("huge", 8)], gpus, new Map()).catch((e) => e);
    expect(error.code).toBe("PLAN_INVALID");
    expect(error.message).toContain("a job needs 8 GPUs on one worker");
  });
  it("gives a freed worker to a waiting job on the model it holds before one that loads another", async () => {
    // the demo's shape: an evaluation of a trained model directory becomes ready before
    // training jobs on the base model; run in readiness order, the worker swaps models twice
    const log: string[] = [];
    const on = (model: string, j: Job) => ({ ...j, model });
    const jobs = [
      on("base", job("train-ffn", [], log)),
      job("select", [], log, { ms: 10 }),
      on("ffn-dir", job("evaluate-ffn", ["train-ffn"], log)),
      on("base", job("train-sparse", ["select"], log)),
      on("base", job("evaluate-sparse", ["train-sparse"], log)),
    ];
    await runGraph(jobs, pool(1), new Map());
    const order = log.filter((l) => l.startsWith("start")).map((l) => l.slice(6, -3));
    expect(order).toEqual(["train-ffn", "select", "train-sparse", "evaluate-sparse", "evaluate-ffn"]);
  });

  it("passes a waiting job over at most MAX_PASSES times", async () => {
    const workers = pool(1);
    const first = await workers.acquire(undefined, 1, "base");
    const other = workers.acquire(undefined, 1, "other").then(() => "other");
    const later = Array.from({ length: MAX_PASSES + 2 }, (_, i) => workers.acquire(undefined, 1, "base").then(() => `base-${i}`));
    const served: string[] = [];
    for (const p of [other, ...later]) void p.then((name) => served.push(name));
    for (let i = 0; i < MAX_PASSES + 3; i++) {
      workers.release(first);
      await tick(1);
    }
    expect(served.indexOf("other")).toBe(MAX_PASSES);
    expect(served.slice(0, MAX_PASSES)).toEqual(Array.from({ length: MAX_PASSES }, (_, i) => `base-${i}`));
  });

  it("gives up on a job after MAX_ATTEMPTS lost workers, even while one comes back each time", async () => {
    let runs = 0;
    const alwaysLost = defineJob<string>({
      id: "t",
      deps: [],
      key: () => "t",
      run: async () => {
        runs += 1;
        throw new SparseSubError("WORKER_UNREACHABLE", `lost on run ${runs}`);
      },
    });
    const retries: number[] = [];
    const comesBack = WorkerPool.fromWorkers([{ name: "w1", client: { address: "w1" }, info: null, recover: () => tick(1) } as unknown as PooledWorker]);
    const stop = new AbortController(); // a graph that retried forever would hang the test: cut it off
    const onRetry = (_j: Job, _w: PooledWorker, _e: unknown, attempt: number) => (retries.push(attempt), attempt > 5 && stop.abort());
    const error = await runGraph([alwaysLost], comesBack, new Map(), { signal: stop.signal, hooks: { onRetry } }).catch((e) => e);
    expect(runs).toBe(3); // MAX_ATTEMPTS, as documented
    expect(retries).toEqual([1, 2, 3]);
    expect(error.message).toBe("lost on run 3");
  });

  it("does not retry a job that failed for any reason other than a lost worker", async () => {
    let runs = 0;
    const broken = defineJob<string>({
      id: "t",
      deps: [],
      key: () => "t",
      run: async () => {
        runs += 1;
        throw new SparseSubError("TRAIN_FAILED", "loss is NaN");
      },
    });
    const retried: string[] = [];
    const failed: string[] = [];
    const hooks = { onRetry: (job: Job) => retried.push(job.id), onFail: (job: Job) => failed.push(job.id) };
    await expect(runGraph([broken], pool(2), new Map(), { hooks })).rejects.toMatchObject({ code: "TRAIN_FAILED" });
    expect([runs, retried, failed]).toEqual([1, [], ["t"]]);
  });

  it("tells its hooks which finished jobs were reused, and times the ones that ran", async () => {
    const records = new Map<string, JobRecord>();
    const seen: string[] = [];
    const hooks = { onStart: (job: Job, worker: PooledWorker) => seen.push(`start ${job.id}@${worker.name}`), onFinish: (job: Job, _r: JobRecord, reused: boolean) => seen.push(`${job.id} ${reused ? "reused" : "ran"}`) };
    await runGraph([job("a", [], [], { ms: 40 }), job("b", ["a"], [])], pool(1), records, { hooks });
    expect(seen).toEqual(["start a@w1", "a ran", "start b@w1", "b ran"]);
    expect(records.get("a")!.seconds).toBeGreaterThanOrEqual(0.035);
    expect(records.get("a")!.seconds).toBeLessThan(5);
    expect(records.get("a")!.worker).toBe("w1");
    seen.length = 0;
    await runGraph([job("a", [], []), job("b", ["a"], [])], pool(1), records, { hooks });
    expect(seen).toEqual(["a reused", "b reused"]);
  });

  it("reuses a chain listed downstream first, and keeps dependency keys apart from the job's own", async () => {
    const records = new Map<string, JobRecord>();
    await runGraph([job("b", ["a"], [], { key: "c" }), job("a", [], [], { key: "ab" })], pool(1), records);
    const log: string[] = [];
    await runGraph([job("b", ["a"], log, { key: "c" }), job("a", [], log, { key: "ab" })], pool(1), records);
    expect(log).toEqual([]);
    // "c" + "ab" and "ca" + "b" must not read as the same inputs
    await runGraph([job("b", ["a"], log, { key: "ca" }), job("a", [], log, { key: "b" })], pool(1), records);
    expect(log).toEqual(["start a@w1", "end a", "start b@w1", "end b"]);
  });

  it("recomputes a recorded job whose output is gone or no longer reads", async () => {
    const records = new Map<string, JobRecord>();
    const withOutput = (reusable: (r: string) => boolean, log: string[]) => defineJob<string>({ ...job("a", [], log), reusable } as Job<string>);
    await runGraph([withOutput(() => true, [])], pool(1), records);
    for (const reusable of [() => false, () => { throw new Error("old format"); }]) {
      const log: string[] = [];
      await runGraph([withOutput(reusable, log)], pool(1), records);
      expect(log).toEqual(["start a@w1", "end a"]);
    }
    const log: string[] = [];
    await runGraph([withOutput(() => true, log)], pool(1), records);
    expect(log).toEqual([]);
  });

  it("names a duplicate job id", () => {
    expect(() => validateGraph([job("a", [], []), job("a", [], [])])).toThrow("duplicate job id a");
  });

  it("hands a job its dependencies' results", async () => {
    const records = new Map<string, JobRecord>();
    const reader = defineJob<string>({ id: "b", deps: ["a"], key: () => "b", run: async ({ result }) => `read ${result<string>("a")}` });
    await runGraph([job("a", [], []), reader], pool(1), records);
    expect(records.get("b")!.result).toBe("read a-result");
  });

  it("throws the first failure and reports it once, not the aborts it caused", async () => {
    const failed: string[] = [];
    const jobs = [job("a", [], [], { fail: true }), job("b", [], [], { ms: 30 })];
    await expect(runGraph(jobs, pool(2), new Map(), { hooks: { onFail: (j) => failed.push(j.id) } })).rejects.toThrow("a broke");
    expect(failed).toEqual(["a"]);
  });
});
