"""Telemetry: progress and metrics PUBlished on a ZeroMQ socket (topic = job id, payload =
a serialized sparse_sub.v1.TelemetryEvent). The controller learns the address from WorkerInfo.

The socket is not authenticated: any local user can subscribe. `--telemetry off` starts no socket
(NullPublisher); progress then reaches the controller only over the authenticated gRPC stream."""

from __future__ import annotations

import threading

import zmq


class TelemetryPublisher:
    def __init__(self, bind: str = "tcp://127.0.0.1:*"):
        self._context = zmq.Context.instance()
        self._socket = self._context.socket(zmq.PUB)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.setsockopt(zmq.SNDHWM, 10_000)  # a slow subscriber drops events, never blocks training
        self._socket.bind(bind)
        self.endpoint: str = self._socket.getsockopt_string(zmq.LAST_ENDPOINT)
        self._lock = threading.Lock()  # zmq sockets are not thread-safe; RPCs run on a pool

    def publish(self, topic: str, payload: bytes) -> None:
        with self._lock:
            if self._socket.closed:
                return  # shutting down while a job still reports progress
            try:
                self._socket.send_multipart([topic.encode(), payload], flags=zmq.NOBLOCK)
            except zmq.Again:
                pass  # no room: telemetry is best-effort, the RPC stream carries the result

    def close(self) -> None:
        with self._lock:
            self._socket.close()


class NullPublisher:
    """Telemetry switched off: nothing is published; jobs report progress on their RPC stream."""

    endpoint = ""

    def publish(self, topic: str, payload: bytes) -> None:
        pass

    def close(self) -> None:
        pass
