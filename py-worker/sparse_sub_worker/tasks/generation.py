"""Batched greedy generation (REFERENCE §5: temperature 0, repetition penalty 1.1, at most 128
new tokens, stop at newline). Prompts are sorted by length and left-padded per batch."""

from __future__ import annotations

from collections.abc import Callable

import torch

from .loglik import left_pad, pad_id


@torch.inference_mode()
def generate(model, tokenizer, prompts: list[str], batch_size: int = 8, max_new_tokens: int = 128,
             repetition_penalty: float = 1.1, on_batch: Callable[[int], None] = lambda done: None) -> list[str]:
    device = next(model.parameters()).device
    pad = pad_id(tokenizer)
    encoded = [tokenizer(p).input_ids for p in prompts]
    order = sorted(range(len(prompts)), key=lambda i: -len(encoded[i]))
    outputs = [""] * len(prompts)
    done = 0
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        ids, mask = left_pad([encoded[i] for i in batch], pad)
        width = ids.shape[1]
        generated = model.generate(
            input_ids=ids.to(device), attention_mask=mask.to(device), do_sample=False, max_new_tokens=max_new_tokens,
            repetition_penalty=repetition_penalty, pad_token_id=pad, stop_strings=["\n"], tokenizer=tokenizer,
        )
        for row, i in enumerate(batch):
            text = tokenizer.decode(generated[row, width:], skip_special_tokens=True)
            outputs[i] = text.split("\n", 1)[0].strip()
        done += len(batch)
        on_batch(done)
    return outputs
