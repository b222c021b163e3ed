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


# --- The independent probe's holes (ROOT = data root, OUTSIDE = a sibling folder) ------------

def listing(folder) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(folder)), p.stat().st_size if p.is_file() else -1) for p in folder.rglob("*"))


@pytest.fixture()
def probe(secured):
    """The secured worker, an OUTSIDE folder beside its root with a file, a CSV and a model-like
    folder, a symlink from ROOT into OUTSIDE, and a check that OUTSIDE is untouched afterwards."""
    channel, root = secured
    outside = root.parent / "OUTSIDE"
    (outside / "model").mkdir(parents=True)
    (outside / "model" / "config.json").write_text("{}")
    (outside / "secret.txt").write_text("secret")
    (outside / "notes.csv").write_text("private_column\nvalue\n")
    (root / "link").symlink_to(outside)
    before = listing(outside)
    yield worker_pb2_grpc.WorkerStub(channel), root, outside
    assert listing(outside) == before  # nothing read back, written or removed outside ROOT


def refused(call, field: str, code=grpc.StatusCode.INVALID_ARGUMENT) -> str:
    """The call fails with `code`, naming `field`; returns the message."""
    with pytest.raises(grpc.RpcError) as error:
        call()
    assert error.value.code() == code, error.value.details()
    assert error_details(error.value)[1].field_violations[0].field == field
    return error.value.details()


def test_1_language_codes_that_name_files_are_checked(probe):
    stub, root, outside = probe
    for language in ("../../OUTSIDE/x", "/abs/x", "a.b"):
        request = pb.SelectNeuronsRequest(counts=[pb.ActivationCounts(language=language, path="a.safetensors"), pb.ActivationCounts(language="b", path="b.safetensors")],
                                          top_rate=0.5, filter_rate=0.5, activation_bar_ratio=0.5, output_dir="sets")
        refused(lambda: stub.SelectNeurons(request, metadata=auth(TOKEN)), "counts[0].language")


@pytest.mark.parametrize("source", ["pkg://sparse_sub_worker/../../../OUTSIDE/model", "../OUTSIDE/model", "link/model", "/etc"])
def test_2_a_model_source_outside_the_root_is_refused(probe, source):
    stub, root, _ = probe
    request = pb.CollectActivationsRequest(job_id="m", model=pb.ModelSpec(source=source), language="af", sequence_length=8, batch_size=1,
                                           corpus=pb.Corpus(text_files=pb.TextFiles(paths=["a.txt"])), output_path="c.safetensors")
    refused(lambda: list(stub.CollectActivations(request, metadata=auth(TOKEN))), "model.source")


def test_2_a_bare_relative_source_is_read_inside_the_root_not_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "cwd" / "OUTSIDE" / "model").mkdir(parents=True)
    (tmp_path / "root").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    request = pb.MergePackRequest(model=pb.ModelSpec(source="OUTSIDE/model"))
    DataRoot(str(tmp_path / "root")).check(request)
    assert request.model.source == str(tmp_path / "root" / "OUTSIDE" / "model")  # confined, not the cwd's folder


@pytest.mark.parametrize("gguf_file", ["../../OUTSIDE/secret.txt", "/etc/passwd", "../link/secret.txt"])
def test_3_a_gguf_file_stays_inside_its_model_folder(probe, gguf_file):
    stub, root, _ = probe
    (root / "m").mkdir()
    request = pb.MergePackRequest(model=pb.ModelSpec(source="m", gguf_file=gguf_file), pack_paths=["p.safetensors"], output_dir="out")
    refused(lambda: stub.MergePack(request, metadata=auth(TOKEN)), "model.gguf_file")


@pytest.mark.parametrize("name", ["../OUTSIDE/notes.csv", "link/notes.csv", "/tmp"])
def test_4_a_local_dataset_name_is_confined(probe, name):
    stub, root, _ = probe
    corpus = pb.Corpus(hub_dataset=pb.HubDataset(name=name, split="train"))
    request = pb.CollectActivationsRequest(job_id="d", model=pb.ModelSpec(source="meta-llama/Llama-3.1-8B"), language="af",
                                           sequence_length=8, batch_size=1, corpus=corpus, output_path="c.safetensors")
    refused(lambda: list(stub.CollectActivations(request, metadata=auth(TOKEN))), "corpus.hub_dataset.name")
    task = pb.EvaluateRequest(job_id="e", model=pb.ModelSpec(source="meta-llama/Llama-3.1-8B"), sequence_length=8, batch_size=1,
                              tasks=[pb.TaskRequest(name="mmlu", hub_name=name)])
    refused(lambda: list(stub.Evaluate(task, metadata=auth(TOKEN))), "tasks[0].hub_name")


def test_5_an_empty_path_is_refused_where_a_path_is_required(probe):
    stub, _, _ = probe
    refused(lambda: stub.ListFiles(pb.ListFilesRequest(path=""), metadata=auth(TOKEN)), "path")
    refused(lambda: stub.StatFile(pb.StatFileRequest(path=""), metadata=auth(TOKEN)), "path")
    refused(lambda: list(stub.GetFile(pb.GetFileRequest(path=""), metadata=auth(TOKEN))), "path")
    refused(lambda: stub.ConvertNeuronSet(pb.ConvertNeuronSetRequest(direction=pb.ConvertNeuronSetRequest.DIRECTION_EXPORT,
                                                                       reference_path=""), metadata=auth(TOKEN)), "reference_path")


def test_6_an_output_may_not_be_the_data_root_itself(probe):
    stub, root, _ = probe
    (root / "keep.txt").write_text("mine")
    refused(lambda: stub.MergePack(pb.MergePackRequest(model=pb.ModelSpec(source="meta-llama/Llama-3.1-8B"), pack_paths=["p"],
                                                       output_dir="p7/.."), metadata=auth(TOKEN)), "output_dir")
    chunk = pb.FileChunk(path=".", offset=0, data=b"x", sha256="", last=True)
    refused(lambda: stub.PutFile(iter([chunk]), metadata=auth(TOKEN)), "path")
    # a random method's drawn set is written too (worker.proto marks it an output)
    refused(lambda: list(stub.Train(pb.TrainRequest(method=pb.METHOD_RANDOM, drawn_neuron_set_path="."), metadata=auth(TOKEN))),
            "drawn_neuron_set_path")
    assert (root / "keep.txt").read_text() == "mine" and sorted(p.name for p in root.parent.iterdir()) == ["OUTSIDE", "root"]


def test_7_get_file_chunk_size_is_validated(probe):
    stub, root, _ = probe
    (root / "big.bin").write_bytes(b"0" * 1000)
    for chunk_bytes in (-1, 64 << 20):
        refused(lambda: list(stub.GetFile(pb.GetFileRequest(path="big.bin", chunk_bytes=chunk_bytes), metadata=auth(TOKEN))), "chunk_bytes")
    data = b"".join(c.data for c in stub.GetFile(pb.GetFileRequest(path="big.bin", chunk_bytes=300), metadata=auth(TOKEN)))
    assert data == b"0" * 1000


def test_8_token_less_streams_are_refused_before_their_first_message(probe):
    stub, _, _ = probe
    import threading

    never = threading.Event()

    def silent():  # a client stream that never sends its first message
        never.wait(10)
        return
        yield

    calls = [stub.PutFile.future(silent()) for _ in range(8)]  # more than the server's 4 threads
    try:
        for call in calls:
            with pytest.raises(grpc.RpcError) as error:
                call.result(timeout=5)
            assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert stub.GetWorkerInfo(pb.GetWorkerInfoRequest(), metadata=auth(TOKEN), timeout=5).protocol == "sparse_sub.v1"
    finally:
        never.set()


@pytest.mark.parametrize("path, message", [("a\0b", "contains a NUL byte"), ("x" * 100_000, "is 100000 characters long")])
def test_nul_bytes_and_overlong_paths_are_invalid_arguments_with_short_messages(probe, path, message):
    stub, _, _ = probe
    details = refused(lambda: stub.StatFile(pb.StatFileRequest(path=path), metadata=auth(TOKEN)), "path")
    assert message in details and len(details) < 300


def test_no_hub_refuses_hub_ids_and_keeps_local_paths(tmp_path):
    (tmp_path / "model").mkdir()
    root = DataRoot(str(tmp_path), allow_hub=False)
    local = pb.MergePackRequest(model=pb.ModelSpec(source="model"))
    root.check(local)
    assert local.model.source == str(tmp_path / "model")
    from sparse_sub_worker.errors import WorkerError

    for request, field in ((pb.MergePackRequest(model=pb.ModelSpec(source="meta-llama/Llama-3.1-8B")), "model.source"),
                           (pb.CollectActivationsRequest(corpus=pb.Corpus(hub_dataset=pb.HubDataset(name="cis-lmu/GlotCC-V1"))), "corpus.hub_dataset.name")):
        with pytest.raises(WorkerError) as error:
            root.check(request)
        assert error.value.code == grpc.StatusCode.PERMISSION_DENIED and error.value.field == field and error.value.reason == "HUB_DISABLED"


def test_replies_name_no_path_outside_the_root(tmp_path):
    root = DataRoot(str(tmp_path / "root"))
    text = f"cannot open /etc/shadow nor {tmp_path}/root/a.txt nor {tmp_path}/elsewhere/b; see https://example.org/x and ./rel/y"
    assert root.redact(text) == (f"cannot open <path outside the data root> nor {tmp_path}/root/a.txt nor <path outside the data root>; "
                                 "see https://example.org/x and ./rel/y")


def test_stale_partial_files_are_swept_and_nothing_else(tmp_path):
    import os

    from sparse_sub_worker.atomic import PARTIAL_MARK, STALE_SECONDS, atomic_path, sweep_partials

    with atomic_path(tmp_path / "live.bin") as tmp:
        assert PARTIAL_MARK in tmp.name
    stale_file = tmp_path / "sub" / f".big.bin{PARTIAL_MARK}abc.tmp"
    stale_dir = tmp_path / f".model{PARTIAL_MARK}xyz.tmp"
    fresh = tmp_path / f".other{PARTIAL_MARK}new.tmp"
    users = tmp_path / ".notes.abcdefgh.tmp"  # looks temporary, but not ours
    for path in (stale_file, fresh, users):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    (stale_dir / "inner").mkdir(parents=True)
    old = os.path.getmtime(fresh) - STALE_SECONDS - 10
    for path in (stale_file, stale_dir, users):
        os.utime(path, (old, old))
    assert sweep_partials(tmp_path) == 2
    assert not stale_file.exists() and not stale_dir.exists() and fresh.exists() and users.exists()


def test_a_mismatched_tls_key_names_both_files(tmp_path, capsys):
    import subprocess

    from sparse_sub_worker.__main__ import main

    for name in ("a", "b"):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(tmp_path / f"{name}.key"),
                        "-out", str(tmp_path / f"{name}.crt"), "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
    with pytest.raises(SystemExit):
        main(["serve", "--tls-cert", str(tmp_path / "a.crt"), "--tls-key", str(tmp_path / "b.key")])
    message = capsys.readouterr().err
    assert f"--tls-cert {tmp_path / 'a.crt'} / --tls-key {tmp_path / 'b.key'}: not a matching PEM certificate and key" in message
