"""Neuron interventions at inference (Tang et al. 2024, "Language-Specific Neurons"): a set of
neurons switched off in every layer, to test whether they are the language's; and steering, one
language's neurons off while another's are pushed up, to change the language a model writes.
Pushing up is either additive (a constant added to act_fn(gate) * up, as "Language Arithmetics",
arXiv 2507.22608) or Tang's: act_fn(gate) of each neuron set to its mean active value on the
target language's text (times a factor), so the neuron passes mean * up(x) to down_proj.

Switching neuron i off sets act_fn(gate(x))_i * up(x)_i to 0, as the reference's ppl.py does:
that product is exactly the input of down_proj, so the hook zeroes down_proj's input columns.
The weights are never touched and the hooks are removed on exit, whatever happens inside."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from .models.architecture import MlpLayer
from .neuron_sets import NeuronSet


def _edit_columns(zero: torch.Tensor | None, boost: torch.Tensor | None, strength: float, means: torch.Tensor | None, up_out: dict):
    def hook(_module, args):
        hidden, *rest = args  # [B, S, I]: act_fn(gate) * up
        if zero is not None:
            hidden = hidden.index_fill(-1, zero, 0)
        if boost is not None and means is None:
            hidden = hidden.index_add(-1, boost, torch.full((*hidden.shape[:-1], boost.numel()), strength, dtype=hidden.dtype, device=hidden.device))
        elif boost is not None:
            # act_fn(gate)_i := strength * mean_i, so the product becomes strength * mean_i * up(x)_i
            up = up_out.pop("value").index_select(-1, boost)
            hidden = hidden.index_copy(-1, boost, (up * (strength * means)).to(hidden.dtype))
        return (hidden, *rest)
    return hook


def _keep_output(cell: dict):
    def hook(_module, _args, output):
        cell["value"] = output
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
def steered(layers: list[MlpLayer], off: NeuronSet | None, boost: NeuronSet | None, strength: float,
            mean_active: torch.Tensor | None = None) -> Iterator[None]:
    """Inside the block `off`'s neurons are 0 and `boost`'s are pushed up: with `mean_active`
    ([L, I], activations.ActivationCounts.mean_active_values of the boost language), act_fn(gate)
    is set to strength * the neuron's mean active value (Tang et al.; a neuron in both sets too);
    without, `strength` is added to act_fn(gate) * up (a neuron in both is set to `strength`).
    Hooks removed on exit; weights untouched."""
    handles = []
    empty: list[list[int]] = [[] for _ in layers]
    try:
        for layer, zero, push in zip(layers, off.layers if off else empty, boost.layers if boost else empty):
            if not (zero or push):
                continue
            push_index, means, up_out = _index(push, layer), None, {}
            if mean_active is not None and push_index is not None:
                means = mean_active[layer.index].to(layer.down_proj.weight.device).index_select(0, push_index)
                handles.append(layer.up_proj.register_forward_hook(_keep_output(up_out)))
            hook = _edit_columns(_index(zero, layer), push_index, strength, means, up_out)
            handles.append(layer.down_proj.register_forward_pre_hook(hook))
        yield
    finally:
        for handle in handles:
            handle.remove()
