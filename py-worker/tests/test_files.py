"""Files over the real gRPC service: chunks round-trip with their checksum, a corrupted transfer
writes nothing, and the data root applies to file transfers too."""

from __future__ import annotations

import hashlib
import os
from concurrent import futures

import grpc
import pytest

from sparse_sub_worker.gen.sparse_sub.v1 import worker_pb2 as pb
from sparse_sub_worker.gen.sparse_sub.v1 import worker_pb2_grpc
from sparse_sub_worker.security import DataRoot
from sparse_sub_worker.server import WorkerService
from sparse_sub_worker.telemetry import TelemetryPublisher
from sparse_sub_worker.testing.status import error_details


@pytest.fixture()
def rooted(tmp_path):
    telemetry = TelemetryPublisher()
    root = tmp_path / "root"
    root.mkdir()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    worker_pb2_grpc.add_WorkerServicer_to_server(WorkerService(telemetry, DataRoot(str(root))), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield worker_pb2_grpc.WorkerStub(channel), root
    channel.close()
    server.stop(0)
    telemetry.close()


def chunks(path: str, data: bytes, size: int, checksum: str):
    pieces = [data[i : i + size] for i in range(0, len(data), size)] or [b""]
    offset = 0
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        yield pb.FileChunk(path=path if i == 0 else "", offset=offset, data=piece, sha256=checksum if last else "", last=last)
        offset += len(piece)


def test_put_stat_get_round_trip(rooted):
    stub, root = rooted
    data = os.urandom(300_000)
    checksum = hashlib.sha256(data).hexdigest()
    assert not stub.StatFile(pb.StatFileRequest(path="packs/af.safetensors")).exists
    response = stub.PutFile(chunks("packs/af.safetensors", data, 65_536, checksum))
    assert response.path == str(root / "packs/af.safetensors") and response.size == len(data) and response.sha256 == checksum
    stat = stub.StatFile(pb.StatFileRequest(path="packs/af.safetensors"))
    assert stat.exists and stat.size == len(data) and stat.sha256 == checksum
    got = list(stub.GetFile(pb.GetFileRequest(path="packs/af.safetensors", chunk_bytes=100_000)))
    assert len(got) == 3 and got[-1].last and got[-1].sha256 == checksum
    assert b"".join(c.data for c in got) == data
    empty = stub.PutFile(chunks("empty.txt", b"", 10, hashlib.sha256(b"").hexdigest()))
    assert empty.size == 0 and list(stub.GetFile(pb.GetFileRequest(path="empty.txt")))[0].last


def test_a_corrupted_transfer_writes_nothing(rooted):
    stub, root = rooted
    with pytest.raises(grpc.RpcError) as error:
        stub.PutFile(chunks("bad.bin", b"some bytes", 4, hashlib.sha256(b"other bytes").hexdigest()))
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_details(error.value)[0].reason == "CHECKSUM_MISMATCH"
    assert list(root.iterdir()) == []


def test_file_transfers_stay_inside_the_data_root(rooted):
    stub, root = rooted
    for call in (lambda: stub.PutFile(chunks("../outside.bin", b"x", 1, hashlib.sha256(b"x").hexdigest())),
                 lambda: list(stub.GetFile(pb.GetFileRequest(path="/etc/hostname"))),
                 lambda: stub.StatFile(pb.StatFileRequest(path="/etc/hostname"))):
        with pytest.raises(grpc.RpcError) as error:
            call()
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "outside the worker's data root" in error.value.details()
    assert not (root.parent / "outside.bin").exists()


def test_directories_are_listed_for_copying(rooted):
    stub, root = rooted
    (root / "adapters" / "af.lora" / "sub").mkdir(parents=True)
    (root / "adapters" / "af.lora" / "adapter_config.json").write_text("{}")
    (root / "adapters" / "af.lora" / "sub" / "weights.bin").write_bytes(b"12345")
    outside = root.parent / "outside"
    outside.mkdir()
    (outside / "secret").write_text("x")
    (root / "adapters" / "af.lora" / "linked").symlink_to(outside, target_is_directory=True)  # not entered
    stat = stub.StatFile(pb.StatFileRequest(path="adapters/af.lora"))
    assert (stat.exists, stat.is_directory, stat.sha256) == (True, True, "")
    listing = stub.ListFiles(pb.ListFilesRequest(path="adapters/af.lora"))
    assert [(f.path, f.size) for f in listing.files] == [("adapter_config.json", 2), ("sub/weights.bin", 5)]
    with pytest.raises(grpc.RpcError) as error:
        stub.ListFiles(pb.ListFilesRequest(path="adapters/missing"))
    assert error.value.code() == grpc.StatusCode.NOT_FOUND


def test_worker_info_says_where_copies_go(rooted):
    stub, root = rooted
    info = stub.GetWorkerInfo(pb.GetWorkerInfoRequest())
    assert info.data_root == str(root.resolve())
    assert info.staging_dir == str(root.resolve() / "staging")
