"""sparse and random: train only the gate rows, up rows and down columns of a neuron set
(the LAPE set, or a random one of the same size), through SparseMLP. Output: a pack."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

from ..models.loading import LoadedModel
from ..neuron_sets import NeuronSet
from ..packs import Pack, base_norms, save_pack
from ..sparse_mlp import COMPONENTS, SparseMLP, sparse_mlps_installed
from . import Trainable


class SubnetworkTrainable(Trainable):
    output_kind = "pack"

    def __init__(self, loaded: LoadedModel, neuron_set: NeuronSet, components: tuple[str, ...] = COMPONENTS, method: str = "sparse"):
        super().__init__(loaded)
        self.neuron_set = neuron_set
        self.components = tuple(components)
        self.method = method
        self._modules: dict[int, SparseMLP] = {}

    @contextmanager
    def installed(self) -> Iterator[list[torch.nn.Parameter]]:
        with sparse_mlps_installed(self.loaded.model, self.loaded.layers, self.neuron_set.layers, self.components) as modules:
            self._modules = modules
            try:
                yield [p for module in modules.values() for p in module.parameters()]
            finally:
                self._modules = {}

    def snapshot(self) -> dict[str, torch.Tensor]:
        return {f"{layer}.{name}": t.detach().clone() for layer, m in self._modules.items() for name, t in m.slices().items()}

    def restore(self, snapshot: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            for layer, module in self._modules.items():
                for name, tensor in module.slices().items():
                    tensor.copy_(snapshot[f"{layer}.{name}"])

    def pack(self) -> Pack:
        """The current slices as a pack (with the base model's fingerprint at these neurons)."""
        request = self.loaded.request
        indices = {layer: m.neuron_indices.detach().cpu() for layer, m in self._modules.items()}
        return Pack(
            language=self.neuron_set.language,
            base_model=request.source + (f"#{request.gguf_file}" if request.gguf_file else ""),
            shape=self.loaded.shape,
            components=self.components,
            neuron_indices=indices,
            slices={layer: {k: v.detach().cpu().clone() for k, v in m.slices().items()} for layer, m in self._modules.items()},
            base_norms={layer: base_norms(self.loaded.layers[layer], idx) for layer, idx in indices.items()},
        )

    def save(self, path: str | Path) -> None:
        save_pack(path, self.pack())

    @property
    def neuron_count(self) -> int:
        return self.neuron_set.neuron_count
