"""Other ways to train a neuron subset, kept as yardsticks for tests and benchmarks (bench/):

- CloneAndWriteMLP: the reference's forward (docs/method.md §3): clone every full matrix, write the
  trainable slices in, run the dense MLP. Correct, but a full clone and a full weight-gradient
  per layer per step.
- gradient_masking: the other common approach: the full MLP matrices are trainable, a hook zeroes
  the gradient of unselected rows/columns, and AdamW keeps state for the full matrices.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F

from ..models.architecture import MlpLayer, decoder_layers


class CloneAndWriteMLP(torch.nn.Module):
    def __init__(self, mlp, indices):
        super().__init__()
        self.mlp = (mlp,)  # not a submodule: its weights stay out of .parameters()
        self.idx = torch.as_tensor(indices, device=mlp.gate_proj.weight.device)
        self.gate_rows = torch.nn.Parameter(mlp.gate_proj.weight[self.idx].clone())
        self.up_rows = torch.nn.Parameter(mlp.up_proj.weight[self.idx].clone())
        self.down_cols = torch.nn.Parameter(mlp.down_proj.weight[:, self.idx].clone())

    def forward(self, x):
        mlp = self.mlp[0]
        gate = mlp.gate_proj.weight.clone()
        up = mlp.up_proj.weight.clone()
        down = mlp.down_proj.weight.clone()
        gate[self.idx] = self.gate_rows
        up[self.idx] = self.up_rows
        down[:, self.idx] = self.down_cols
        return F.linear(mlp.act_fn(F.linear(x, gate)) * F.linear(x, up), down)


@contextmanager
def clone_and_write_installed(model, neurons: list[list[int]]) -> Iterator[list[torch.nn.Parameter]]:
    decoder = decoder_layers(model)
    originals = {i: decoder[i].mlp for i, idx in enumerate(neurons) if idx}
    try:
        for i in originals:
            decoder[i].mlp = CloneAndWriteMLP(originals[i], neurons[i])
        yield [p for i in originals for p in decoder[i].mlp.parameters()]
    finally:
        for i, mlp in originals.items():
            decoder[i].mlp = mlp


@contextmanager
def gradient_masking_installed(layers: list[MlpLayer], neurons: list[list[int]]) -> Iterator[list[torch.nn.Parameter]]:
    """Full gate/up/down matrices of layers with neurons become trainable; unselected rows
    (gate, up) and columns (down) get a zero gradient. Weight decay still moves them unless the
    optimizer is told otherwise: the approach's usual pitfall, kept here as found in the wild."""
    params, handles = [], []
    try:
        for layer, idx in zip(layers, neurons):
            if not idx:
                continue
            keep = torch.zeros(layer.gate_proj.out_features, dtype=torch.bool, device=layer.gate_proj.weight.device)
            keep[torch.as_tensor(idx, device=keep.device)] = True
            for linear, rows in ((layer.gate_proj, True), (layer.up_proj, True), (layer.down_proj, False)):
                weight = linear.weight
                weight.requires_grad_(True)
                mask = (keep[:, None] if rows else keep[None, :]).to(weight.dtype)
                handles.append(weight.register_hook(lambda grad, mask=mask: grad * mask))
                params.append(weight)
        yield params
    finally:
        for handle in handles:
            handle.remove()
        for weight in params:
            weight.requires_grad_(False)
            weight.grad = None
