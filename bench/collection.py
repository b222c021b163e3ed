"""Activation collection vs a plain forward pass over the same batches; and whether counts are
identical across batch sizes. Prints one JSON line.

    python bench/collection.py [--shape small] [--device cpu] [--sequences 16]"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from shapes import build_model  # noqa: E402

from sparse_sub_worker.activations import count_activations  # noqa: E402
from sparse_sub_worker.corpus import PackedSequences  # noqa: E402


def timed(fn, device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", default="small")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sequences", type=int, default=16)
    parser.add_argument("--sequence-length", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    device = torch.device(args.device)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    loaded, config = build_model(args.shape, device, dtype)
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, config.vocab_size, (args.sequences, args.sequence_length), generator=generator)
    sequences = PackedSequences(ids, torch.ones_like(ids), ids.numel())
    decoder = loaded.model.get_decoder()

    def plain() -> None:
        with torch.inference_mode():
            for start in range(0, len(ids), args.batch_size):
                decoder(input_ids=ids[start : start + args.batch_size].to(device), use_cache=False)

    collect = lambda: count_activations(decoder, loaded.layers, sequences, args.batch_size)
    plain(), collect()  # warm up
    plain_times, collect_times = [], []
    for _ in range(args.repeats):  # interleaved: drift on a shared machine hits both alike
        plain_times.append(timed(plain, device))
        collect_times.append(timed(collect, device))
    tokens = ids.numel()
    plain_s, collect_s = min(plain_times), min(collect_times)
    by_batch = {b: count_activations(decoder, loaded.layers, sequences, b).over_zero.cpu() for b in (1, 3, args.batch_size)}
    identical = all(torch.equal(by_batch[1], counts) for counts in by_batch.values())
    print(json.dumps({
        "shape": args.shape, "device": str(device), "dtype": str(dtype).removeprefix("torch."), "tokens": tokens,
        "batch_size": args.batch_size, "sequence_length": args.sequence_length,
        "plain_tokens_per_second": tokens / plain_s, "collect_tokens_per_second": tokens / collect_s,
        "overhead": collect_s / plain_s - 1, "counts_identical_across_batch_sizes": identical,
        "batch_sizes_compared": sorted(by_batch),
    }))


if __name__ == "__main__":
    main()
