"""The gRPC service over a real socket: status codes with details, streaming, cancel."""

import threading

import grpc
import pytest

from sparse_sub_worker.gen.sparse_sub.v1 import worker_pb2 as pb
from sparse_sub_worker.testing.status import error_details as details
from sparse_sub_worker.neuron_sets import NeuronSet, save_neuron_set


def test_worker_info(stub):
    info = stub.GetWorkerInfo(pb.GetWorkerInfoRequest())
    assert info.protocol == "sparse_sub.v1" and info.device == "cpu"
    assert info.telemetry_endpoint.startswith("tcp://127.0.0.1:")


def test_missing_model_is_not_found_naming_the_field(stub, tmp_path):
    request = pb.CollectActivationsRequest(
        job_id="j1", model=pb.ModelSpec(source=str(tmp_path / "nope")), language="af",
        corpus=pb.Corpus(text_files=pb.TextFiles(paths=["x.txt"])), sequence_length=8, batch_size=1,
        output_path=str(tmp_path / "out.safetensors"))
    with pytest.raises(grpc.RpcError) as error:
        list(stub.CollectActivations(request))
    assert error.value.code() == grpc.StatusCode.NOT_FOUND
    info, bad = details(error.value)
    assert info.reason == "PATH_NOT_FOUND" and info.domain == "sparse-sub"
    assert bad.field_violations[0].field == "model.source"
    assert not (tmp_path / "out.safetensors").exists()


def test_invalid_argument_before_any_work(stub, tmp_path):
    request = pb.CollectActivationsRequest(job_id="j2", model=pb.ModelSpec(source="x"), sequence_length=-1, batch_size=1, output_path="o")
    with pytest.raises(grpc.RpcError) as error:
        list(stub.CollectActivations(request))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "sequence_length: must be > 0" in error.value.details()


def test_pack_components_without_a_pack_names_the_field(stub, tiny_model_dir, text_file):
    request = pb.EvaluateRequest(job_id="j3", model=pb.ModelSpec(source=str(tiny_model_dir), device="cpu"), sequence_length=8, batch_size=1,
                                 sets=[pb.EvaluationSet(language="af", corpus=pb.Corpus(text_files=pb.TextFiles(paths=[str(text_file)])))],
                                 pack_components=["down"])
    with pytest.raises(grpc.RpcError) as error:
        list(stub.Evaluate(request))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(error.value)[1].field_violations[0].field == "pack_components"


def train_request(tiny_model_dir, text_file, tmp_path, job_id, max_steps):
    save_neuron_set(tmp_path / "af.json", NeuronSet("af", [[1, 2], [3], [4]], 64))
    return pb.TrainRequest(
        job_id=job_id, model=pb.ModelSpec(source=str(tiny_model_dir), device="cpu"), language="af",
        neuron_set_path=str(tmp_path / "af.json"), train_corpus=pb.Corpus(text_files=pb.TextFiles(paths=[str(text_file)])),
        config=pb.TrainConfig(learning_rate=1e-3, weight_decay=0.01, max_grad_norm=1.0, batch_size=1, sequence_length=8,
                              epochs=1000, max_steps=max_steps),
        output_path=str(tmp_path / f"{job_id}.pack.safetensors"))


def test_cancel_stops_the_job_and_the_worker_stays_usable(stub, tiny_model_dir, text_file, tmp_path):
    call = stub.Train(train_request(tiny_model_dir, text_file, tmp_path, "long", max_steps=1_000_000))
    steps = 0
    for event in call:
        if event.WhichOneof("event") == "progress" and event.progress.phase == "train":
            steps += 1
            if steps == 3:
                call.cancel()
                break
    # the job notices at its next micro-batch and frees the slot
    for _ in range(100):
        if stub.GetWorkerInfo(pb.GetWorkerInfoRequest()).running_job == "":
            break
        threading.Event().wait(0.05)
    assert stub.GetWorkerInfo(pb.GetWorkerInfoRequest()).running_job == ""
    assert not (tmp_path / "long.pack.safetensors").exists()

    events = list(stub.Train(train_request(tiny_model_dir, text_file, tmp_path, "short", max_steps=2)))
    result = events[-1].result
    assert result.steps == 2 and result.trainable_parameters == 4 * 3 * 32
    assert (tmp_path / "short.pack.safetensors").exists()


def test_serve_refuses_non_loopback_without_insecure(capsys):
    from sparse_sub_worker.__main__ import main

    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--listen", "0.0.0.0:50051"])
    assert exit_info.value.code == 2
    assert "--listen 0.0.0.0:50051: beyond loopback the worker needs a token (--token-file)" in capsys.readouterr().err
