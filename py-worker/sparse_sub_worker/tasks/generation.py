"""Batched greedy generation (docs/method.md §4: temperature 0, repetition penalty 1.1 over prompt
and generated tokens, at most 128 new tokens, stop at newline). Prompts are sorted by length
and left-padded per batch; an answer must not depend on what else is in its batch.

transformers' own repetition penalty gathers over every input id, left padding included. The
pad id is usually EOS (SmolLM2's `<|im_end|>`), so in a padded row EOS itself gets penalized and
the answer runs on, while the same prompt alone stops: 7 of 12 demo letter answers differed
between batch 1 and batch 8. A dedicated pad token would need a new embedding row (changing the model),
so instead the penalty is applied by PaddingAwareRepetitionPenalty, which skips each row's
left padding and is otherwise the same formula."""

from __future__ import annotations

from collections.abc import Callable

import torch
from transformers import LogitsProcessor, LogitsProcessorList, StoppingCriteria, StoppingCriteriaList

from ..models.text_encoding import TextEncoder
from .loglik import left_pad


class PaddingAwareRepetitionPenalty(LogitsProcessor):
    """The CTRL repetition penalty (divide a positive logit, multiply a negative one, once per
    distinct token seen) over the row's prompt and generated tokens, its left padding excluded."""

    def __init__(self, penalty: float, padding: torch.Tensor) -> None:
        if penalty <= 0:
            raise ValueError(f"repetition penalty must be > 0, got {penalty}")
        self.penalty = penalty
        self.padding = padding  # [B] left-pad length of each row

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        padding = self.padding.to(input_ids.device)[:, None]                               # [B, 1]
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)[None]       # [1, T]
        padded = positions < padding                                                       # [B, T]
        # Padding positions repeat the row's first real token: penalizing a token twice is the
        # same as once (gather and scatter of equal values), so they add nothing.
        first_real = input_ids.gather(1, padding)                                          # [B, 1]
        seen = torch.where(padded, first_real, input_ids)                                  # [B, T]
        logits = scores.gather(1, seen)
        logits = torch.where(logits < 0, logits * self.penalty, logits / self.penalty)
        return scores.scatter(1, seen, logits)


class StopAtNewline(StoppingCriteria):
    """Ends a row at its first generated token that contains a newline: what
    StopStringCriteria(["\\n"]) decides, without rebuilding its tables over the whole vocabulary on
    every generate call (~2 s per batch for Gemma-3's 262k tokens)."""

    def __init__(self, newline_ids: list[int], prompt_width: int) -> None:
        self.newline_ids = torch.tensor(newline_ids, dtype=torch.long)
        self.prompt_width = prompt_width

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs) -> torch.BoolTensor:
        if input_ids.shape[1] <= self.prompt_width:
            return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        return torch.isin(input_ids[:, -1], self.newline_ids.to(input_ids.device))


@torch.inference_mode()
def generate_tokens(model, encoder: TextEncoder, prompts: list[str], batch_size: int = 8, max_new_tokens: int = 128,
                    repetition_penalty: float = 1.1, on_batch: Callable[[int], None] = lambda done: None) -> list[list[int]]:
    """The new token ids of each prompt's greedy answer, up to (not including) EOS or padding."""
    device = next(model.parameters()).device
    pad = encoder.pad_id
    encoded = [encoder.encode(p) for p in prompts]
    order = sorted(range(len(prompts)), key=lambda i: -len(encoded[i]))
    outputs: list[list[int]] = [[] for _ in prompts]
    done = 0
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        ids, mask = left_pad([encoded[i] for i in batch], pad)
        width = ids.shape[1]
        padding = width - mask.sum(-1)                                                     # [B]
        generated = model.generate(
            input_ids=ids.to(device), attention_mask=mask.to(device), do_sample=False, max_new_tokens=max_new_tokens,
            repetition_penalty=1.0,  # the model's generation config must not add transformers' own on top
            logits_processor=LogitsProcessorList([PaddingAwareRepetitionPenalty(repetition_penalty, padding)]),
            pad_token_id=pad, stopping_criteria=StoppingCriteriaList([StopAtNewline(encoder.newline_ids, width)]),
        )
        for row, i in enumerate(batch):
            new = generated[row, width:].tolist()
            # a row that finished early is filled with padding (EOS) after its end
            stop = next((k for k, token in enumerate(new) if token in (encoder.eos_id, pad)), len(new))
            outputs[i] = new[:stop]
        done += len(batch)
        on_batch(done)
    return outputs


def generate(model, encoder: TextEncoder, prompts: list[str], batch_size: int = 8, max_new_tokens: int = 128,
             repetition_penalty: float = 1.1, on_batch: Callable[[int], None] = lambda done: None) -> list[str]:
    """Each prompt's greedy answer as text, cut at the first newline."""
    tokens = generate_tokens(model, encoder, prompts, batch_size, max_new_tokens, repetition_penalty, on_batch)
    return [encoder.decode(ids).split("\n", 1)[0].strip() for ids in tokens]
