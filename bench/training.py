"""One training competitor in a fresh process (so peak memory is its own): prints one JSON line.

    python bench/training.py --method sparse --share 0.01 [--shape small] [--device cpu]

methods: sparse (ours), masked (full MLP matrices trainable, gradients of unselected rows
zeroed, AdamW over full matrices), clone (the reference's clone-and-write forward), lora (peft,
r 16 on gate/up/down)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import psutil
import torch

sys.path.insert(0, os.path.dirname(__file__))
from shapes import batches, build_model, random_neurons  # noqa: E402

from sparse_sub_worker.memory import PeakMemory  # noqa: E402
from sparse_sub_worker.methods.adapters import AdapterSettings, AdapterTrainable  # noqa: E402
from sparse_sub_worker.methods.subnetwork import SubnetworkTrainable  # noqa: E402
from sparse_sub_worker.neuron_sets import NeuronSet  # noqa: E402
from sparse_sub_worker.testing.baselines import clone_and_write_installed, gradient_masking_installed  # noqa: E402
from sparse_sub_worker.training import optimizer_state_bytes  # noqa: E402


def installed(method: str, loaded, neurons):
    if method == "sparse":
        return SubnetworkTrainable(loaded, NeuronSet("x", neurons)).installed()
    if method == "masked":
        return gradient_masking_installed(loaded.layers, neurons)
    if method == "clone":
        return clone_and_write_installed(loaded.model, neurons)
    if method == "lora":
        return AdapterTrainable(loaded, "lora", AdapterSettings(r=16, alpha=32, dropout=0.0)).installed()
    raise SystemExit(f"unknown method {method}")


def memory_now(device: torch.device) -> int:
    if device.type == "cuda":
        return int(torch.cuda.memory_allocated(device))
    return psutil.Process(os.getpid()).memory_info().rss


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--method", required=True, choices=["sparse", "masked", "clone", "lora"])
    parser.add_argument("--share", type=float, default=0.01, help="share of neurons trained (sparse, masked, clone)")
    parser.add_argument("--shape", default="small")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16"])
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--sequence-length", type=int, default=256)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args()

    device = torch.device(args.device)
    dtype = {"auto": torch.bfloat16 if device.type == "cuda" else torch.float32, "float32": torch.float32, "bfloat16": torch.bfloat16}[args.dtype]
    loaded, config = build_model(args.shape, device, dtype)
    neurons = random_neurons(config.num_hidden_layers, config.intermediate_size, args.share)
    data = batches(config.vocab_size, args.batch_size, args.sequence_length, args.warmup + args.steps)
    baseline = memory_now(device)
    result = {"method": args.method, "share": args.share if args.method != "lora" else None, "shape": args.shape,
              "device": str(device), "dtype": str(dtype).removeprefix("torch."), "batch_size": args.batch_size,
              "sequence_length": args.sequence_length, "steps": args.steps}
    try:
        with PeakMemory(device) as peak, installed(args.method, loaded, neurons) as params:
            optimizer = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01)
            loaded.model.train()
            times = []
            for i, ids in enumerate(data):
                ids = ids.to(device)
                if device.type == "cuda":
                    torch.cuda.synchronize()
                start = time.perf_counter()
                loss = loaded.model(input_ids=ids, labels=ids, use_cache=False).loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                grad_bytes = sum(p.grad.numel() * p.grad.element_size() for p in params if p.grad is not None)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                if device.type == "cuda":
                    torch.cuda.synchronize()
                if i >= args.warmup:
                    times.append(time.perf_counter() - start)
            param_bytes = sum(p.numel() * p.element_size() for p in params)
            result.update(
                trainable_parameters=sum(p.numel() for p in params),
                trainable_bytes=param_bytes,
                gradient_bytes=grad_bytes,
                optimizer_state_bytes=optimizer_state_bytes(optimizer),
                seconds_per_step=sorted(times)[len(times) // 2],  # median
            )
        result["peak_bytes"] = peak.bytes - (baseline if device.type == "cpu" else 0)
        result["peak_kind"] = "max allocated" if device.type == "cuda" else "peak RSS - RSS before training"
        result["tokens_per_second"] = args.batch_size * args.sequence_length / result["seconds_per_step"]
    except torch.OutOfMemoryError as error:
        result["error"] = f"out of memory: {str(error).splitlines()[0]}"
    print(json.dumps(result))


if __name__ == "__main__":
    main()
