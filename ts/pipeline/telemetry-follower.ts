// Live progress of a run's jobs: each local worker's ZeroMQ telemetry, subscribed again when a
// worker restarts, feeding the display and the event log; worker losses and returns reported.
import type { ProgressDisplay } from "../telemetry/progress.js";
import { subscribeTelemetry, type TelemetrySubscription } from "../telemetry/subscriber.js";
import type { PooledWorker, WorkerPool } from "../worker/pool.js";
import type { RunEvent } from "./event-log.js";

export interface TelemetryFollower {
  /** Jobs whose live progress arrives over ZeroMQ (their RPC stream need not drive the display). */
  seen: ReadonlySet<string>;
  stop(): void;
}

export function followTelemetry(pool: WorkerPool, runId: string, display: ProgressDisplay, log: (event: RunEvent) => void): TelemetryFollower {
  const subscriptions = new Map<PooledWorker, TelemetrySubscription>();
  const seen = new Set<string>();
  const follow = (worker: PooledWorker) => {
    // Telemetry is not authenticated, so a worker publishes it on its own loopback only: a remote
    // worker's progress arrives over the (authenticated) gRPC stream instead.
    if (worker.local === false || !worker.info.telemetryEndpoint) return; // none: `--telemetry off`
    subscriptions.get(worker)?.close();
    subscriptions.set(
      worker,
      subscribeTelemetry(worker.info.telemetryEndpoint, (topic, event) => {
        if (!topic.startsWith(`${runId}/`) || !event.progress) return;
        const jobId = topic.slice(runId.length + 1);
        seen.add(jobId);
        display.update(jobId, event.progress);
        const { jobId: _wireId, ...progress } = event.progress;
        log({ event: "progress", job: jobId, worker: worker.name, memory_used_bytes: event.memoryUsedBytes, ...progress });
      }),
    );
  };
  for (const worker of pool.workers) {
    display.log(`worker ${worker.name} at ${worker.client.address}: ${worker.info.device}, sparse-sub worker ${worker.info.version}`);
    follow(worker);
  }
  const stopFollowingLifecycle = pool.onLifecycle((event, worker) => {
    log(event);
    if (event.event === "worker_rejoined") follow(worker); // a restarted local worker has a new endpoint
    const said =
      event.event === "worker_lost" ? (event.recovering ? "was lost; bringing it back" : "was lost")
      : event.event === "worker_rejoined" ? "is back"
      : `is gone for good: ${event.error}`;
    display.log(`worker ${worker.name} ${said}`);
  });
  return {
    seen,
    stop: () => {
      stopFollowingLifecycle();
      for (const subscription of subscriptions.values()) subscription.close();
    },
  };
}
