"""What trains, per method (docs/method.md §3). Every method is a Trainable that the one training
loop (training.py) drives, so all methods share data, batches, seed, clipping and validation.
Each method declares itself in a MethodDefinition; registry.py lists them by their wire enum.

    sparse / random  subnetwork.py   the slices of chosen neurons (SparseMLP)       -> pack
    neuron-lora      neuron_lora.py  low-rank updates of the chosen neurons' slices -> pack
    ffn / full       dense.py        all MLP weights / every parameter              -> model directory
    lora / ia3       adapters.py     peft adapters                                  -> peft adapter directory
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from ..gen.sparse_sub.v1 import worker_pb2 as pb
from ..models.loading import LoadedModel
from ..neuron_sets import NeuronSet

class Trainable(ABC):
    """One method's trainable tensors on one loaded model.

    `installed()` prepares the model and yields the parameters to optimise; on exit the model is
    back to its base state unless `base_changed` says otherwise (a method that trains the base
    weights and could not keep a copy of them: its caller must drop the model). Inside the block,
    `snapshot`/`restore` keep the best weights and `save` writes the method's artifact from the
    current weights."""

    method: str
    output_kind: str            # "pack" | "peft_adapter" | "model_directory"
    base_changed = False        # after installed(): the model's weights are no longer the base

    def __init__(self, loaded: LoadedModel):
        self.loaded = loaded

    @abstractmethod
    @contextmanager
    def installed(self) -> Iterator[list[torch.nn.Parameter]]: ...

    @abstractmethod
    def snapshot(self) -> dict[str, torch.Tensor]: ...

    @abstractmethod
    def restore(self, snapshot: dict[str, torch.Tensor]) -> None: ...

    @abstractmethod
    def save(self, path: str | Path) -> None: ...

    @property
    def neuron_count(self) -> int:
        return 0

    @property
    def drawn_neuron_set_path(self) -> str:
        """Where a method that draws its own neuron set wrote it; "" otherwise."""
        return ""


@dataclass
class MethodJob:
    """What a method's Trainable is built from."""
    loaded: LoadedModel
    request: pb.TrainRequest
    settings: object               # what the definition's read_settings returned
    neuron_set: NeuronSet | None   # the target's set, checked to fit the model (methods with uses_neuron_set)
    components: tuple[str, ...]    # config.components: the MLP parts a neuron method trains
    keep_base: bool = True         # methods that train the base weights may keep a copy to restore


@dataclass(frozen=True)
class MethodDefinition:
    """One training method, as the worker knows it."""
    wire: int                                        # its pb.Method value
    name: str                                        # as in plans and results
    output_kind: str                                 # "pack" | "peft_adapter" | "model_directory"
    read_settings: Callable[[pb.TrainRequest], object]  # its own settings from the request, validated
    build: Callable[[MethodJob], Trainable]
    uses_neuron_set: bool = False                    # the request's neuron set is read (and must fit)
    multi_process: bool = False                      # may span several processes (torchrun)


def no_settings(request: pb.TrainRequest) -> None:
    return None
