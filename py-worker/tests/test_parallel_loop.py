"""The training loop's parallel path in this process: a gloo group of one, real DDP and FSDP2.
With one process the arithmetic is the single-process job's, so every loss and weight must
match it; what this checks is the loop's side of the bargain (the wrapped or sharded model,
gradient sync after the last micro-batch only, the summed loss, the gathered artifact, no
checkpoints).
tests/test_distributed.py runs two torchrun processes over gRPC; this runs in pytest's own
process, where a mutation tool can see it."""

from __future__ import annotations

import pytest
import torch
import torch.distributed as dist
from safetensors.torch import load_file

from sparse_sub_worker.corpus import pack, token_stream
from sparse_sub_worker.methods.dense import DenseTrainable
from sparse_sub_worker.parallel import Parallel
from sparse_sub_worker.training import TrainSettings, run_training


@pytest.fixture(params=["ddp", "fsdp"])
def group_of_one(request, tmp_path):
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'rendezvous'}", rank=0, world_size=1)
    try:
        yield Parallel(request.param, rank=0, world=1, device=torch.device("cpu"))
    finally:
        dist.destroy_process_group()


def test_one_process_trains_like_the_plain_loop_and_writes_the_gathered_weights(tiny, tiny_model_dir, text_file, tmp_path, group_of_one):
    stream = token_stream(tiny.encoder, [text_file.read_text()], None)
    data = pack(stream, 16, 0, keep_tail=False, pad_token_id=0, field_name="corpus")
    # three micro-batches a step: gradients are exchanged after the last only (DDP's no_sync;
    # FSDP's reduce-scatter, without which the sharded parameters get no gradient)
    settings = TrainSettings(learning_rate=1e-2, batch_size=1, gradient_accumulation_steps=3, sequence_length=16,
                             max_steps=3, validate_every=2, seed=5, checkpoint_every=1)

    plain = run_training(tiny, DenseTrainable(tiny, "ffn", keep_base=True), data, data, settings, str(tmp_path / "plain"))  # before FSDP shards the model
    checkpoint = tmp_path / "job.ckpt"
    checkpoint_seen = []
    parallel = run_training(tiny, DenseTrainable(tiny, "ffn", keep_base=True), data, data, settings, str(tmp_path / "ddp"),
                            checkpoint_path=str(checkpoint), parallel=group_of_one,
                            on_step=lambda _report: checkpoint_seen.append(checkpoint.exists()))

    assert [step for step, _ in parallel.train_loss] == [1, 2, 3]
    assert [loss for _, loss in parallel.train_loss] == pytest.approx([loss for _, loss in plain.train_loss], rel=1e-6)
    assert parallel.validation_loss == pytest.approx(plain.validation_loss, rel=1e-6)
    assert parallel.tokens == plain.tokens == 3 * 3 * 16
    assert checkpoint_seen == [False, False, False] and not checkpoint.exists()  # no resumable checkpoints under torchrun
    written, expected = load_file(tmp_path / "ddp" / "model.safetensors"), load_file(tmp_path / "plain" / "model.safetensors")
    assert written.keys() == expected.keys()
    for name, tensor in expected.items():
        torch.testing.assert_close(written[name], tensor, rtol=1e-5, atol=1e-7, msg=name)
    mlp_weight = next(name for name in expected if name.endswith("mlp.down_proj.weight"))
    base = load_file(tiny_model_dir / "model.safetensors")
    assert not torch.equal(expected[mlp_weight], base[mlp_weight])  # training moved it
