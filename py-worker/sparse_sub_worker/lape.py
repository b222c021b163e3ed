"""LAPE selection (docs/method.md §2, Tang et al. 2024): language-specific neurons are those whose
activation probability is concentrated on few languages (low entropy), chosen globally over
all layers, then assigned to every language on which they fire often."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .errors import invalid, precondition


@dataclass
class Selection:
    # per language (input order): per layer, ascending neuron indices
    neurons: list[list[list[int]]]
    selected_count: int           # neurons picked by entropy before assignment
    filter_threshold: float       # the filter_rate quantile of p
    activation_threshold: float   # the activation_bar_ratio quantile of p
    lape: torch.Tensor            # [L, I] float32, +inf where filtered out
    probabilities: torch.Tensor   # [L, I, K] float32


def _quantile(values: torch.Tensor, rate: float) -> float:
    """The reference's percentile: kthvalue at round(numel * rate) (1-based)."""
    k = min(max(round(values.numel() * rate), 1), values.numel())
    return values.kthvalue(k).values.item()


def select_language_neurons(
    over_zero: torch.Tensor,   # [L, I, K] int64: activation counts per language
    token_counts: torch.Tensor,  # [K] int64: tokens seen per language
    top_rate: float = 0.01,
    filter_rate: float = 0.95,
    activation_bar_ratio: float = 0.95,
) -> Selection:
    """The reference's computation, operation for operation and in its precision (float32:
    torch divides integer counts into the default float dtype), so the same counts select the
    same neurons. In float64, near-ties at the top-k cut and values at the quantile bars fall
    differently at the paper's scale (docs/method.md, "LAPE")."""
    if over_zero.dim() != 3 or over_zero.shape[-1] != token_counts.numel():
        raise invalid("counts", f"counts shape {tuple(over_zero.shape)} does not match {token_counts.numel()} languages")
    if over_zero.shape[-1] < 2:
        raise precondition("TOO_FEW_LANGUAGES", "LAPE needs activation counts for at least 2 languages", "counts")
    if (token_counts <= 0).any():
        raise precondition("EMPTY_COUNTS", "a language has a token count of 0", "counts")

    p = over_zero.to(torch.int64) / token_counts.to(torch.int64)       # [L, I, K] float32, as the reference
    return select_from_probabilities(p, top_rate, filter_rate, activation_bar_ratio)


def probabilities(counts: torch.Tensor, token_count: int) -> torch.Tensor:
    """One language's p = over_zero / n, [L, I] float32: the same division, element for element,
    as the reference's broadcast over all languages at once."""
    return counts.to(torch.int64) / torch.tensor(token_count, dtype=torch.int64)


def _entropy(p: torch.Tensor) -> torch.Tensor:
    """LAPE of each neuron from its [.., K] probabilities: entropy of p normalised over languages."""
    q = p / p.sum(dim=-1, keepdim=True)
    q[torch.isnan(q)] = 0                                              # 0/0 -> 0
    log_q = torch.where(q > 0, q.log(), 0)                             # 0 log 0 = 0
    return -torch.sum(q * log_q, dim=-1)


def select_from_probabilities(
    p: torch.Tensor,  # [L, I, K] float32: activation probability per language
    top_rate: float = 0.01,
    filter_rate: float = 0.95,
    activation_bar_ratio: float = 0.95,
) -> Selection:
    """LAPE on probabilities already computed (e.g. filled one language at a time from disk, so
    hundreds of languages never exist as int64 counts in memory at once). The entropy is taken
    one layer at a time: the temporaries stay [I, K] instead of [L, I, K]."""
    for name, value in (("top_rate", top_rate), ("filter_rate", filter_rate), ("activation_bar_ratio", activation_bar_ratio)):
        if not 0 < value <= 1:
            raise invalid(name, f"must be in (0, 1], got {value}")
    if p.dim() != 3 or p.shape[-1] < 2:
        raise precondition("TOO_FEW_LANGUAGES", "LAPE needs activation counts for at least 2 languages", "counts")
    num_layers, intermediate, _ = p.shape
    lape = torch.stack([_entropy(p[layer]) for layer in range(num_layers)])  # [L, I]

    flat_p = p.flatten()
    filter_threshold = _quantile(flat_p, filter_rate)
    never_high = (p > filter_threshold).sum(dim=-1) == 0               # [L, I]
    lape[never_high] = torch.inf

    count = round(num_layers * intermediate * top_rate)
    _, order = lape.flatten().topk(count, largest=False)
    layer_of, neuron_of = order // intermediate, order % intermediate

    activation_threshold = _quantile(flat_p, activation_bar_ratio)
    selected_p = p[layer_of, neuron_of]                                # [count, K]
    neurons: list[list[list[int]]] = []
    for k in range(p.shape[-1]):  # every language, also one left with no neuron (the reference drops trailing ones)
        chosen = selected_p[:, k] > activation_threshold
        per_layer: list[list[int]] = [[] for _ in range(num_layers)]
        for layer, neuron in zip(layer_of[chosen].tolist(), neuron_of[chosen].tolist()):
            per_layer[layer].append(neuron)
        neurons.append([sorted(indices) for indices in per_layer])
    return Selection(neurons, count, filter_threshold, activation_threshold, lape, p)
