"""Neuron interventions at inference (Tang et al. 2024, "Language-Specific Neurons"): a set of
neurons switched off in every layer, to test whether they are the language's.

Switching neuron i off sets act_fn(gate(x))_i * up(x)_i to 0, as the reference's ppl.py does:
that product is exactly the input of down_proj, so the hook zeroes down_proj's input columns.
The weights are never touched and the hooks are removed on exit, whatever happens inside."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from .models.architecture import MlpLayer
from .neuron_sets import NeuronSet


def _zero_columns(index: torch.Tensor):
    def hook(_module, args):
        hidden, *rest = args  # [B, S, I]: act_fn(gate) * up
        return (hidden.index_fill(-1, index, 0), *rest)
    return hook


@contextmanager
def deactivated(layers: list[MlpLayer], neuron_set: NeuronSet) -> Iterator[int]:
    """Inside the block the set's neurons contribute nothing; yields how many were switched off.
    The set must fit the model (neuron_sets.check_fits)."""
    handles = []
    try:
        for layer, indices in zip(layers, neuron_set.layers):
            if indices:
                index = torch.tensor(indices, dtype=torch.long, device=layer.down_proj.weight.device)
                handles.append(layer.down_proj.register_forward_pre_hook(_zero_columns(index)))
        yield neuron_set.neuron_count
    finally:
        for handle in handles:
            handle.remove()
