"""sparse and random: train only the gate rows, up rows and down columns of a neuron set
(the LAPE set, or a random one of the same size), through SparseMLP. Output: a pack.
SubnetworkTrainable also carries neuron-lora (neuron_lora.py), which changes the same slices
through other parameters."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from ..gen.sparse_sub.v1 import worker_pb2 as pb
from ..models.architecture import MlpLayer
from ..models.loading import LoadedModel
from ..neuron_sets import NeuronSet, draw_random_set, save_neuron_set
from ..packs import Pack, base_norms, save_pack
from ..sparse_mlp import COMPONENTS, NeuronSliceMLP, SparseMLP, sparse_mlps_installed
from . import MethodDefinition, MethodJob, Trainable, no_settings


class SubnetworkTrainable(Trainable):
    output_kind = "pack"

    def __init__(self, loaded: LoadedModel, neuron_set: NeuronSet, components: tuple[str, ...] = COMPONENTS, method: str = "sparse",
                 make: Callable[[MlpLayer, torch.Tensor, tuple[str, ...]], NeuronSliceMLP] = SparseMLP, drawn_path: str = ""):
        super().__init__(loaded)
        self.neuron_set = neuron_set
        self.components = tuple(components)
        self.method = method
        self._make = make
        self._drawn_path = drawn_path
        self._modules: dict[int, NeuronSliceMLP] = {}

    @contextmanager
    def installed(self) -> Iterator[list[torch.nn.Parameter]]:
        with sparse_mlps_installed(self.loaded.model, self.loaded.layers, self.neuron_set.layers, self.components, self._make) as modules:
            self._modules = modules
            try:
                yield [p for module in modules.values() for p in module.parameters()]
            finally:
                self._modules = {}

    def snapshot(self) -> dict[str, torch.Tensor]:
        return {f"{layer}.{name}": p.detach().clone() for layer, m in self._modules.items() for name, p in m.named_parameters()}

    def restore(self, snapshot: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            for layer, module in self._modules.items():
                for name, p in module.named_parameters():
                    p.copy_(snapshot[f"{layer}.{name}"])

    def pack(self) -> Pack:
        """The current slices as a pack (with the base model's fingerprint at these neurons)."""
        request = self.loaded.request
        indices = {layer: m.neuron_indices.detach().cpu() for layer, m in self._modules.items()}
        with torch.no_grad():
            slices = {layer: {k: v.detach().cpu().clone() for k, v in m.slices().items()} for layer, m in self._modules.items()}
        return Pack(
            language=self.neuron_set.language,
            base_model=request.source + (f"#{request.gguf_file}" if request.gguf_file else ""),
            shape=self.loaded.shape,
            components=self.components,
            neuron_indices=indices,
            slices=slices,
            base_norms={layer: base_norms(self.loaded.layers[layer], idx) for layer, idx in indices.items()},
        )

    def save(self, path: str | Path) -> None:
        save_pack(path, self.pack())

    @property
    def neuron_count(self) -> int:
        return self.neuron_set.neuron_count

    @property
    def drawn_neuron_set_path(self) -> str:
        return self._drawn_path


SPARSE = MethodDefinition(
    wire=pb.METHOD_SPARSE, name="sparse", output_kind="pack", read_settings=no_settings, uses_neuron_set=True,
    build=lambda job: SubnetworkTrainable(job.loaded, job.neuron_set, job.components, "sparse"))


@dataclass(frozen=True)
class RandomSettings:
    seed: int
    per_layer: bool  # the same count in every layer as the LAPE set; else the same total

    @classmethod
    def read(cls, request: pb.TrainRequest) -> "RandomSettings":
        return cls(request.random.seed, request.random.per_layer)


def _random_subset(job: MethodJob) -> SubnetworkTrainable:
    """A set of the LAPE set's size drawn at random (and written for inspection when asked)."""
    settings: RandomSettings = job.settings
    shape = job.loaded.shape
    drawn = draw_random_set(job.neuron_set, shape.num_layers, shape.intermediate_size, settings.seed, settings.per_layer)
    if job.request.drawn_neuron_set_path:
        save_neuron_set(job.request.drawn_neuron_set_path, drawn)
    return SubnetworkTrainable(job.loaded, drawn, job.components, "random", drawn_path=job.request.drawn_neuron_set_path)


RANDOM = MethodDefinition(wire=pb.METHOD_RANDOM, name="random", output_kind="pack", read_settings=RandomSettings.read,
                          uses_neuron_set=True, build=_random_subset)
