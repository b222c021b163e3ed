"""Shared fixtures: a seeded tiny random-init Llama (real transformers model) built per session."""

from __future__ import annotations

from concurrent import futures
from pathlib import Path

import grpc
import pytest

from sparse_sub_worker.models.loading import ModelRequest, load_model
from sparse_sub_worker.testing.tiny_model import make_tiny_llama

TEXTS = [
    "All human beings are born free and equal in dignity and rights. They are endowed with reason and conscience.",
    "Alle menslike wesens word vry, met gelyke waardigheid en regte, gebore. Hulle het rede en gewete.",
    "Il-bnedmin kollha jitwieldu ħielsa u ugwali fid-dinjità u d-drittijiet.",
]
# The authors' released masks, beside the checkout (team machines only; tests that need them skip
# elsewhere). Searched upward, so a copy of the tests (mutmut's mutants/) finds them too.
REFERENCE_DATA = next((p / "shared" / "reference-data" for p in Path(__file__).resolve().parents if (p / "shared" / "reference-data").is_dir()),
                      Path(__file__).resolve().parents[3] / "shared" / "reference-data")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    return make_tiny_llama(tmp_path_factory.mktemp("tiny") / "model", TEXTS * 4, layers=3, hidden=32, intermediate=64, vocab_size=300)


@pytest.fixture()
def tiny(tiny_model_dir):
    """A freshly loaded tiny model (fp32, CPU) for tests that must start from the base weights."""
    return load_model(ModelRequest(str(tiny_model_dir), device="cpu", dtype="float32"))


@pytest.fixture()
def text_file(tmp_path) -> Path:
    path = tmp_path / "train.txt"
    path.write_text(" ".join(TEXTS * 6), encoding="utf-8")
    return path


@pytest.fixture()
def stub():
    """A real worker gRPC server on a loopback port, and a client stub for it."""
    from sparse_sub_worker.gen.sparse_sub.v1 import worker_pb2_grpc
    from sparse_sub_worker.server import WorkerService
    from sparse_sub_worker.telemetry import TelemetryPublisher

    telemetry = TelemetryPublisher()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    worker_pb2_grpc.add_WorkerServicer_to_server(WorkerService(telemetry), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield worker_pb2_grpc.WorkerStub(channel)
    channel.close()
    server.stop(0)
    telemetry.close()

