"""Outputs never remove what the user did not create, and get the user's umask."""

from __future__ import annotations

import os
import stat

import grpc
import pytest

from sparse_sub_worker.atomic import OUTPUT_MARKER, atomic_dir, atomic_path
from sparse_sub_worker.errors import WorkerError
from sparse_sub_worker.gen.sparse_sub.v1 import worker_pb2 as pb


def write_model(path, **kwargs):
    with atomic_dir(path, **kwargs) as tmp:
        (tmp / "model.safetensors").write_text("weights")


def test_a_folder_of_the_users_is_refused_and_left_as_it_was(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(WorkerError) as error:
        write_model(out)
    assert error.value.reason == "OUTPUT_NOT_EMPTY" and error.value.field == "output_dir" and str(out) in error.value.message
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary folder left beside it


def test_force_writes_among_the_users_files_and_keeps_them(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    write_model(out, force=True)
    assert (out / "notes.txt").read_text() == "mine" and (out / "model.safetensors").read_text() == "weights"


def test_an_earlier_output_of_the_same_kind_is_replaced_and_an_empty_folder_used(tmp_path):
    out = tmp_path / "out"
    write_model(out)
    (out / "stale.bin").write_text("old")  # ours: the whole earlier output is replaced
    write_model(out)
    assert sorted(p.name for p in out.iterdir()) == [OUTPUT_MARKER, "model.safetensors"]
    empty = tmp_path / "empty"
    empty.mkdir()
    write_model(empty)
    assert (empty / "model.safetensors").is_file()
    with pytest.raises(WorkerError, match="not an earlier sparse-sub peft adapter"):
        write_model(out, kind="peft adapter")  # another kind of output is not ours to replace
    (tmp_path / "file").write_text("x")
    with pytest.raises(WorkerError) as error:
        write_model(tmp_path / "file")
    assert error.value.reason == "OUTPUT_NOT_A_DIRECTORY"


def test_outputs_follow_the_umask(tmp_path):
    mask = os.umask(0)
    os.umask(mask)
    with atomic_path(tmp_path / "f.json") as tmp:
        tmp.write_text("{}")
    write_model(tmp_path / "d")
    assert stat.S_IMODE((tmp_path / "f.json").stat().st_mode) == 0o666 & ~mask
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o777 & ~mask


def test_merge_pack_refuses_a_users_folder_before_loading_a_model(stub, tmp_path, tiny_model_dir):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    pack = tmp_path / "af.safetensors"
    pack.write_bytes(b"")
    request = pb.MergePackRequest(job_id="m", model=pb.ModelSpec(source="no/such-model"), pack_paths=[str(pack)], output_dir=str(out))
    with pytest.raises(grpc.RpcError) as error:
        stub.MergePack(request)
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "notes.txt" not in error.value.details() and (out / "notes.txt").read_text() == "mine"


def test_a_damaged_pack_is_bad_input_not_an_internal_error(stub, tmp_path):
    pack = tmp_path / "af.safetensors"
    pack.write_bytes(b"not a safetensors file")
    request = pb.MergePackRequest(job_id="m", model=pb.ModelSpec(source="no/such-model"), pack_paths=[str(pack)], output_dir=str(tmp_path / "o"))
    with pytest.raises(grpc.RpcError) as error:
        stub.MergePack(request)
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "pack_paths[0]" in error.value.details()


def test_a_jobs_own_interrupted_saves_are_removed_and_nothing_else(tmp_path):
    from sparse_sub_worker.atomic import PARTIAL_MARK, remove_partials_of

    checkpoint = tmp_path / "af.sparse.pt"
    mine = tmp_path / f".af.sparse.pt{PARTIAL_MARK}x1y2.tmp"
    other_job = tmp_path / f".af.lora.pt{PARTIAL_MARK}x1y2.tmp"
    for path in (mine, other_job):
        path.write_text("partial")
    remove_partials_of(checkpoint)
    assert not mine.exists() and other_job.exists()


def test_merge_pack_refuses_a_pack_of_another_base_model_and_writes_nothing(stub, tmp_path, tiny_model_dir):
    """The worker itself checks the base model (not only the CLI): a pack trained on another
    random init of the same shape is PACK_MODEL_MISMATCH, naming the pack's field."""
    from sparse_sub_worker.methods.subnetwork import SubnetworkTrainable
    from sparse_sub_worker.models.loading import ModelRequest, load_model
    from sparse_sub_worker.neuron_sets import NeuronSet
    from sparse_sub_worker.packs import save_pack
    from sparse_sub_worker.testing.tiny_model import make_tiny_llama

    from .conftest import TEXTS

    other = load_model(ModelRequest(str(make_tiny_llama(tmp_path / "other", TEXTS * 4, layers=3, hidden=32, intermediate=64,
                                                        vocab_size=300, seed=1)), device="cpu", dtype="float32"))
    trainable = SubnetworkTrainable(other, NeuronSet("af", [[0, 5], [1], [7]], 64))
    with trainable.installed():
        save_pack(tmp_path / "af.safetensors", trainable.pack())
    out = tmp_path / "merged"
    request = pb.MergePackRequest(job_id="m", model=pb.ModelSpec(source=str(tiny_model_dir), device="cpu", dtype="float32"),
                                  pack_paths=[str(tmp_path / "af.safetensors")], output_dir=str(out))
    with pytest.raises(grpc.RpcError) as error:
        stub.MergePack(request)
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "pack_paths[0]" in error.value.details() and "other base weights" in error.value.details()
    assert not out.exists()
