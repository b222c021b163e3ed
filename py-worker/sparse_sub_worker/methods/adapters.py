"""lora and ia3 through peft (docs/method.md §3: LoRA r 32, alpha 64, dropout 0.1 on the MLP).
Output: a standard peft adapter directory (PeftModel.from_pretrained loads it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from ..atomic import atomic_dir
from ..errors import invalid, precondition
from ..gen.sparse_sub.v1 import worker_pb2 as pb
from ..models.architecture import PROJECTIONS
from ..models.loading import LoadedModel
from . import MethodDefinition, Trainable

MLP_MODULES = PROJECTIONS  # peft targets them by module name


@dataclass
class AdapterSettings:
    target_modules: tuple[str, ...] = MLP_MODULES
    r: int = 32
    alpha: float = 64.0
    dropout: float = 0.1
    feedforward_modules: tuple[str, ...] = ("down_proj",)  # IA3: scaled on the input side

    @classmethod
    def read(cls, request: pb.TrainRequest, method: str) -> "AdapterSettings":
        """The request's adapter settings, defaults where unset; checked by building the config."""
        a = request.adapter
        settings = cls(target_modules=tuple(a.target_modules) or cls.target_modules, r=a.r or cls.r, alpha=a.alpha or cls.alpha,
                       dropout=a.dropout, feedforward_modules=tuple(a.feedforward_modules) or cls.feedforward_modules)
        settings.peft_config(method)  # validates before any work
        return settings

    def peft_config(self, method: str):
        from peft import IA3Config, LoraConfig

        targets = list(self.target_modules or MLP_MODULES)
        if method == "lora":
            if self.r <= 0:
                raise invalid("adapter.r", f"must be > 0, got {self.r}")
            if not 0 <= self.dropout < 1:
                raise invalid("adapter.dropout", f"must be in [0, 1), got {self.dropout}")
            return LoraConfig(task_type="CAUSAL_LM", r=self.r, lora_alpha=self.alpha, lora_dropout=self.dropout,
                              target_modules=targets, bias="none")
        feedforward = [m for m in self.feedforward_modules if m in targets]
        if len(feedforward) != len(self.feedforward_modules):
            raise invalid("adapter.feedforward_modules", f"{list(self.feedforward_modules)} must be a subset of target_modules {targets}")
        return IA3Config(task_type="CAUSAL_LM", target_modules=targets, feedforward_modules=feedforward)


class AdapterTrainable(Trainable):
    output_kind = "peft_adapter"

    def __init__(self, loaded: LoadedModel, method: str, settings: AdapterSettings):
        if method not in ("lora", "ia3"):
            raise ValueError(method)
        super().__init__(loaded)
        self.method = method
        self.config = settings.peft_config(method)
        self._peft = None

    @contextmanager
    def installed(self) -> Iterator[list[torch.nn.Parameter]]:
        from peft import get_peft_model

        try:
            self._peft = get_peft_model(self.loaded.model, self.config)
        except ValueError as error:  # e.g. a target module the model does not have
            raise invalid("adapter.target_modules", str(error)) from None
        try:
            yield [p for p in self._peft.parameters() if p.requires_grad]
        finally:
            self._peft.base_model.unload()  # puts the original Linear modules back, unmerged
            self.loaded.model.requires_grad_(False)
            self._peft = None

    def _trainable(self) -> dict[str, torch.nn.Parameter]:
        return {name: p for name, p in self._peft.named_parameters() if p.requires_grad}

    def snapshot(self) -> dict[str, torch.Tensor]:
        return {name: p.detach().clone() for name, p in self._trainable().items()}

    def restore(self, snapshot: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            for name, p in self._trainable().items():
                p.copy_(snapshot[name])

    def save(self, path: str | Path) -> None:
        # Name the base model as the request did (pkg://, hub id or the user's path), not the
        # absolute path it was loaded from, so the adapter folder stays valid when moved.
        for config in self._peft.peft_config.values():
            config.base_model_name_or_path = self.loaded.request.source
        with atomic_dir(path, kind="peft adapter", field_name="output_path") as tmp:
            self._peft.save_pretrained(tmp)


LORA = MethodDefinition(wire=pb.METHOD_LORA, name="lora", output_kind="peft_adapter",
                        read_settings=lambda request: AdapterSettings.read(request, "lora"),
                        build=lambda job: AdapterTrainable(job.loaded, "lora", job.settings))
IA3 = MethodDefinition(wire=pb.METHOD_IA3, name="ia3", output_kind="peft_adapter",
                       read_settings=lambda request: AdapterSettings.read(request, "ia3"),
                       build=lambda job: AdapterTrainable(job.loaded, "ia3", job.settings))


@contextmanager
def adapter_applied(loaded: LoadedModel, path: str, field_name: str) -> Iterator:
    """The loaded model with a peft adapter directory applied; the base model afterwards."""
    from peft import PeftModel

    if not (Path(path) / "adapter_config.json").is_file():
        raise precondition("BAD_ADAPTER", f"{field_name}: {path} is not a peft adapter directory (no adapter_config.json)", field_name)
    try:
        peft_model = PeftModel.from_pretrained(loaded.model, path)
    except (ValueError, KeyError, RuntimeError) as error:
        raise precondition("BAD_ADAPTER", f"{field_name}: cannot apply {path} to this model: {error}", field_name) from None
    peft_model.eval()
    try:
        yield peft_model
    finally:
        peft_model.base_model.unload()
        loaded.model.requires_grad_(False)
