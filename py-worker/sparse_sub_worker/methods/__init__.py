"""What trains, per method (docs/method.md §3). Every method is a Trainable that the one training
loop (training.py) drives, so all methods share data, batches, seed, clipping and validation.

    sparse / random  subnetwork.py  the slices of chosen neurons (SparseMLP)   -> pack
    ffn / full       dense.py       all MLP weights / every parameter          -> model directory
    lora / ia3       adapters.py    peft adapters                              -> peft adapter directory
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

from ..models.loading import LoadedModel

METHODS = ("sparse", "random", "ffn", "full", "lora", "ia3")


class Trainable(ABC):
    """One method's trainable tensors on one loaded model.

    `installed()` prepares the model and yields the parameters to optimise; on exit the model is
    back to its base state, except for methods with `modifies_base` (their caller must drop the
    model). Inside the block, `snapshot`/`restore` keep the best weights and `save` writes the
    method's artifact from the current weights."""

    method: str
    output_kind: str            # "pack" | "peft_adapter" | "model_directory"
    modifies_base = False       # True: the base weights themselves train

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
