"""Python side of the TypeScript integration tests: files only the worker's own code can make, and
reads of model weights the tests compare. Each command prints JSON when it returns something.

    python test/helpers/fixtures.py make-packs MODEL_DIR OUT_DIR
    python test/helpers/fixtures.py up-rows MODEL_DIR
    python test/helpers/fixtures.py merged-changes MODEL_DIR PACK OUT_DIR
    python test/helpers/fixtures.py reference-file PATH LAYERS_JSON
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


COMMANDS = {"make-packs": make_packs, "up-rows": up_rows, "merged-changes": merged_changes, "reference-file": reference_file}

if __name__ == "__main__":
    name, *args = sys.argv[1:]
    if name not in COMMANDS:
        sys.exit(f"unknown command {name!r}: one of {', '.join(COMMANDS)}")
    out = COMMANDS[name](*args)
    if out is not None:
        print(json.dumps(out))
