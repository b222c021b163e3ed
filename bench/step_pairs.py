"""Step time of the sparse trainer against LoRA and the reference's clone-and-write, in one process
and interleaved (bench/paired.py), so machine drift hits every competitor alike: each round
installs each competitor in turn on the same model, times a few steps (median), removes it.
Peak memory stays with training.py (one competitor per process). Prints one JSON line.

    python bench/step_pairs.py [--shape small] [--device cpu] [--rounds 9] [--steps 3]"""

from __future__ import annotations

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from paired import median, summary, timed  # noqa: E402
from shapes import batches, build_model, random_neurons  # noqa: E402
from training import installed  # noqa: E402

COMPETITORS = ("sparse", "lora", "clone")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", default="small")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--share", type=float, default=0.01)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--sequence-length", type=int, default=256)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per competitor per round (median)")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()

    device = torch.device(args.device)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    loaded, config = build_model(args.shape, device, dtype)
    neurons = random_neurons(config.num_hidden_layers, config.intermediate_size, args.share)
    data = [ids.to(device) for ids in batches(config.vocab_size, args.batch_size, args.sequence_length, args.steps + 1)]
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def step_time(method: str) -> float:
        with installed(method, loaded, neurons) as params:
            optimizer = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01)
            loaded.model.train()

            def step(ids):
                loaded.model(input_ids=ids, labels=ids, use_cache=False).loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)

            step(data[0])  # warm-up: allocations, AdamW state
            seconds = median([timed(lambda: step(ids), sync) for ids in data[1:]])
        loaded.model.eval()
        return seconds

    for method in COMPETITORS:  # warm-up round, untimed
        step_time(method)
    times: dict[str, list[float]] = {m: [] for m in COMPETITORS}
    for round_ in range(args.rounds):
        order = COMPETITORS[round_ % 3:] + COMPETITORS[: round_ % 3]  # rotate who goes first
        for method in order:
            times[method].append(step_time(method))
    ratio = lambda other: summary([s / o for s, o in zip(times["sparse"], times[other])])
    print(json.dumps({
        "shape": args.shape, "device": str(device), "dtype": str(dtype).removeprefix("torch."), "share": args.share,
        "batch_size": args.batch_size, "sequence_length": args.sequence_length, "steps": args.steps, "rounds": args.rounds,
        "seconds_per_step": {m: median(t) for m, t in times.items()},
        "sparse_vs_lora": ratio("lora"), "sparse_vs_clone": ratio("clone"),
    }))


if __name__ == "__main__":
    main()
