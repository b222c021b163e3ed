"""The job queue of a worker (one heavy job at a time): first come first served, bounded, each
waiter told its place, and a waiter whose caller left never runs. And an upload that stalls is
abandoned. JobSlot directly, then over real gRPC."""

from __future__ import annotations

import threading
import time
from concurrent import futures

import grpc
import pytest

from sparse_sub_worker.errors import JobCancelled, WorkerError
from sparse_sub_worker.gen.sparse_sub.v1 import worker_pb2 as pb
from sparse_sub_worker.gen.sparse_sub.v1 import worker_pb2_grpc
from sparse_sub_worker.jobs import JobSlot
from sparse_sub_worker.security import DataRoot
from sparse_sub_worker.server import WorkerService
from sparse_sub_worker.telemetry import NullPublisher
from sparse_sub_worker.testing.status import error_details


def _wait_until(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_waiters_are_served_in_arrival_order_and_told_their_place():
    slot = JobSlot()
    slot.acquire("running", threading.Event())
    order, places = [], {"a": [], "b": []}

    def wait(job):
        slot.acquire(job, threading.Event(), lambda position, running: places[job].append((position, running)))
        order.append(job)
        slot.release()

    first = threading.Thread(target=wait, args=("a",))
    first.start()
    _wait_until(lambda: slot.waiting == 1)
    second = threading.Thread(target=wait, args=("b",))
    second.start()
    _wait_until(lambda: slot.waiting == 2)
    slot.release()
    first.join(5)
    second.join(5)
    assert order == ["a", "b"]
    assert places["a"] == [(1, "running")]
    assert places["b"][0] == (2, "running")  # (it may hear place 1 while "a" runs, or get the slot at once)


def test_the_queue_is_bounded_and_a_cancelled_waiter_leaves_it():
    slot = JobSlot(max_waiting=1)
    slot.acquire("running", threading.Event())
    cancelled = threading.Event()
    outcome = {}

    def wait():
        try:
            slot.acquire("queued", cancelled)
            outcome["ran"] = True
        except JobCancelled:
            outcome["cancelled"] = True

    waiter = threading.Thread(target=wait)
    waiter.start()
    _wait_until(lambda: slot.waiting == 1)
    with pytest.raises(WorkerError) as full:
        slot.acquire("one too many", threading.Event())
    assert (full.value.code, full.value.reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "QUEUE_FULL")
    assert "running: running" in full.value.message
    cancelled.set()
    waiter.join(5)
    assert outcome == {"cancelled": True} and slot.waiting == 0
    slot.release()
    slot.acquire("next", threading.Event())  # the slot is free again, not held by the cancelled waiter
    assert slot.running == "next"


@pytest.fixture()
def worker(tmp_path):
    service = WorkerService(NullPublisher(), DataRoot(str(tmp_path)), stream_idle_seconds=0.5)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    worker_pb2_grpc.add_WorkerServicer_to_server(service, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield worker_pb2_grpc.WorkerStub(channel), service, tmp_path
    channel.close()
    server.stop(0)


def test_a_queued_job_reports_its_place_over_the_stream_and_a_left_caller_never_runs(worker):
    stub, service, root = worker
    service.slot.acquire("someone-else", threading.Event())
    request = pb.CollectActivationsRequest(job_id="waiting", language="af", model=pb.ModelSpec(source=str(root / "no-model")),
                                           corpus=pb.Corpus(text_files=pb.TextFiles(paths=[str(root / "x.txt")])),
                                           output_path=str(root / "af.safetensors"), batch_size=1, sequence_length=16)
    call = stub.CollectActivations(request)
    first = next(call)
    assert first.progress.phase == "queued"
    assert "running someone-else" in first.progress.message
    call.cancel()
    _wait_until(lambda: service.slot.waiting == 0)  # it left the queue at once
    service.slot.release()
    assert service.slot.running == ""


def test_an_upload_that_stops_sending_is_abandoned_and_leaves_no_partial_file(worker):
    stub, _service, root = worker
    stall = threading.Event()

    def chunks():
        yield pb.FileChunk(path=str(root / "big.bin"), offset=0, data=b"x" * 1024)
        stall.wait(10)  # a client that keeps the stream open but sends nothing more

    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as caught:
        stub.PutFile(chunks(), timeout=10)
    stall.set()
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert error_details(caught.value)[0].reason == "STREAM_IDLE"
    assert time.monotonic() - started < 5
    assert sorted(p.name for p in root.iterdir()) == []  # neither the file nor its partial
