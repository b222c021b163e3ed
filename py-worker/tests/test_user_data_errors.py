"""A user's data mistake is named (file, line, reason) and never surfaces as INTERNAL."""

import grpc
import pytest
import torch

from sparse_sub_worker.corpus import TextFilesCorpus, read_documents
from sparse_sub_worker.errors import WorkerError
from sparse_sub_worker.jobs import JobSlot, stream_job
from sparse_sub_worker.telemetry import NullPublisher, TelemetryPublisher


@pytest.mark.parametrize("suffix", [".txt", ".jsonl"])
def test_a_corpus_that_is_not_utf8_is_named_with_its_line(tmp_path, suffix):
    file = tmp_path / f"latin1{suffix}"
    good = '{"text": "ok"}\n' if suffix == ".jsonl" else "ok\n"
    file.write_bytes(good.encode() * 2 + '{"text": "Café"}\n'.encode("latin-1"))
    with pytest.raises(WorkerError) as caught:
        read_documents(TextFilesCorpus((str(file),)), "train_corpus")
    error = caught.value
    assert (error.code, error.reason, error.field) == (grpc.StatusCode.FAILED_PRECONDITION, "CORPUS_NOT_UTF8", "train_corpus")
    assert error.message.startswith(f"{file}:3: not UTF-8 text")


def test_telemetry_after_close_is_dropped_not_raised():
    publisher = TelemetryPublisher()
    publisher.close()
    publisher.publish("job", b"late progress")  # a job still reporting while the worker shuts down


def test_telemetry_off_publishes_nothing_and_has_no_endpoint():
    publisher = NullPublisher()
    publisher.publish("job", b"x")
    assert publisher.endpoint == ""


class _Call:
    """The two methods stream_job uses of a gRPC ServicerContext."""

    def add_callback(self, callback):
        return True

    def is_active(self):
        return True


@pytest.mark.parametrize("raised", [torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
                                    RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory")])
def test_out_of_memory_names_the_job_its_shape_and_what_to_lower(raised):
    def job(ctx):
        raise raised

    events = stream_job(JobSlot(), "train:af:sparse", _Call(), job, memory=("batch_size 8, sequence_length 4096", "lower training.batch_size"))
    with pytest.raises(WorkerError) as caught:
        list(events)
    error = caught.value
    assert (error.code, error.reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "OUT_OF_MEMORY")
    assert error.message.startswith("job train:af:sparse ran out of memory at batch_size 8, sequence_length 4096 (")
    assert error.message.endswith("); lower training.batch_size")


def test_other_errors_pass_unchanged():
    def job(ctx):
        raise RuntimeError("shape mismatch")

    with pytest.raises(RuntimeError, match="shape mismatch"):
        list(stream_job(JobSlot(), "j", _Call(), job, memory=("x", "y")))
