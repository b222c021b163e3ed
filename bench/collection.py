"""Activation collection vs a plain forward pass over the same batches, timed in interleaved pairs
(bench/paired.py: per pair, batch by batch); and whether counts are identical across batch sizes. Prints one JSON line.

    python bench/collection.py [--shape small] [--device cpu] [--sequences 32] [--pairs 9]"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from paired import median, summary, timed  # noqa: E402
from shapes import build_model  # noqa: E402

from sparse_sub_worker.activations import count_activations  # noqa: E402
from sparse_sub_worker.corpus import PackedSequences  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", default="small")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sequences", type=int, default=32, help="per trial (32 x 256 = 8,192 tokens: seconds of work on a CPU)")
    parser.add_argument("--sequence-length", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--pairs", type=int, default=9, help="interleaved (plain, collection) pairs")
    args = parser.parse_args()

    device = torch.device(args.device)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    loaded, config = build_model(args.shape, device, dtype)
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, config.vocab_size, (args.sequences, args.sequence_length), generator=generator)
    sequences = PackedSequences(ids, torch.ones_like(ids), ids.numel())
    decoder = loaded.model.get_decoder()

    batches = [slice(start, start + args.batch_size) for start in range(0, len(ids), args.batch_size)]
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def plain(rows: slice) -> None:
        with torch.inference_mode():
            decoder(input_ids=ids[rows].to(device), use_cache=False)

    def collect(rows: slice) -> None:
        count_activations(decoder, loaded.layers, PackedSequences(ids[rows], torch.ones_like(ids[rows]), ids[rows].numel()), args.batch_size)

    def sweep() -> tuple[float, float]:
        """One pair: every batch forward plain and with the counting hooks, alternating batch by
        batch (who goes first too), so bursts of noise land on both sides alike."""
        seconds = [0.0, 0.0]
        for i, rows in enumerate(batches):
            order = ((0, plain), (1, collect)) if i % 2 == 0 else ((1, collect), (0, plain))
            for side, run in order:
                seconds[side] += timed(lambda: run(rows), sync)
        return seconds[0], seconds[1]

    sweep()  # warm-up
    swept = [sweep() for _ in range(args.pairs)]
    pairs = {"a_seconds": [a for a, _ in swept], "b_seconds": [b for _, b in swept], **summary([b / a for a, b in swept])}
    tokens = ids.numel()
    by_batch = {b: count_activations(decoder, loaded.layers, sequences, b).over_zero.cpu() for b in (1, 3, args.batch_size)}
    identical = all(torch.equal(by_batch[1], counts) for counts in by_batch.values())
    print(json.dumps({
        "shape": args.shape, "device": str(device), "dtype": str(dtype).removeprefix("torch."), "tokens": tokens,
        "batch_size": args.batch_size, "sequence_length": args.sequence_length,
        "plain_tokens_per_second": tokens / median(pairs["a_seconds"]), "collect_tokens_per_second": tokens / median(pairs["b_seconds"]),
        "ratio": {k: pairs[k] for k in ("pairs", "ratios", "median", "low", "high")},  # collection / plain
        "counts_identical_across_batch_sizes": identical,
        "batch_sizes_compared": sorted(by_batch),
    }))


if __name__ == "__main__":
    main()
