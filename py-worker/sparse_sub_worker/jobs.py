"""Running long jobs behind a streaming RPC: one job at a time, progress out, cancel in.

The job runs on its own thread and hands events to the RPC's generator through a queue, so a
cancelled call (whose generator is simply abandoned) still lets the job notice, clean up
(swap modules back, release the slot) and leave the worker ready."""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator

import grpc

from .errors import JobCancelled, WorkerError, out_of_memory

log = logging.getLogger(__name__)
_DONE = object()


class JobSlot:
    """One heavy job at a time (a worker owns one device); others wait their turn, first come
    first served, at most `max_waiting` of them (each waiter holds a server thread)."""

    def __init__(self, max_waiting: int = 6) -> None:
        self._changed = threading.Condition()
        self._queue: deque[object] = deque()  # one entry per waiting call, in arrival order
        self._busy = False
        self.max_waiting = max_waiting
        self.running = ""

    @property
    def waiting(self) -> int:
        return len(self._queue)

    def acquire(self, job_id: str, cancelled: threading.Event,
                on_wait: Callable[[int, str], None] | None = None) -> None:
        """Blocks until the slot is this job's. `on_wait(position, running_job)` hears each new
        queue position (1 = next); a set `cancelled` leaves the queue with JobCancelled."""
        with self._changed:
            if not self._busy and not self._queue:
                self._busy, self.running = True, job_id
                return
            if len(self._queue) >= self.max_waiting:
                raise WorkerError(grpc.StatusCode.RESOURCE_EXHAUSTED, "QUEUE_FULL",
                                  f"{len(self._queue)} jobs already wait for this worker (running: {self.running}); try again later")
            entry = object()
            self._queue.append(entry)
            reported = 0
            try:
                while self._busy or self._queue[0] is not entry:
                    if cancelled.is_set():
                        raise JobCancelled(job_id)
                    position = self._queue.index(entry) + 1
                    if on_wait is not None and position != reported:
                        reported = position
                        on_wait(position, self.running)
                    self._changed.wait(timeout=0.2)  # also re-checks `cancelled`
                self._busy, self.running = True, job_id
            finally:
                self._queue.remove(entry)
                self._changed.notify_all()

    def release(self) -> None:
        with self._changed:
            self._busy, self.running = False, ""
            self._changed.notify_all()


def call_ended(rpc_context) -> threading.Event:
    """An event set when the RPC ends for any reason, a client's cancel included."""
    ended = threading.Event()
    rpc_context.add_callback(ended.set)
    return ended


class JobContext:
    """Handed to a job: emit progress, check for cancellation."""

    def __init__(self, job_id: str, events: queue.Queue, cancelled: threading.Event):
        self.job_id = job_id
        self._events = events
        self.cancelled = cancelled
        self.last_progress: dict[str, float] = {}  # phase -> monotonic time of the last report

    def emit(self, event) -> None:
        self._events.put(event)

    def check_cancelled(self) -> None:
        if self.cancelled.is_set():
            raise JobCancelled(self.job_id)


def stream_job(
    slot: JobSlot,
    job_id: str,
    rpc_context,
    job: Callable[[JobContext], object],
    queued: Callable[[int, str], object] | None = None,
    memory: tuple[str, str] = ("", ""),
) -> Iterator[object]:
    """Yields the job's emitted events, then its return value; re-raises its exception.
    `queued(position, running_job)` builds the event that reports a place in the queue;
    `memory` = (the job's shape, what to lower) words an out-of-memory error."""
    events: queue.Queue = queue.Queue()
    cancelled = call_ended(rpc_context)
    outcome: dict[str, object] = {}
    on_wait = (lambda position, running: events.put(queued(position, running))) if queued else None

    def run() -> None:
        try:
            slot.acquire(job_id, cancelled, on_wait)
        except (JobCancelled, WorkerError) as error:
            outcome["error"] = error
            events.put(_DONE)
            return
        try:
            outcome["result"] = job(JobContext(job_id, events, cancelled))
        except BaseException as error:  # handed to the RPC thread, which maps it to a status
            outcome["error"] = out_of_memory(error, job_id, *memory) or error
        finally:
            slot.release()
            events.put(_DONE)

    thread = threading.Thread(target=run, name=f"job-{job_id}", daemon=True)
    thread.start()
    try:
        while True:
            try:
                event = events.get(timeout=0.5)
            except queue.Empty:
                if not rpc_context.is_active():
                    cancelled.set()
                continue
            if event is _DONE:
                break
            yield event
    finally:
        if thread.is_alive():  # the call ended early (client cancel): stop the job at its next step
            cancelled.set()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    yield outcome["result"]
