"""Subnetwork packs: the trained slices of one language's neurons, small enough to share.

File (.safetensors):
  layers.<l>.neuron_indices  int64 [k]      the layer's neurons, ascending
  layers.<l>.gate_proj       [k, H]         trained rows (when "gate" was trained)
  layers.<l>.up_proj         [k, H]         trained rows (when "up" was trained)
  layers.<l>.down_proj       [H, k]         trained columns (when "down" was trained)
metadata: format, language, base_model, num_layers, hidden_size, intermediate_size,
          components (comma-separated), neuron_count
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from .atomic import atomic_dir, atomic_path
from .errors import not_found, precondition
from .models.architecture import MlpLayer, ModelShape

FORMAT = "sparse-sub/pack@1"
PROJECTIONS = ("gate_proj", "up_proj", "down_proj")


@dataclass
class Pack:
    language: str
    base_model: str
    shape: ModelShape
    components: tuple[str, ...]
    neuron_indices: dict[int, torch.Tensor]          # layer -> [k]
    slices: dict[int, dict[str, torch.Tensor]]       # layer -> projection -> tensor

    @property
    def neuron_count(self) -> int:
        return sum(int(t.numel()) for t in self.neuron_indices.values())


def save_pack(path: str | Path, pack: Pack) -> None:
    tensors: dict[str, torch.Tensor] = {}
    for layer, indices in pack.neuron_indices.items():
        tensors[f"layers.{layer}.neuron_indices"] = indices.cpu().to(torch.int64).contiguous()
        for name, tensor in pack.slices[layer].items():
            tensors[f"layers.{layer}.{name}"] = tensor.detach().cpu().contiguous()
    metadata = {
        "format": FORMAT,
        "language": pack.language,
        "base_model": pack.base_model,
        "num_layers": str(pack.shape.num_layers),
        "hidden_size": str(pack.shape.hidden_size),
        "intermediate_size": str(pack.shape.intermediate_size),
        "components": ",".join(pack.components),
        "neuron_count": str(pack.neuron_count),
    }
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)


def load_pack(path: str | Path, field_name: str) -> Pack:
    if not Path(path).is_file():
        raise not_found(field_name, str(path), "subnetwork pack")
    with safe_open(str(path), framework="pt") as file:
        metadata = file.metadata() or {}
        if metadata.get("format") != FORMAT:
            raise precondition("BAD_PACK", f"{field_name}: {path} is not a {FORMAT} file", field_name)
        indices: dict[int, torch.Tensor] = {}
        slices: dict[int, dict[str, torch.Tensor]] = {}
        for key in file.keys():
            _, layer, name = key.split(".", 2)
            if name == "neuron_indices":
                indices[int(layer)] = file.get_tensor(key)
            else:
                slices.setdefault(int(layer), {})[name] = file.get_tensor(key)
    shape = ModelShape(int(metadata["num_layers"]), int(metadata["hidden_size"]), int(metadata["intermediate_size"]))
    components = tuple(c for c in metadata.get("components", "").split(",") if c)
    return Pack(metadata.get("language", ""), metadata.get("base_model", ""), shape, components, indices, {l: slices.get(l, {}) for l in indices})


def check_pack_fits(pack: Pack, shape: ModelShape, field_name: str) -> None:
    if pack.shape != shape:
        raise precondition(
            "PACK_MODEL_MISMATCH",
            f"{field_name}: pack was trained on a model of shape {pack.shape}, this model is {shape}",
            field_name,
        )


@contextmanager
def pack_applied(layers: list[MlpLayer], pack: Pack) -> Iterator[None]:
    """Writes the pack's slices into the model's weights, and restores the originals exactly."""
    saved: list[tuple[torch.Tensor, torch.Tensor, bool, torch.Tensor]] = []
    try:
        with torch.no_grad():
            for layer_index, indices in pack.neuron_indices.items():
                layer = layers[layer_index]
                idx = indices.to(layer.gate_proj.weight.device)
                for name, tensor in pack.slices[layer_index].items():
                    weight = getattr(layer, name).weight
                    rows = name != "down_proj"
                    original = weight[idx].clone() if rows else weight[:, idx].clone()
                    saved.append((weight, idx, rows, original))
                    value = tensor.to(device=weight.device, dtype=weight.dtype)
                    if rows:
                        weight[idx] = value
                    else:
                        weight[:, idx] = value
        yield
    finally:
        with torch.no_grad():
            for weight, idx, rows, original in reversed(saved):
                if rows:
                    weight[idx] = original
                else:
                    weight[:, idx] = original


def merge_to_directory(model, tokenizer, layers: list[MlpLayer], pack: Pack, output_dir: str | Path) -> None:
    """Base model + pack saved as a plain transformers directory (AutoModelForCausalLM loads it)."""
    with pack_applied(layers, pack), atomic_dir(output_dir) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
