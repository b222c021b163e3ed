"""Neuron interventions at inference (Tang et al. 2024, "Language-Specific Neurons"): a set of
neurons switched off in every layer, to test whether they are the language's; and steering, one
language's neurons off while another's are pushed up (additively, as "Language Arithmetics",
arXiv 2507.22608), to change the language a model writes.

Switching neuron i off sets act_fn(gate(x))_i * up(x)_i to 0, as the reference's ppl.py does:
that product is exactly the input of down_proj, so the hook zeroes down_proj's input columns.
The weights are never touched and the hooks are removed on exit, whatever happens inside."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from .models.architecture import MlpLayer
from .neuron_sets import NeuronSet


def _edit_columns(zero: torch.Tensor | None, boost: torch.Tensor | None, strength: float):
    def hook(_module, args):
        hidden, *rest = args  # [B, S, I]: act_fn(gate) * up
        if zero is not None:
            hidden = hidden.index_fill(-1, zero, 0)
        if boost is not None:
            hidden = hidden.index_add(-1, boost, torch.full((*hidden.shape[:-1], boost.numel()), strength, dtype=hidden.dtype, device=hidden.device))
        return (hidden, *rest)
    return hook


def _index(indices: list[int], layer: MlpLayer) -> torch.Tensor | None:
    return torch.tensor(indices, dtype=torch.long, device=layer.down_proj.weight.device) if indices else None


@contextmanager
def deactivated(layers: list[MlpLayer], neuron_set: NeuronSet) -> Iterator[int]:
    """Inside the block the set's neurons contribute nothing; yields how many were switched off.
    The set must fit the model (neuron_sets.check_fits)."""
    with steered(layers, neuron_set, None, 0.0):
        yield neuron_set.neuron_count


@contextmanager
def steered(layers: list[MlpLayer], off: NeuronSet | None, boost: NeuronSet | None, strength: float) -> Iterator[None]:
    """Inside the block `off`'s neurons are 0 and `strength` is added to `boost`'s (a neuron in
    both is set to `strength`). Hooks removed on exit; weights untouched."""
    handles = []
    empty: list[list[int]] = [[] for _ in layers]
    try:
        for layer, zero, push in zip(layers, off.layers if off else empty, boost.layers if boost else empty):
            if zero or push:
                hook = _edit_columns(_index(zero, layer), _index(push, layer), strength)
                handles.append(layer.down_proj.register_forward_pre_hook(hook))
        yield
    finally:
        for handle in handles:
            handle.remove()
