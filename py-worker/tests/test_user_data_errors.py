"""A user's data mistake is named (file, line, reason) and never surfaces as INTERNAL."""

import grpc
import pytest

from sparse_sub_worker.corpus import TextFilesCorpus, read_documents
from sparse_sub_worker.errors import WorkerError
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
