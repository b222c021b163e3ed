"""A full fine-tuning job over two processes (torchrun, gloo on this CPU) through the real gRPC
service: with FSDP2 and with DDP it ends at the weights and losses of the same job in one
process, including steps whose micro-batches do not split evenly over the processes."""

from __future__ import annotations

import grpc
import pytest
import torch
from transformers import AutoModelForCausalLM

from sparse_sub_worker.gen.sparse_sub.v1 import worker_pb2 as pb
from sparse_sub_worker.testing.status import error_details


def full_request(tiny_model_dir, text_file, out, **config) -> pb.TrainRequest:
    settings = dict(learning_rate=1e-3, weight_decay=0.01, max_grad_norm=1.0, batch_size=1, gradient_accumulation_steps=3,
                    sequence_length=16, epochs=1, max_steps=4, validate_every=2, seed=5)
    settings.update(config)
    return pb.TrainRequest(
        job_id=out.name, model=pb.ModelSpec(source=str(tiny_model_dir), device="cpu", dtype="float32"), language="af",
        train_corpus=pb.Corpus(text_files=pb.TextFiles(paths=[str(text_file)])),
        validation_corpus=pb.Corpus(text_files=pb.TextFiles(paths=[str(text_file)])),
        config=pb.TrainConfig(**settings), output_path=str(out), method=pb.METHOD_FULL)


def weights(model_dir) -> dict[str, torch.Tensor]:
    return AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).state_dict()


def train(stub, request) -> tuple[pb.TrainResult, list[pb.Progress]]:
    events = list(stub.Train(request))
    return events[-1].result, [e.progress for e in events if e.HasField("progress")]


@pytest.mark.parametrize("parallel", ["fsdp", "ddp"])
def test_two_processes_train_like_one(stub, tiny_model_dir, text_file, tmp_path, parallel):
    single, _ = train(stub, full_request(tiny_model_dir, text_file, tmp_path / "single"))
    double, progress = train(stub, full_request(tiny_model_dir, text_file, tmp_path / parallel, processes=2, parallel=parallel))
    assert any("starting 2 processes" in p.message for p in progress)
    assert [p.done for p in progress if p.phase == "train"][-1] == 4  # steps relayed from the first process
    assert (double.steps, double.tokens, double.trainable_parameters, double.best_step) == \
        (single.steps, single.tokens, single.trainable_parameters, single.best_step)
    for ours, reference in ((double.train_loss, single.train_loss), (double.validation_loss, single.validation_loss)):
        assert [p.step for p in ours] == [p.step for p in reference]
        assert [p.loss for p in ours] == pytest.approx([p.loss for p in reference], rel=1e-5)
    base, one, two = weights(tiny_model_dir), weights(tmp_path / "single"), weights(tmp_path / parallel)
    assert one.keys() == two.keys()
    for name in one:
        assert not torch.equal(one[name], base[name]) or name.endswith("rotary_emb.inv_freq"), name  # it trained
        torch.testing.assert_close(two[name], one[name], rtol=1e-4, atol=1e-5, msg=name)


def test_only_whole_matrix_methods_take_several_processes(stub, tiny_model_dir, text_file, tmp_path):
    request = full_request(tiny_model_dir, text_file, tmp_path / "lora", processes=2)
    request.method = pb.METHOD_LORA
    with pytest.raises(grpc.RpcError) as error:
        train(stub, request)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    _, bad = error_details(error.value)
    assert bad.field_violations[0].field == "config.processes"


def test_cancelling_the_call_stops_every_process(stub, tiny_model_dir, text_file, tmp_path):
    import time

    import psutil

    call = stub.Train(full_request(tiny_model_dir, text_file, tmp_path / "cancelled", processes=2, max_steps=100_000, epochs=1000))
    for event in call:
        if event.progress.phase == "train":
            break
    launched = [p for p in psutil.Process().children(recursive=True) if "sparse_sub_worker.distributed" in " ".join(p.cmdline())]
    assert len(launched) >= 2  # torchrun and its processes
    call.cancel()
    gone, alive = psutil.wait_procs(launched, timeout=20)
    assert alive == []
    time.sleep(0.5)
    assert not (tmp_path / "cancelled").exists()
