"""Log-likelihood of continuations given contexts, for multiple-choice scoring.

Shared-context path (`score_choices`): contexts of a batch are encoded ONCE (left-padded); the
key/value cache serves each choice's row and only the continuations run a second forward.
For k choices of a long passage this costs about 1/k of scoring each (context + choice)
independently (`score_independent`, kept as the reference the tests compare against).
Continuations are tokenized on their own (they start with a space), so both paths score the
same tokens. Contexts start with BOS when the model expects it (models/text_encoding.py)."""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..models.text_encoding import TextEncoder


def left_pad(rows: list[list[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids, attention mask) [N, longest], padding on the left: generation continues every row."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, width - len(row):] = torch.tensor(row)
        mask[i, width - len(row):] = 1
    return ids, mask


def right_pad(rows: list[list[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids, attention mask) [N, longest], padding on the right."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
        mask[i, : len(row)] = 1
    return ids, mask


def last_logits_only(model) -> dict:
    """Forward kwargs that compute the LM head at the last position only, where the model allows
    it: a context needs just the next-token distribution, and with a 262k vocabulary (Gemma-3)
    the head over every context position is most of the work."""
    import inspect

    base = model.get_base_model() if hasattr(model, "get_base_model") else model  # peft wraps the model
    return {"logits_to_keep": 1} if "logits_to_keep" in inspect.signature(base.forward).parameters else {}


@torch.inference_mode()
def score_choices(model, encoder: TextEncoder, contexts: list[str], choices: list[list[str]], batch_size: int = 8,
                  on_batch: Callable[[int], None] = lambda done: None) -> list[list[float]]:
    """Sum of log p(choice tokens | context) for every choice of every item.

    `batch_size` bounds the rows of every forward: a batch of contexts, then their choices in
    chunks of similar length (sorted, so a short option is not padded to the longest one: in
    UDHR reading, padding to the batch's longest option tripled the continuation's work)."""
    device = next(model.parameters()).device
    pad = encoder.pad_id
    context_ids = [encoder.encode(c) for c in contexts]
    choice_ids = [[encoder.encode(c, bos=False) for c in item] for item in choices]
    order = sorted(range(len(contexts)), key=lambda i: -len(context_ids[i]))  # similar lengths batch together
    scores: list[list[float]] = [[0.0] * len(item) for item in choices]
    done = 0
    last_only = last_logits_only(model)
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        ids, mask = left_pad([context_ids[i] for i in batch], pad)                     # [B, C]
        ids, mask = ids.to(device), mask.to(device)
        positions = (mask.cumsum(-1) - 1).clamp_min(0)
        out = model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, **last_only)
        last = F.log_softmax(out.logits[:, -1].float(), dim=-1)                         # [B, V]
        # every (item of the batch, choice) row, longest first
        rows = sorted(((b, k) for b, i in enumerate(batch) for k in range(len(choice_ids[i]))),
                      key=lambda row: -len(choice_ids[batch[row[0]]][row[1]]))
        for chunk_start in range(0, len(rows), batch_size):
            chunk = rows[chunk_start : chunk_start + batch_size]
            owners = torch.tensor([b for b, _ in chunk], device=device)                  # [N] context row of each
            totals = _continuation_scores(model, out.past_key_values, owners, mask, last,
                                          [choice_ids[batch[b]][k] for b, k in chunk], pad)
            for (b, k), total in zip(chunk, totals):
                scores[batch[b]][k] = total
        done += len(batch)
        on_batch(done)
    return scores


def _continuation_scores(model, cache, owners: torch.Tensor, context_mask: torch.Tensor, last: torch.Tensor,
                         rows: list[list[int]], pad: int) -> list[float]:
    """Sum of log p over each row's tokens, continuing its owner's cached context. The cache is
    copied for the chunk's rows (the context batch's own cache serves every chunk)."""
    device = owners.device
    chunk_cache = copy.copy(cache)  # shallow: the layers' tensors are replaced below, not changed in place
    chunk_cache.layers = [copy.copy(layer) for layer in cache.layers]
    chunk_cache.batch_select_indices(owners)
    cont, cont_mask = right_pad(rows, pad)                                             # [N, T]
    cont, cont_mask = cont.to(device), cont_mask.to(device)
    ctx_mask = context_mask[owners]                                                     # [N, C]
    cont_positions = ctx_mask.sum(-1, keepdim=True) + torch.arange(cont.shape[1], device=device)[None]
    logits = model(input_ids=cont, attention_mask=torch.cat([ctx_mask, cont_mask], dim=1),
                   position_ids=cont_positions, past_key_values=chunk_cache, use_cache=True).logits
    first = last[owners].gather(1, cont[:, :1])                                         # [N, 1]
    # log-softmax only where a real token is predicted: right padding and the last position
    # are no work (the vocabulary may be 262k wide)
    predicts = cont_mask[:, 1:].bool()                                                  # [N, T-1]
    scored = F.log_softmax(logits[:, :-1][predicts].float(), dim=-1)                   # [n, V]
    rest = torch.zeros(predicts.shape, dtype=scored.dtype, device=device)
    rest[predicts] = scored.gather(1, cont[:, 1:][predicts][:, None]).squeeze(1)
    return (torch.cat([first, rest], dim=1) * cont_mask).sum(-1).tolist()


@torch.inference_mode()
def score_independent(model, encoder: TextEncoder, contexts: list[str], choices: list[list[str]], batch_size: int = 8) -> list[list[float]]:
    """The straightforward way: one forward over (context + choice) per choice."""
    device = next(model.parameters()).device
    pad = encoder.pad_id
    requests = [(i, encoder.encode(ctx), encoder.encode(c, bos=False)) for i, ctx in enumerate(contexts) for c in choices[i]]
    scores: list[list[float]] = [[] for _ in contexts]
    for start in range(0, len(requests), batch_size):
        batch = requests[start : start + batch_size]
        ids, mask = right_pad([c + t for _, c, t in batch], pad)
        logprobs = F.log_softmax(model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float(), dim=-1)
        for row, (i, ctx, cont) in enumerate(batch):
            positions = torch.arange(len(ctx) - 1, len(ctx) + len(cont) - 1, device=device)
            targets = torch.tensor(cont, device=device)
            scores[i].append(float(logprobs[row, positions].gather(1, targets[:, None]).sum()))
    return scores


def forward_tokens(encoder: TextEncoder, contexts: list[str], choices: list[list[str]], shared: bool) -> int:
    """Tokens run through the model by each path (what the benchmark compares)."""
    ctx = [len(encoder.encode(c)) for c in contexts]
    cont = [[len(encoder.encode(c, bos=False)) for c in item] for item in choices]
    if shared:
        return sum(ctx) + sum(sum(item) for item in cont)
    return sum(len(item) * c + sum(item) for c, item in zip(ctx, cont))
