"""Neuron sets on disk: sparse-sub's JSON, and the reference torch.save format
(List[language][layer] -> LongTensor, languages in plan order)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from .atomic import atomic_path, write_text
from .errors import invalid, not_found, precondition

FORMAT = "sparse-sub/neuron-set@1"


@dataclass
class NeuronSet:
    language: str
    layers: list[list[int]]  # one ascending index list per layer (length = num_layers)
    intermediate_size: int = 0  # 0 when unknown (e.g. imported from the reference format)

    @property
    def neuron_count(self) -> int:
        return sum(len(indices) for indices in self.layers)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "language": self.language,
                "num_layers": len(self.layers),
                "intermediate_size": self.intermediate_size,
                "neuron_count": self.neuron_count,
                "layers": self.layers,
            }
        )


def save_neuron_set(path: str | Path, neuron_set: NeuronSet) -> None:
    write_text(path, neuron_set.to_json() + "\n")


def load_neuron_set(path: str | Path, field_name: str) -> NeuronSet:
    file = Path(path)
    if not file.is_file():
        raise not_found(field_name, str(path), "neuron set")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise precondition("BAD_NEURON_SET", f"{field_name}: {path} is not JSON ({error})", field_name) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise precondition("BAD_NEURON_SET", f"{field_name}: {path} is not a {FORMAT} file", field_name)
    layers = data.get("layers")
    if not isinstance(layers, list) or not all(isinstance(l, list) and all(isinstance(i, int) and i >= 0 for i in l) for l in layers):
        raise precondition("BAD_NEURON_SET", f"{field_name}: {path}: 'layers' must be a list of lists of neuron indices", field_name)
    return NeuronSet(str(data.get("language", "")), [sorted(set(l)) for l in layers], int(data.get("intermediate_size", 0)))


def check_fits(neuron_set: NeuronSet, num_layers: int, intermediate_size: int, field_name: str) -> None:
    """Refuses a set made for another model shape, naming the mismatch."""
    if len(neuron_set.layers) != num_layers:
        raise precondition("SHAPE_MISMATCH", f"{field_name}: set has {len(neuron_set.layers)} layers, the model has {num_layers}", field_name)
    for layer, indices in enumerate(neuron_set.layers):
        if indices and indices[-1] >= intermediate_size:
            raise precondition(
                "SHAPE_MISMATCH",
                f"{field_name}: layer {layer} names neuron {indices[-1]}, the model has {intermediate_size} per layer",
                field_name,
            )
    if neuron_set.neuron_count == 0:
        raise precondition("EMPTY_NEURON_SET", f"{field_name}: the neuron set for '{neuron_set.language}' is empty", field_name)


def import_reference(path: str | Path, languages: list[str]) -> tuple[list[NeuronSet], list[str]]:
    """Reads a reference file. The reference drops TRAILING languages that got no neuron, so the
    file may hold fewer entries than languages: those are returned as missing."""
    if not Path(path).is_file():
        raise not_found("reference_path", str(path), "reference neuron file")
    try:
        data = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as error:
        raise precondition("BAD_REFERENCE_FILE", f"reference_path: cannot read {path} ({error})", "reference_path") from None
    if not isinstance(data, (list, tuple)) or not all(isinstance(entry, (list, tuple)) for entry in data):
        raise precondition("BAD_REFERENCE_FILE", f"reference_path: {path} is not a List[language][layer] of tensors", "reference_path")
    if len(data) > len(languages):
        raise invalid("languages", f"{path} holds {len(data)} languages but {len(languages)} codes were given")
    sets = []
    for language, per_layer in zip(languages, data):
        layers = [sorted(int(i) for i in torch.as_tensor(t).flatten().tolist()) for t in per_layer]
        sets.append(NeuronSet(language, layers))
    return sets, list(languages[len(data):])


def export_reference(path: str | Path, sets: list[NeuronSet], num_layers: int) -> None:
    """Writes List[language][layer] -> LongTensor in the given language order."""
    data = []
    for neuron_set in sets:
        if len(neuron_set.layers) != num_layers:
            raise invalid("num_layers", f"set '{neuron_set.language}' has {len(neuron_set.layers)} layers, expected {num_layers}")
        data.append([torch.tensor(indices, dtype=torch.long) for indices in neuron_set.layers])
    with atomic_path(path) as tmp:
        torch.save(data, tmp)


def draw_random_set(like: NeuronSet, num_layers: int, intermediate_size: int, seed: int, per_layer: bool) -> NeuronSet:
    """The random-subset baseline: as many neurons as `like`, drawn without replacement.

    per_layer=False (the reference): uniform over all (layer, neuron) pairs, so only the TOTAL
    count matches. per_layer=True: the same count in every layer as `like`. The same seed
    always draws the same set (torch.randperm on a CPU generator)."""
    generator = torch.Generator().manual_seed(seed)
    layers: list[list[int]] = [[] for _ in range(num_layers)]
    if per_layer:
        for layer, indices in enumerate(like.layers):
            if indices:
                layers[layer] = sorted(torch.randperm(intermediate_size, generator=generator)[: len(indices)].tolist())
    else:
        for flat in torch.randperm(num_layers * intermediate_size, generator=generator)[: like.neuron_count].tolist():
            layers[flat // intermediate_size].append(flat % intermediate_size)
        layers = [sorted(indices) for indices in layers]
    return NeuronSet(like.language, layers, intermediate_size)
