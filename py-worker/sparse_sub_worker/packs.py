"""Subnetwork packs: the trained slices of one language's neurons, small enough to share.

File (.safetensors):
  layers.<l>.neuron_indices  int64 [k]      the layer's neurons, ascending
  layers.<l>.gate_proj       [k, H]         trained rows (when "gate" was trained)
  layers.<l>.up_proj         [k, H]         trained rows (when "up" was trained)
  layers.<l>.down_proj       [H, k]         trained columns (when "down" was trained)
  layers.<l>.base_norms      float32 [3, k] L2 norms of the BASE gate row, up row, down column of
                                            each neuron: the fingerprint of the model it fits
metadata: format, language, base_model, num_layers, hidden_size, intermediate_size,
          components (comma-separated), neuron_count
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from .atomic import atomic_dir, atomic_path
from .errors import invalid, not_found, precondition
from .models.architecture import PROJECTIONS, MlpLayer, ModelShape
from .models.saving import save_model_directory

FORMAT = "sparse-sub/pack@1"
OVERLAP_RULES = ("mean", "first", "error")
# A bf16 copy of the same weights moves a row norm by ~1e-4; another fine-tune of the same
# architecture moves some neuron's norm by far more.
BASE_NORM_TOLERANCE = 2e-3


@dataclass
class Pack:
    language: str
    base_model: str
    shape: ModelShape
    components: tuple[str, ...]
    neuron_indices: dict[int, torch.Tensor]          # layer -> [k]
    slices: dict[int, dict[str, torch.Tensor]]       # layer -> projection -> tensor
    base_norms: dict[int, torch.Tensor]              # layer -> [3, k] base weights' norms

    @property
    def neuron_count(self) -> int:
        return sum(int(t.numel()) for t in self.neuron_indices.values())


def save_pack(path: str | Path, pack: Pack) -> None:
    tensors: dict[str, torch.Tensor] = {}
    for layer, indices in pack.neuron_indices.items():
        tensors[f"layers.{layer}.neuron_indices"] = indices.cpu().to(torch.int64).contiguous()
        for name, tensor in pack.slices[layer].items():
            tensors[f"layers.{layer}.{name}"] = tensor.detach().cpu().contiguous()
        tensors[f"layers.{layer}.base_norms"] = pack.base_norms[layer].detach().cpu().to(torch.float32).contiguous()
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
    try:
        handle = safe_open(str(path), framework="pt")
    except Exception as error:  # noqa: BLE001 - safetensors raises its own error type for a damaged file
        raise precondition("BAD_PACK", f"{field_name}: {path} is not a safetensors file ({error})", field_name) from None
    with handle as file:
        metadata = file.metadata() or {}
        if metadata.get("format") != FORMAT:
            raise precondition("BAD_PACK", f"{field_name}: {path} is not a {FORMAT} file", field_name)
        indices: dict[int, torch.Tensor] = {}
        norms: dict[int, torch.Tensor] = {}
        slices: dict[int, dict[str, torch.Tensor]] = {}
        for key in file.keys():
            _, layer, name = key.split(".", 2)
            if name == "neuron_indices":
                indices[int(layer)] = file.get_tensor(key)
            elif name == "base_norms":
                norms[int(layer)] = file.get_tensor(key)
            else:
                slices.setdefault(int(layer), {})[name] = file.get_tensor(key)
    if set(norms) != set(indices):
        raise precondition("BAD_PACK", f"{field_name}: {path} lacks the base fingerprint (base_norms) of some layers", field_name)
    shape = ModelShape(int(metadata["num_layers"]), int(metadata["hidden_size"]), int(metadata["intermediate_size"]))
    components = tuple(c for c in metadata.get("components", "").split(",") if c)
    return Pack(metadata.get("language", ""), metadata.get("base_model", ""), shape, components, indices,
                {l: slices.get(l, {}) for l in indices}, norms)


def pack_components(pack: Pack, components: list[str], field_name: str) -> Pack:
    """The pack with only `components` (gate, up, down) kept: applied, the others stay at base values."""
    held = sorted({name.removesuffix("_proj") for s in pack.slices.values() for name in s})
    for i, component in enumerate(components):
        if component not in held:
            raise invalid(f"{field_name}[{i}]", f"the pack holds no '{component}' slices (it holds {', '.join(held)})")
    kept = {f"{c}_proj" for c in components}
    slices = {layer: {name: t for name, t in s.items() if name in kept} for layer, s in pack.slices.items()}
    return replace(pack, components=tuple(c for c in pack.components if c in components), slices=slices)


def base_norms(layer: MlpLayer, indices: torch.Tensor) -> torch.Tensor:
    """[3, k] float32: the norms of the base gate rows, up rows and down columns of `indices`."""
    idx = indices.to(layer.gate_proj.weight.device)
    with torch.no_grad():
        return torch.stack([
            layer.gate_proj.weight[idx].float().norm(dim=1),
            layer.up_proj.weight[idx].float().norm(dim=1),
            layer.down_proj.weight[:, idx].float().norm(dim=0),
        ]).cpu()


def check_pack_fits(pack: Pack, shape: ModelShape, layers: list[MlpLayer], field_name: str) -> None:
    """Refuses a pack trained on another model: different shape, or base weights at its neurons
    that differ from the ones it was trained on (compared by their norms)."""
    if pack.shape != shape:
        raise precondition(
            "PACK_MODEL_MISMATCH",
            f"{field_name}: pack was trained on a model of shape {pack.shape}, this model is {shape}",
            field_name,
        )
    for layer_index, indices in pack.neuron_indices.items():
        expected = pack.base_norms[layer_index]
        actual = base_norms(layers[layer_index], indices)
        difference = float(((actual - expected).abs() / expected.abs().clamp_min(1e-12)).max()) if indices.numel() else 0.0
        if difference > BASE_NORM_TOLERANCE:
            raise precondition(
                "PACK_MODEL_MISMATCH",
                f"{field_name}: pack ({pack.language}) was trained on other base weights ({pack.base_model}): "
                f"its neurons' base weights differ by up to {difference:.2%} in layer {layer_index}",
                field_name,
            )


def merged_slices(packs: list[Pack], overlap: str) -> tuple[dict[tuple[int, str], tuple[torch.Tensor, torch.Tensor]], int]:
    """What several packs write: (layer, projection) -> (neuron indices [n], values [n, H]),
    down columns transposed to rows. A slice trained by several packs gets the mean of their
    values ("mean"), the first pack's value ("first"), or is an error ("error").
    Also returns how many (layer, neuron) pairs more than one pack holds."""
    if overlap not in OVERLAP_RULES:
        raise invalid("overlap", f"must be one of {list(OVERLAP_RULES)}, got '{overlap}'")
    shared = 0
    for layer in sorted({l for p in packs for l in p.neuron_indices}):
        neurons = torch.cat([p.neuron_indices[layer] for p in packs if layer in p.neuron_indices])
        shared += int((torch.unique(neurons, return_counts=True)[1] > 1).sum())
    merged: dict[tuple[int, str], tuple[torch.Tensor, torch.Tensor]] = {}
    keys = sorted({(l, name) for p in packs for l, s in p.slices.items() for name in s})
    for layer, name in keys:
        owners = [p for p in packs if name in p.slices.get(layer, {})]
        rows = lambda p: p.slices[layer][name].float() if name != "down_proj" else p.slices[layer][name].float().T  # [k, H]
        indices = torch.cat([p.neuron_indices[layer] for p in owners])
        values = torch.cat([rows(p) for p in owners])
        unique, inverse, counts = torch.unique(indices, return_inverse=True, return_counts=True)
        if overlap == "error" and bool((counts > 1).any()):
            languages = [p.language for p in owners]
            raise precondition("PACK_OVERLAP", f"packs {languages} all train {int((counts > 1).sum())} {name} slice(s) of layer {layer}; "
                               f"choose overlap 'mean' or 'first'", "overlap")
        if overlap == "first":
            position = torch.arange(len(indices))
            first = torch.full((len(unique),), len(indices)).scatter_reduce(0, inverse, position, reduce="amin")
            merged[(layer, name)] = (unique, values[first])
        else:
            sums = torch.zeros(len(unique), values.shape[1]).index_add_(0, inverse, values)
            merged[(layer, name)] = (unique, sums / counts.unsqueeze(1))
    return merged, shared


@contextmanager
def packs_applied(layers: list[MlpLayer], packs: list[Pack], overlap: str = "mean") -> Iterator[dict]:
    """Writes the packs' slices into the model's weights (see merged_slices), and restores the
    originals exactly. Yields {"neurons": distinct pairs written, "shared": of which overlapping}."""
    merged, shared = merged_slices(packs, overlap)
    saved: list[tuple[torch.Tensor, torch.Tensor, bool, torch.Tensor]] = []
    neurons = {(layer, int(i)) for (layer, _), (indices, _) in merged.items() for i in indices}
    try:
        with torch.no_grad():
            for (layer_index, name), (indices, values) in merged.items():
                weight = getattr(layers[layer_index], name).weight
                idx = indices.to(weight.device)
                rows = name != "down_proj"
                saved.append((weight, idx, rows, weight[idx].clone() if rows else weight[:, idx].clone()))
                value = values.to(device=weight.device, dtype=weight.dtype)
                if rows:
                    weight[idx] = value
                else:
                    weight[:, idx] = value.T
        yield {"neurons": len(neurons), "shared": shared}
    finally:
        with torch.no_grad():
            for weight, idx, rows, original in reversed(saved):
                if rows:
                    weight[idx] = original
                else:
                    weight[:, idx] = original


def pack_applied(layers: list[MlpLayer], pack: Pack):
    return packs_applied(layers, [pack])


def merge_to_directory(model, tokenizer, layers: list[MlpLayer], packs: list[Pack], output_dir: str | Path, overlap: str = "mean",
                       force: bool = False) -> dict:
    """Base model + packs saved as a plain transformers directory (AutoModelForCausalLM loads it)."""
    with packs_applied(layers, packs, overlap) as written, atomic_dir(output_dir, force=force) as tmp:
        save_model_directory(model, tokenizer, tmp)
    return written
