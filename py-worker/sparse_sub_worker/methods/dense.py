"""ffn and full: the baselines that train whole matrices (docs/method.md §3). The base weights
themselves train. A host copy of them is kept when it fits in free memory, and written back
afterwards, so the next job finds the base without reloading it (a GGUF file takes ~20 s to
dequantize, an 8B model minutes); otherwise the caller drops the model. Output: a model directory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import torch

from ..atomic import atomic_dir
from ..gen.sparse_sub.v1 import worker_pb2 as pb
from ..models.architecture import PROJECTIONS
from ..models.loading import LoadedModel
from ..models.saving import save_model_directory
from ..parallel import local_tensor
from . import MethodDefinition, Trainable, no_settings


class DenseTrainable(Trainable):
    output_kind = "model_directory"

    def __init__(self, loaded: LoadedModel, method: str, keep_base: bool):
        if method not in ("ffn", "full"):
            raise ValueError(method)
        super().__init__(loaded)
        self.method = method
        self.keep_base = keep_base  # False in a process of a sharded job: its model is dropped anyway
        self._named: dict[str, torch.nn.Parameter] = {}

    def _selected(self) -> dict[str, torch.nn.Parameter]:
        if self.method == "full":
            return dict(self.loaded.model.named_parameters())
        mlp_weights = {id(getattr(layer, name).weight) for layer in self.loaded.layers for name in PROJECTIONS}
        return {name: p for name, p in self.loaded.model.named_parameters() if id(p) in mlp_weights}

    @contextmanager
    def installed(self) -> Iterator[list[torch.nn.Parameter]]:
        self._named = self._selected()
        base = self.snapshot() if self.keep_base and self._base_copy_fits() else None
        self.base_changed = True
        for p in self._named.values():
            p.requires_grad_(True)
        try:
            yield list(self._named.values())
        finally:
            for p in self._named.values():
                p.requires_grad_(False)
                p.grad = None
            if base is not None:
                self.restore(base)  # bit for bit the weights the job started from
                self.base_changed = False
            self._named = {}

    def _base_copy_fits(self) -> bool:
        """A host copy of the trained tensors fits in half of the free host memory."""
        needed = sum(local_tensor(p).numel() * p.element_size() for p in self._named.values())
        return needed < psutil.virtual_memory().available // 2

    def snapshot(self) -> dict[str, torch.Tensor]:
        # kept on the host: a second copy of an 8B model does not fit beside it on the GPU
        # (under FSDP, each process keeps its own shard)
        return {name: local_tensor(p.detach()).to("cpu", copy=True) for name, p in self._named.items()}

    def restore(self, snapshot: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            for name, p in self._named.items():
                local_tensor(p).copy_(snapshot[name])

    def save(self, path: str | Path, state_dict: dict[str, torch.Tensor] | None = None) -> None:
        """`state_dict`: the full weights, gathered from the processes of a sharded job."""
        with atomic_dir(path, field_name="output_path") as tmp:
            save_model_directory(self.loaded.model, self.loaded.tokenizer, tmp, state_dict)


FFN = MethodDefinition(wire=pb.METHOD_FFN, name="ffn", output_kind="model_directory", read_settings=no_settings,
                       multi_process=True, build=lambda job: DenseTrainable(job.loaded, "ffn", job.keep_base))
FULL = MethodDefinition(wire=pb.METHOD_FULL, name="full", output_kind="model_directory", read_settings=no_settings,
                        multi_process=True, build=lambda job: DenseTrainable(job.loaded, "full", job.keep_base))
