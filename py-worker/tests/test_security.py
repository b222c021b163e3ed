"""A worker beyond loopback: bearer-token authentication on every RPC (health exempt), and a
data root no request path may escape. Over real gRPC."""

from __future__ import annotations

from concurrent import futures

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from sparse_sub_worker.gen.sparse_sub.v1 import worker_pb2 as pb
from sparse_sub_worker.gen.sparse_sub.v1 import worker_pb2_grpc
from sparse_sub_worker.security import DataRoot, TokenAuth
from sparse_sub_worker.server import WorkerService
from sparse_sub_worker.telemetry import TelemetryPublisher
from sparse_sub_worker.testing.status import error_details

TOKEN = "0123456789abcdef0123456789abcdef"


@pytest.fixture()
def secured(tmp_path):
    telemetry = TelemetryPublisher()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), interceptors=[TokenAuth(TOKEN)])
    root = tmp_path / "root"
    root.mkdir()
    worker_pb2_grpc.add_WorkerServicer_to_server(WorkerService(telemetry, DataRoot(str(root))), server)
    health_servicer = health.HealthServicer()
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield channel, root
    channel.close()
    server.stop(0)
    telemetry.close()


def auth(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


def test_missing_or_wrong_token_is_refused_before_anything_runs(secured, tmp_path):
    channel, root = secured
    stub = worker_pb2_grpc.WorkerStub(channel)
    request = pb.CollectActivationsRequest(job_id="j", model=pb.ModelSpec(source="x"), language="af", sequence_length=8, batch_size=1,
                                           corpus=pb.Corpus(text_files=pb.TextFiles(paths=["a.txt"])), output_path="counts.safetensors")
    for metadata, message in ((None, "missing bearer token"), (auth("not-the-token"), "wrong bearer token")):
        with pytest.raises(grpc.RpcError) as error:
            stub.GetWorkerInfo(pb.GetWorkerInfoRequest(), metadata=metadata)
        assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED and message in error.value.details()
        with pytest.raises(grpc.RpcError) as error:
            list(stub.CollectActivations(request, metadata=metadata))
        assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert list(root.iterdir()) == []
    assert stub.GetWorkerInfo(pb.GetWorkerInfoRequest(), metadata=auth(TOKEN)).protocol == "sparse_sub.v1"


def test_health_answers_without_a_token(secured):
    channel, _ = secured
    response = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""))
    assert response.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize("field_name, path", [("neuron_set_path", "/etc/passwd"), ("output_path", "../escape.safetensors"),
                                              ("train_corpus.text_files.paths[0]", "/tmp/../etc/hosts")])
def test_paths_outside_the_data_root_are_refused_naming_the_field(secured, field_name, path):
    channel, root = secured
    stub = worker_pb2_grpc.WorkerStub(channel)
    fields = {"neuron_set_path": "af.json", "output_path": "af.safetensors", "train_corpus.text_files.paths[0]": "train.txt"}
    fields[field_name] = path
    request = pb.TrainRequest(
        job_id="t", model=pb.ModelSpec(source="meta-llama/Llama-3.1-8B"), language="af", neuron_set_path=fields["neuron_set_path"],
        train_corpus=pb.Corpus(text_files=pb.TextFiles(paths=[fields["train_corpus.text_files.paths[0]"]])),
        config=pb.TrainConfig(learning_rate=1e-4, batch_size=1, sequence_length=8), output_path=fields["output_path"])
    with pytest.raises(grpc.RpcError) as error:
        list(stub.Train(request, metadata=auth(TOKEN)))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_details(error.value)[1].field_violations[0].field == field_name
    assert "outside the worker's data root" in error.value.details()


def test_relative_paths_resolve_inside_the_root(tmp_path):
    root = DataRoot(str(tmp_path))
    request = pb.MergePackRequest(pack_paths=["packs/af.safetensors"], output_dir="merged", model=pb.ModelSpec(source="./model"))
    root.check(request)
    assert request.pack_paths[0] == str(tmp_path / "packs/af.safetensors") and request.model.source == str(tmp_path / "model")
    hub = pb.MergePackRequest(model=pb.ModelSpec(source="meta-llama/Llama-3.1-8B"))
    root.check(hub)
    assert hub.model.source == "meta-llama/Llama-3.1-8B"
