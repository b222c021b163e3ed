"""neuron-lora: LoRA restricted to a language's neurons, the intervention of "Language-specific
Neurons Do Not Facilitate Cross-Lingual Transfer" (2025). Per layer and trained projection, the
selected slices change by a low-rank product instead of training freely:

    gate/up rows [k, H]:  delta = (alpha / r) * B A,   B [k, r] (zeros), A [r, H]
    down columns [H, k]:  delta = (alpha / r) * B A,   B [H, r] (zeros), A [r, k]

B starts at zero, so training starts at the base model (as LoRA does); A starts as peft's LoRA
A (Kaiming-uniform). The base weights stay frozen; the output is a pack of base + delta at the
selected neurons, which `pack apply` merges like a sparse pack."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import invalid
from ..gen.sparse_sub.v1 import worker_pb2 as pb
from ..models.architecture import MlpLayer
from ..sparse_mlp import COMPONENTS, NeuronSliceMLP
from . import MethodDefinition, MethodJob
from .subnetwork import SubnetworkTrainable


@dataclass(frozen=True)
class NeuronLoraSettings:
    r: int = 8
    alpha: float = 16.0

    @classmethod
    def read(cls, request: pb.TrainRequest) -> "NeuronLoraSettings":
        given = request.neuron_lora
        settings = cls(given.r or cls.r, given.alpha or cls.alpha)
        if settings.r <= 0:
            raise invalid("neuron_lora.r", f"must be > 0, got {settings.r}")
        if not math.isfinite(settings.alpha) or settings.alpha <= 0:
            raise invalid("neuron_lora.alpha", f"must be a positive number, got {settings.alpha}")
        return settings


class NeuronLoraMLP(NeuronSliceMLP):
    def __init__(self, layer: MlpLayer, neuron_indices: torch.Tensor, components: tuple[str, ...], settings: NeuronLoraSettings):
        super().__init__(layer, neuron_indices, components)
        self.scaling = settings.alpha / settings.r
        k, hidden, r = len(self.neuron_indices), layer.gate_proj.weight.shape[1], settings.r
        device = self.neuron_indices.device

        def factors(out_features: int, in_features: int) -> tuple[nn.Parameter, nn.Parameter]:
            a = torch.empty(r, in_features, dtype=torch.float32, device=device)
            nn.init.kaiming_uniform_(a, a=math.sqrt(5))  # peft's LoRA A
            return nn.Parameter(torch.zeros(out_features, r, dtype=torch.float32, device=device)), nn.Parameter(a)

        # float32 like SparseMLP's slices, whatever the model's dtype
        shapes = {"gate": (k, hidden), "up": (k, hidden), "down": (hidden, k)}
        for component in COMPONENTS:
            b, a = factors(*shapes[component]) if component in self.components else (None, None)
            setattr(self, f"{component}_lora_b", b)
            setattr(self, f"{component}_lora_a", a)

    def deltas(self) -> dict[str, torch.Tensor]:
        return {f"{c}_proj": (getattr(self, f"{c}_lora_b") @ getattr(self, f"{c}_lora_a")) * self.scaling for c in self.components}


def _build(job: MethodJob) -> SubnetworkTrainable:
    settings: NeuronLoraSettings = job.settings
    make = lambda layer, indices, components: NeuronLoraMLP(layer, indices, components, settings)
    return SubnetworkTrainable(job.loaded, job.neuron_set, job.components, "neuron-lora", make=make)


NEURON_LORA = MethodDefinition(wire=pb.METHOD_NEURON_LORA, name="neuron-lora", output_kind="pack",
                               read_settings=NeuronLoraSettings.read, uses_neuron_set=True, build=_build)
