"""Activation statistics (docs/method.md §1): per layer and neuron, the number of tokens on which
act_fn(gate_proj(x)) > 0, plus the number of tokens seen; and the sum of act_fn(gate_proj(x)) over
those tokens, whose mean is the neuron's mean active value (what Tang et al.'s steering sets a
target language's neurons to)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from .atomic import atomic_path
from .corpus import PackedSequences
from .errors import invalid, not_found, precondition
from .lape import probabilities
from .models.architecture import MlpLayer

# File layout (documented in README "Run directory"):
#   over_zero   int64 [num_layers, intermediate_size]  tokens on which each neuron fired
#   token_count int64 [1]                              tokens seen (n)
#   active_sum  float64 [num_layers, intermediate_size] sum of act_fn(gate) over those tokens
#               (only when collected with active_sums)
# metadata: language, model
COUNTS_KEY = "over_zero"
TOKENS_KEY = "token_count"
ACTIVE_SUM_KEY = "active_sum"


@dataclass
class ActivationCounts:
    over_zero: torch.Tensor  # [L, I] int64
    token_count: int
    active_sum: torch.Tensor | None = None  # [L, I] float64; None unless collected with active_sums

    def mean_active_values(self, field_name: str = "counts") -> torch.Tensor:
        """[L, I] float32: each neuron's mean act_fn(gate) over the tokens it fired on (0 if never)."""
        if self.active_sum is None:
            raise precondition("NO_ACTIVE_VALUES", f"{field_name}: these activation counts hold no active sums: collect them again with active_sums (a plan with evaluation.steering in mode \"mean\" does)", field_name)
        fired = self.over_zero.to(torch.float64)
        return torch.where(fired > 0, self.active_sum / fired.clamp(min=1), 0.0).to(torch.float32)


def count_activations(
    decoder: torch.nn.Module,
    layers: list[MlpLayer],
    sequences: PackedSequences,
    batch_size: int,
    on_batch: Callable[[int, int], None] = lambda tokens_done, tokens_total: None,
    active_sums: bool = False,
) -> ActivationCounts:
    """Runs the decoder (no LM head: logits are not needed) over packed sequences with one
    forward hook per layer's gate projection. Counters stay on the device as int64. A BOS
    column is fed to the model but not counted: it is the same token in every language, so it
    carries no language signal, and n counts text tokens only. active_sums: also sum act_fn(gate)
    over the fired tokens (one more pass over the gate output: a few percent of the time)."""
    device = layers[0].gate_proj.weight.device
    intermediate = layers[0].gate_proj.out_features
    over_zero = torch.zeros(len(layers), intermediate, dtype=torch.int64, device=device)
    active_sum = torch.zeros(len(layers), intermediate, dtype=torch.float64, device=device) if active_sums else None
    first = 1 if sequences.bos_first else 0  # first counted position

    def hook_for(layer: MlpLayer):
        def hook(_module, _inputs, gate_out):  # gate_out: [B, S, I]
            gate_out = gate_out[:, first:]
            # act_fn(g) > 0 <=> g > 0 for SiLU/GELU (architecture.py checks the activation).
            # int32 per batch (a batch holds < 2^31 tokens) sums twice as fast as int64 on CPU
            over_zero[layer.index] += (gate_out > 0).reshape(-1, intermediate).sum(dim=0, dtype=torch.int32)
            # act_fn(g) <= 0 exactly where g <= 0, so its positive part is its value on the fired
            # tokens; float32 within a batch, float64 across batches (100 M tokens would lose digits)
            if active_sum is not None:
                active_sum[layer.index] += layer.act_fn(gate_out).clamp_(min=0).reshape(-1, intermediate).sum(dim=0, dtype=torch.float32)
        return hook

    handles = [layer.gate_proj.register_forward_hook(hook_for(layer)) for layer in layers]
    total_tokens = sequences.token_count
    done = 0
    try:
        with torch.inference_mode():
            for start in range(0, len(sequences), batch_size):
                batch = sequences.input_ids[start : start + batch_size].to(device)  # [B, S]
                decoder(input_ids=batch, use_cache=False)
                done += batch[:, first:].numel()
                on_batch(done, total_tokens)
    finally:
        for handle in handles:
            handle.remove()
    return ActivationCounts(over_zero, done, active_sum)


def save_counts(path: str | Path, counts: ActivationCounts, language: str, model: str) -> None:
    tensors = {COUNTS_KEY: counts.over_zero.cpu().contiguous(), TOKENS_KEY: torch.tensor([counts.token_count], dtype=torch.int64)}
    if counts.active_sum is not None:
        tensors[ACTIVE_SUM_KEY] = counts.active_sum.cpu().to(torch.float64).contiguous()
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"language": language, "model": model, "format": "sparse-sub/activation-counts@1"})


def load_counts(path: str | Path, field_name: str) -> ActivationCounts:
    if not Path(path).is_file():
        raise not_found(field_name, str(path), "activation counts file")
    tensors = load_file(str(path))
    if COUNTS_KEY not in tensors or TOKENS_KEY not in tensors:
        raise precondition("BAD_COUNTS_FILE", f"{field_name}: {path} lacks '{COUNTS_KEY}' or '{TOKENS_KEY}'", field_name)
    active_sum = tensors.get(ACTIVE_SUM_KEY)
    return ActivationCounts(tensors[COUNTS_KEY].to(torch.int64), int(tensors[TOKENS_KEY].item()), active_sum)


def activation_probabilities(files, field_name: str = "counts") -> torch.Tensor:
    """p [L, I, K] float32 from K counts files (objects with .path), read one at a time: only one
    language's int64 counts are in memory at once next to p (an atlas of 500 languages of an 8B
    model holds 0.9 GB of p instead of 1.8 GB of counts plus a stacked copy)."""
    p: torch.Tensor | None = None
    for k, entry in enumerate(files):
        counts = load_counts(entry.path, f"{field_name}[{k}].path")
        if counts.token_count <= 0:
            raise precondition("EMPTY_COUNTS", f"{field_name}[{k}].path: {entry.path} has a token count of 0", f"{field_name}[{k}].path")
        if p is None:
            p = torch.empty(*counts.over_zero.shape, len(files), dtype=torch.float32)
        elif tuple(counts.over_zero.shape) != tuple(p.shape[:2]):
            raise invalid(field_name, f"counts come from different model shapes: {tuple(p.shape[:2])} and {tuple(counts.over_zero.shape)} ({entry.path})")
        p[:, :, k] = probabilities(counts.over_zero, counts.token_count)
    assert p is not None
    return p


class Throughput:
    """Tokens per second since construction."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def rate(self, tokens: int) -> float:
        elapsed = self.elapsed()
        return tokens / elapsed if elapsed > 0 else 0.0
