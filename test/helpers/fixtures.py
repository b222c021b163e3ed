"""Python side of the TypeScript integration tests: files only the worker's own code can make, and
reads of model weights the tests compare. Each command prints JSON when it returns something.

    python test/helpers/fixtures.py make-packs MODEL_DIR OUT_DIR
    python test/helpers/fixtures.py up-rows MODEL_DIR
    python test/helpers/fixtures.py merged-changes MODEL_DIR PACK OUT_DIR
    python test/helpers/fixtures.py reference-file PATH LAYERS_JSON
    python test/helpers/fixtures.py read-reference PATH
    python test/helpers/fixtures.py plant MODEL_DIR SET_JSON FACTOR OUT_DIR
    python test/helpers/fixtures.py zeroed-perplexity MODEL_DIR SET_JSON HELDOUT_JSONL SEQUENCE_LENGTH
    python test/helpers/fixtures.py one-component-perplexity MODEL_DIR PACK COMPONENT HELDOUT_JSONL SEQUENCE_LENGTH
    python test/helpers/fixtures.py pack-neurons PACK
    python test/helpers/fixtures.py set-mean-active COUNTS SET_JSON
"""

from __future__ import annotations

import json
import sys

import torch


def make_packs(model_dir: str, out_dir: str) -> None:
    """Two packs on the same model: af sets layer-0 neurons 1, 2 to 1.0; mt sets 2, 3 to 3.0."""
    from sparse_sub_worker.methods.subnetwork import SubnetworkTrainable
    from sparse_sub_worker.models.loading import ModelRequest, load_model
    from sparse_sub_worker.neuron_sets import NeuronSet
    from sparse_sub_worker.packs import save_pack

    loaded = load_model(ModelRequest(model_dir, device="cpu", dtype="float32"))
    for language, neurons, value in (("af", [1, 2], 1.0), ("mt", [2, 3], 3.0)):
        trainable = SubnetworkTrainable(loaded, NeuronSet(language, [neurons, []], loaded.shape.intermediate_size))
        with trainable.installed() as params, torch.no_grad():
            for p in params:
                p.fill_(value)
            save_pack(f"{out_dir}/{language}.safetensors", trainable.pack())


def up_rows(model_dir: str) -> list[float]:
    """The mean of layer 0's up_proj rows 1, 2 and 3."""
    from transformers import AutoModelForCausalLM

    up = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).model.layers[0].mlp.up_proj.weight
    return [float(up[i].mean()) for i in (1, 2, 3)]


def merged_changes(model_dir: str, pack_path: str, out_dir: str) -> dict:
    """Merges the pack into a model directory, then lists per parameter the rows and columns that
    differ from the base, beside the pack's neuron indices."""
    from transformers import AutoModelForCausalLM

    from sparse_sub_worker.models.loading import ModelRequest, load_model
    from sparse_sub_worker.packs import load_pack, merge_to_directory

    base = load_model(ModelRequest(model_dir, device="cpu", dtype="float32"))
    pack = load_pack(pack_path, "pack")
    before = {n: p.detach().clone() for n, p in base.model.named_parameters()}
    merge_to_directory(base.model, base.tokenizer, base.layers, [pack], out_dir)
    merged = dict(AutoModelForCausalLM.from_pretrained(out_dir, dtype=torch.float32).named_parameters())
    changed = {}
    for name, weight in before.items():
        diff = merged[name] != weight
        if diff.any():
            changed[name] = {"rows": diff.any(dim=1).nonzero().flatten().tolist(), "cols": diff.any(dim=0).nonzero().flatten().tolist()}
    return {"changed": changed, "indices": {str(layer): t.tolist() for layer, t in pack.neuron_indices.items()}}


def reference_file(path: str, layers_json: str) -> None:
    """A neuron file in the reference code's format: per language, per layer, a LongTensor."""
    torch.save([[torch.tensor(layer, dtype=torch.long) for layer in language] for language in json.loads(layers_json)], path)


def plant(model_dir: str, set_json: str, factor: str, out_dir: str) -> None:
    """The model with the set's neurons made to matter: their down_proj columns scaled by FACTOR."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    with torch.no_grad():
        for layer, indices in zip(model.model.layers, json.load(open(set_json))["layers"]):
            layer.mlp.down_proj.weight[:, indices] *= float(factor)
    model.save_pretrained(out_dir)
    AutoTokenizer.from_pretrained(model_dir).save_pretrained(out_dir)


def zeroed_perplexity(model_dir: str, set_json: str, heldout: str, sequence_length: str) -> float:
    """Held-out perplexity of the model whose down_proj columns of the set are zeroed in the weights
    (no hook): what switching those neurons off must give."""
    from sparse_sub_worker.corpus import TextFilesCorpus, load_sequences
    from sparse_sub_worker.evaluation import score_sequences
    from sparse_sub_worker.models.loading import ModelRequest, load_model

    loaded = load_model(ModelRequest(model_dir, device="cpu", dtype="float32"))
    with torch.no_grad():
        for layer, indices in zip(loaded.model.model.layers, json.load(open(set_json))["layers"]):
            layer.mlp.down_proj.weight[:, indices] = 0
    sequences = load_sequences(TextFilesCorpus((heldout,)), loaded.encoder, "x", int(sequence_length), separate_documents=True, keep_tail=True)
    return score_sequences(loaded.model, sequences, 4).perplexity


def one_component_perplexity(model_dir: str, pack: str, component: str, heldout: str, sequence_length: str) -> float:
    """Held-out perplexity of the model with one component's slices of the pack copied into its
    weights by hand (safetensors read directly, not packs.py): what pack_components must give."""
    from safetensors.torch import load_file
    from sparse_sub_worker.corpus import TextFilesCorpus, load_sequences
    from sparse_sub_worker.evaluation import score_sequences
    from sparse_sub_worker.models.loading import ModelRequest, load_model

    loaded = load_model(ModelRequest(model_dir, device="cpu", dtype="float32"))
    tensors = load_file(pack)
    with torch.no_grad():
        for i, layer in enumerate(loaded.model.model.layers):
            key = f"layers.{i}.{component}_proj"
            if key not in tensors:
                continue
            indices = tensors[f"layers.{i}.neuron_indices"]
            weight = getattr(layer.mlp, f"{component}_proj").weight
            if component == "down":
                weight[:, indices] = tensors[key].to(weight.dtype)
            else:
                weight[indices] = tensors[key].to(weight.dtype)
    sequences = load_sequences(TextFilesCorpus((heldout,)), loaded.encoder, "x", int(sequence_length), separate_documents=True, keep_tail=True)
    return score_sequences(loaded.model, sequences, 4).perplexity


def pack_neurons(pack: str) -> list:
    """A pack's neuron indices per layer (safetensors read directly)."""
    from safetensors.torch import load_file

    tensors = load_file(pack)
    layers = sorted(int(k.split(".")[1]) for k in tensors if k.endswith(".neuron_indices"))
    return {str(l): tensors[f"layers.{l}.neuron_indices"].tolist() for l in layers}


def set_mean_active(counts: str, set_json: str) -> float:
    """The mean over a set's neurons of active_sum / over_zero, read from the counts file directly."""
    from safetensors.torch import load_file

    tensors = load_file(counts)
    with open(set_json, encoding="utf-8") as f:
        layers = json.load(f)["layers"]
    values = [float(tensors["active_sum"][layer, i]) / int(tensors["over_zero"][layer, i]) for layer, indices in enumerate(layers) for i in indices]
    return sum(values) / len(values)


def read_reference(path: str) -> list:
    """A reference torch.save file as lists (weights_only: as a careful user would read it)."""
    return [[t.tolist() for t in language] for language in torch.load(path, weights_only=True)]


COMMANDS = {"one-component-perplexity": one_component_perplexity, "pack-neurons": pack_neurons, "set-mean-active": set_mean_active, "read-reference": read_reference, "plant": plant, "zeroed-perplexity": zeroed_perplexity, "make-packs": make_packs, "up-rows": up_rows, "merged-changes": merged_changes, "reference-file": reference_file}

if __name__ == "__main__":
    name, *args = sys.argv[1:]
    if name not in COMMANDS:
        sys.exit(f"unknown command {name!r}: one of {', '.join(COMMANDS)}")
    out = COMMANDS[name](*args)
    if out is not None:
        print(json.dumps(out))
