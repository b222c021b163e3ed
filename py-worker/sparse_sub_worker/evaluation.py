"""Held-out language modelling loss and perplexity."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .corpus import PackedSequences


@dataclass
class Score:
    mean_loss: float  # nats per predicted token
    tokens: int       # predicted tokens

    @property
    def perplexity(self) -> float:
        return math.exp(self.mean_loss)


def score_sequences(
    model: torch.nn.Module,
    sequences: PackedSequences,
    batch_size: int,
    on_batch: Callable[[int], None] = lambda done: None,
) -> Score:
    """Token-weighted next-token NLL over all sequences; padding is never predicted nor scored."""
    device = next(model.parameters()).device
    total_nll = 0.0
    total_tokens = 0
    was_training = model.training
    model.eval()
    try:
        # no_grad, not inference_mode: validation runs between training steps, and FSDP's
        # gathered weights made under inference_mode could not be updated afterwards
        with torch.no_grad():
            for start in range(0, len(sequences), batch_size):
                ids = sequences.input_ids[start : start + batch_size].to(device)        # [B, S]
                mask = sequences.attention_mask[start : start + batch_size].to(device)  # [B, S]
                logits = model(input_ids=ids, attention_mask=mask, use_cache=False).logits  # [B, S, V]
                targets = ids[:, 1:].masked_fill(mask[:, 1:] == 0, -100)              # [B, S-1]
                nll = F.cross_entropy(logits[:, :-1].flatten(0, 1).float(), targets.flatten(), ignore_index=-100, reduction="sum")
                total_nll += nll.item()
                total_tokens += int((targets != -100).sum().item())
                on_batch(min(start + batch_size, len(sequences)))
    finally:
        model.train(was_training)
    return Score(total_nll / max(total_tokens, 1), total_tokens)
