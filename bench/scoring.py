"""Multiple-choice log-likelihood scoring: the shared-context path (each passage encoded once,
its options scored from the cached keys/values) vs scoring each (passage + option) on its own.
Belebele-shaped items: a long passage, four short options. Prints one JSON line.

    python bench/scoring.py [--shape small] [--device cpu] [--items 16]"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from shapes import build_model  # noqa: E402

from sparse_sub_worker.models.text_encoding import TextEncoder  # noqa: E402
from sparse_sub_worker.tasks.loglik import forward_tokens, score_choices, score_independent  # noqa: E402


class WordTokenizer:
    """One token per word (ids from a fixed hash): the cost depends on lengths, not on words."""

    def __init__(self, vocab_size: int):
        self.vocab_size = vocab_size
        self.pad_token_id = 0
        self.eos_token_id = 0
        self.bos_token_id = 1

    def __call__(self, text: str, add_special_tokens: bool = True):
        ids = [1 + (sum(map(ord, w)) * 2654435761) % (self.vocab_size - 1) for w in text.split()]
        return {"input_ids": ([1] if add_special_tokens else []) + ids}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", default="small")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--items", type=int, default=16)
    parser.add_argument("--passage-words", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=4)
    args = parser.parse_args()
    device = torch.device(args.device)
    loaded, config = build_model(args.shape, device, torch.bfloat16 if device.type == "cuda" else torch.float32)
    tokenizer = TextEncoder(WordTokenizer(config.vocab_size), add_bos=True, reason="benchmark")
    rng = random.Random(0)
    word = lambda: "".join(rng.choice("abcdefghij") for _ in range(5))
    contexts = [" ".join(word() for _ in range(args.passage_words)) + " Question: " + " ".join(word() for _ in range(15)) + " Answer:" for _ in range(args.items)]
    choices = [[" " + " ".join(word() for _ in range(10)) for _ in range(4)] for _ in range(args.items)]

    def timed(fn):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        out = fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return out, time.perf_counter() - start

    score_choices(loaded.model, tokenizer, contexts[:2], choices[:2], args.batch_size)  # warm up
    shared, shared_s = timed(lambda: score_choices(loaded.model, tokenizer, contexts, choices, args.batch_size))
    alone, alone_s = timed(lambda: score_independent(loaded.model, tokenizer, contexts, choices, args.batch_size))
    agree = all(max(range(4), key=a.__getitem__) == max(range(4), key=b.__getitem__) for a, b in zip(shared, alone))
    print(json.dumps({
        "items": args.items, "choices": 4, "passage_words": args.passage_words,
        "shared_tokens": forward_tokens(tokenizer, contexts, choices, shared=True),
        "independent_tokens": forward_tokens(tokenizer, contexts, choices, shared=False),
        "shared_seconds": shared_s, "independent_seconds": alone_s, "same_predictions": agree,
    }))


if __name__ == "__main__":
    main()
