// ZeroMQ SUB side of worker telemetry: each message is [job id, TelemetryEvent bytes].
import { Subscriber } from "zeromq";
import { TelemetryEvent } from "../gen/sparse_sub/v1/worker.js";

export interface TelemetrySubscription {
  close(): void;
  closed: Promise<void>;
}

/** Subscribes to every job on a worker's telemetry endpoint until closed. */
export function subscribeTelemetry(endpoint: string, onEvent: (jobId: string, event: TelemetryEvent) => void): TelemetrySubscription {
  const socket = new Subscriber({ linger: 0 });
  socket.connect(endpoint);
  socket.subscribe();
  const closed = (async () => {
    try {
      for await (const [topic, payload] of socket) {
        onEvent(topic.toString(), TelemetryEvent.decode(payload));
      }
    } catch (error) {
      if (!socket.closed) throw error; // receive is interrupted by close(): that is the normal end
    }
  })();
  return {
    close: () => {
      if (!socket.closed) socket.close();
    },
    closed,
  };
}
