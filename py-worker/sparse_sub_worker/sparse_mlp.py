"""The subnetwork trainer's layer: a gated MLP in which only chosen neurons' weights train.

Reference (docs/method.md §3) clones each full weight matrix every forward, writes the trainable
slices in and runs the dense MLP: a full clone and a full weight-gradient per layer per step.
Here the frozen matrices are used as they are and only the selected slices are corrected:

    gate = x W_g^T               then columns idx += x (G - G0)^T  (G = trainable gate rows [k, H])
    up   = x W_u^T               then columns idx += x (U - U0)^T  (U = trainable up rows   [k, H])
    a    = act(gate) * up                                          [..., I]
    out  = a W_d^T + a[..., idx] (D - D0)^T                        (D = trainable down cols [H, k],
                                                                    D0 = their frozen base values)

(G0, U0: the frozen base rows) which equals the dense MLP with the slices written in. Autograd then only produces gradients
for G, U, D ([k, H] each): frozen matrices get none, and AdamW state exists only for slices.
The corrections are added in place (index_add_): the backward pass passes the output gradient
through unchanged instead of copying a zeroed [tokens, I] tensor per projection (index_copy).

The slices are kept in float32 whatever the model's dtype (a bf16 weight cannot absorb an
update of lr 1e-4: it rounds away), and cast to the model's dtype in the forward pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

from .models.architecture import MlpLayer, decoder_layers

COMPONENTS = ("gate", "up", "down")


class NeuronSliceMLP(nn.Module):
    """A gated MLP whose chosen neurons' slices (gate rows, up rows, down columns) differ from
    the frozen base by `deltas()`; subclasses say what trains. The forward pass is the formula
    above with (G - G0), (U - U0), (D - D0) replaced by the deltas."""

    def __init__(self, layer: MlpLayer, neuron_indices: torch.Tensor, components: tuple[str, ...] = COMPONENTS):
        super().__init__()
        self._base = (layer,)  # a tuple, not a submodule: base weights stay out of .parameters()
        weight = layer.gate_proj.weight
        idx = neuron_indices.to(device=weight.device, dtype=torch.long)
        self.register_buffer("neuron_indices", idx, persistent=False)
        self.components = tuple(c for c in COMPONENTS if c in components)
        frozen = lambda t, on: t.detach().to(torch.float32, copy=True) if on else None
        self.register_buffer("base_gate_rows", frozen(layer.gate_proj.weight[idx], "gate" in components), persistent=False)
        self.register_buffer("base_up_rows", frozen(layer.up_proj.weight[idx], "up" in components), persistent=False)
        self.register_buffer("base_down_cols", frozen(layer.down_proj.weight[:, idx], "down" in components), persistent=False)

    @property
    def layer(self) -> MlpLayer:
        return self._base[0]

    def deltas(self) -> dict[str, torch.Tensor]:
        """float32 change of each trained slice (gate_proj/up_proj [k, H], down_proj [H, k])."""
        raise NotImplementedError

    def slices(self) -> dict[str, torch.Tensor]:
        """The trained slices' current values by projection name (what a pack stores)."""
        base = {"gate_proj": self.base_gate_rows, "up_proj": self.base_up_rows, "down_proj": self.base_down_cols}
        return {name: base[name] + delta for name, delta in self.deltas().items()}

    def _projection(self, x: torch.Tensor, linear: nn.Linear, delta: torch.Tensor | None) -> torch.Tensor:
        out = F.linear(x, linear.weight, linear.bias)  # [..., I]; linear's backward does not need it
        if delta is None:
            return out
        return out.index_add_(out.dim() - 1, self.neuron_indices, F.linear(x, delta.to(x.dtype)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        layer, deltas = self.layer, self.deltas()
        gate = self._projection(x, layer.gate_proj, deltas.get("gate_proj"))
        up = self._projection(x, layer.up_proj, deltas.get("up_proj"))
        hidden = layer.act_fn(gate) * up                                   # [..., I]
        out = F.linear(hidden, layer.down_proj.weight, layer.down_proj.bias)  # [..., H]
        if "down_proj" in deltas:
            selected = hidden.index_select(hidden.dim() - 1, self.neuron_indices)  # [..., k]
            out = out + F.linear(selected, deltas["down_proj"].to(selected.dtype))
        return out


class SparseMLP(NeuronSliceMLP):
    """sparse / random: the slices themselves train, from float32 master copies of the base."""

    def __init__(self, layer: MlpLayer, neuron_indices: torch.Tensor, components: tuple[str, ...] = COMPONENTS):
        super().__init__(layer, neuron_indices, components)
        master = lambda t: nn.Parameter(t.clone()) if t is not None else None
        self.gate_rows = master(self.base_gate_rows)
        self.up_rows = master(self.base_up_rows)
        self.down_cols = master(self.base_down_cols)

    def deltas(self) -> dict[str, torch.Tensor]:
        pairs = {"gate_proj": (self.gate_rows, self.base_gate_rows), "up_proj": (self.up_rows, self.base_up_rows),
                 "down_proj": (self.down_cols, self.base_down_cols)}
        return {name: trained - base for name, (trained, base) in pairs.items() if trained is not None}

    def slices(self) -> dict[str, torch.Tensor]:
        """The trained tensors by component name (gate_proj/up_proj/down_proj)."""
        named = {"gate_proj": self.gate_rows, "up_proj": self.up_rows, "down_proj": self.down_cols}
        return {name: tensor for name, tensor in named.items() if tensor is not None}


@contextmanager
def sparse_mlps_installed(
    model: nn.Module, layers: list[MlpLayer], neurons: list[list[int]], components: tuple[str, ...],
    make: Callable[[MlpLayer, torch.Tensor, tuple[str, ...]], NeuronSliceMLP] = SparseMLP,
) -> Iterator[dict[int, NeuronSliceMLP]]:
    """Swaps `make`'s module (SparseMLP by default) into every layer that has selected neurons;
    always swaps the originals back."""
    decoder = decoder_layers(model)
    installed: dict[int, NeuronSliceMLP] = {}
    try:
        for layer, indices in zip(layers, neurons, strict=True):
            if indices:
                sparse = make(layer, torch.tensor(indices), components)
                decoder[layer.index].mlp = sparse
                installed[layer.index] = sparse
        yield installed
    finally:
        for index in installed:
            decoder[index].mlp = layers[index].mlp
