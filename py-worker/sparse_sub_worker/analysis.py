"""The paper's two analyses (docs/method.md §4).

Weight change: per layer and projection, the L2 norm of (adapted - base) over the language's
neurons (gate/up rows, down columns) and over the whole matrix, for any method that changes MLP
weights (pack, peft adapter, or a trained model directory).

Cross-lingual alignment: per layer, the cosine similarity between mean-pooled hidden states of
parallel sentences (English vs the language), averaged over pairs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import torch
import torch.nn.functional as F

from .errors import precondition
from .models.architecture import PROJECTIONS, MlpLayer
from .packs import Pack
from .models.text_encoding import TextEncoder
from .tasks.loglik import last_logits_only, right_pad

LayerChange = dict[str, dict[str, float]]  # projection -> {"neurons": norm, "matrix": norm}


def _norms(delta: torch.Tensor, name: str, neurons: list[int]) -> dict[str, float]:
    delta = delta.float()
    idx = torch.as_tensor(neurons, dtype=torch.long, device=delta.device)
    part = delta[idx] if name != "down_proj" else delta[:, idx]
    return {"neurons": float(part.norm()) if neurons else 0.0, "matrix": float(delta.norm())}


def pack_deltas(layers: list[MlpLayer], pack: Pack) -> Iterator[tuple[int, str, torch.Tensor]]:
    for layer_index, indices in pack.neuron_indices.items():
        for name, tensor in pack.slices[layer_index].items():
            weight = getattr(layers[layer_index], name).weight
            delta = torch.zeros(weight.shape, dtype=torch.float32, device=weight.device)
            idx = indices.to(weight.device)
            base = weight[idx] if name != "down_proj" else weight[:, idx]
            change = tensor.to(weight.device).float() - base.float()
            if name != "down_proj":
                delta[idx] = change
            else:
                delta[:, idx] = change
            yield layer_index, name, delta


def adapter_deltas(peft_model, layers: list[MlpLayer]) -> Iterator[tuple[int, str, torch.Tensor]]:
    """LoRA: B A * scaling (peft's get_delta_weight); IA3: W (l - 1), l scaling outputs or inputs."""
    for layer in layers:
        for name in PROJECTIONS:
            module = getattr(layer.mlp, name)
            if hasattr(module, "get_delta_weight") and getattr(module, "lora_A", None):
                yield layer.index, name, module.get_delta_weight("default")
            elif getattr(module, "ia3_l", None):
                scale = module.ia3_l["default"]  # [out, 1], or [1, in] for feed-forward modules
                yield layer.index, name, module.base_layer.weight.float() * (scale.float() - 1)


def model_directory_deltas(directory: str, layers: list[MlpLayer]) -> Iterator[tuple[int, str, torch.Tensor]]:
    from safetensors import safe_open

    root = Path(directory)
    index = root / "model.safetensors.index.json"
    files = sorted(set(json.loads(index.read_text())["weight_map"].values())) if index.is_file() else ["model.safetensors"]
    wanted = {f"model.layers.{layer.index}.mlp.{name}.weight": (layer, name) for layer in layers for name in PROJECTIONS}
    found = 0
    for file in files:
        if not (root / file).is_file():
            raise precondition("BAD_MODEL_DIRECTORY", f"model_directory: {root / file} is missing", "model_directory")
        with safe_open(str(root / file), framework="pt") as handle:
            for key in handle.keys():
                if key in wanted:
                    layer, name = wanted[key]
                    base = getattr(layer, name).weight
                    found += 1
                    yield layer.index, name, handle.get_tensor(key).to(base.device).float() - base.float()
    if found == 0:
        raise precondition("BAD_MODEL_DIRECTORY", f"model_directory: {directory} has no MLP weights named like model.layers.N.mlp.*", "model_directory")


def weight_change(deltas: Iterator[tuple[int, str, torch.Tensor]], neurons: list[list[int]]) -> dict[int, LayerChange]:
    changes: dict[int, LayerChange] = {}
    with torch.no_grad():
        for layer, name, delta in deltas:
            changes.setdefault(layer, {})[name] = _norms(delta, name, neurons[layer] if layer < len(neurons) else [])
    return changes


@torch.inference_mode()
def alignment(model, encoder: TextEncoder, english: list[str], other: list[str], batch_size: int = 8) -> list[float]:
    """Mean over pairs of cos(mean-pooled hidden state of the English sentence, of its
    translation), per decoder layer (index 0 = first layer's output). The model sees BOS
    first when it expects one, but the pool covers the sentence's own tokens only: a BOS state
    is the same in both languages and would inflate every similarity."""
    device = next(model.parameters()).device
    head = last_logits_only(model)  # the LM head is not needed for hidden states: one position only

    def pooled(texts: list[str]) -> torch.Tensor:  # [N, L, H]
        out = []
        for start in range(0, len(texts), batch_size):
            rows = [encoder.encode(t) for t in texts[start : start + batch_size]]
            ids, mask = right_pad(rows, encoder.pad_id)
            ids, mask = ids.to(device), mask.to(device)
            states = model(input_ids=ids, attention_mask=mask, output_hidden_states=True, **head).hidden_states[1:]  # L x [B, S, H]
            pooled_mask = mask.clone()
            if encoder.add_bos:
                pooled_mask[:, 0] = 0
            weights = (pooled_mask / pooled_mask.sum(-1, keepdim=True).clamp_min(1))[..., None].float()      # [B, S, 1]
            out.append(torch.stack([(h.float() * weights).sum(1) for h in states], dim=1))
        return torch.cat(out)

    a, b = pooled(english), pooled(other)
    return F.cosine_similarity(a, b, dim=-1).mean(0).tolist()
