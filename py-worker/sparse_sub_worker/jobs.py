"""Running long jobs behind a streaming RPC: one job at a time, progress out, cancel in.

The job runs on its own thread and hands events to the RPC's generator through a queue, so a
cancelled call (whose generator is simply abandoned) still lets the job notice, clean up
(swap modules back, release the slot) and leave the worker ready."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator

from .errors import JobCancelled

log = logging.getLogger(__name__)
_DONE = object()


class JobSlot:
    """One heavy job at a time (a worker owns one device); others wait their turn."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = threading.Lock()
        self.waiting = 0
        self.running = ""

    def acquire(self, job_id: str, cancelled: threading.Event) -> None:
        with self._state:
            self.waiting += 1
        try:
            while not self._lock.acquire(timeout=0.2):
                if cancelled.is_set():
                    raise JobCancelled(job_id)
        finally:
            with self._state:
                self.waiting -= 1
        self.running = job_id

    def release(self) -> None:
        self.running = ""
        self._lock.release()


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
) -> Iterator[object]:
    """Yields the job's emitted events, then its return value; re-raises its exception."""
    events: queue.Queue = queue.Queue()
    cancelled = threading.Event()
    rpc_context.add_callback(cancelled.set)  # fires when the call ends, including a client cancel
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            slot.acquire(job_id, cancelled)
        except JobCancelled as error:
            outcome["error"] = error
            events.put(_DONE)
            return
        try:
            outcome["result"] = job(JobContext(job_id, events, cancelled))
        except BaseException as error:  # handed to the RPC thread, which maps it to a status
            outcome["error"] = error
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
