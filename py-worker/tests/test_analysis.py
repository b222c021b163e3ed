"""Weight-change norms against hand computation for each kind of artifact; alignment's cosine."""

from __future__ import annotations

import pytest
import torch

from sparse_sub_worker.analysis import adapter_deltas, alignment, model_directory_deltas, pack_deltas, weight_change
from sparse_sub_worker.methods.adapters import AdapterSettings, AdapterTrainable, adapter_applied
from sparse_sub_worker.methods.subnetwork import SubnetworkTrainable
from sparse_sub_worker.neuron_sets import NeuronSet

NEURONS = [[1, 5], [], [7]]


def test_pack_change_is_the_slice_change_and_nothing_else(tiny):
    trainable = SubnetworkTrainable(tiny, NeuronSet("af", NEURONS, 64))
    with trainable.installed() as params:
        with torch.no_grad():
            for p in params:
                p.add_(0.5)
        pack = trainable.pack()
    changes = weight_change(pack_deltas(tiny.layers, pack), NEURONS)
    assert sorted(changes) == [0, 2]
    # every element of a k x 32 slice moved by 0.5: norm = 0.5 * sqrt(k * 32)
    assert changes[0]["up_proj"]["neurons"] == pytest.approx(0.5 * (2 * 32) ** 0.5, rel=1e-5)
    assert changes[0]["up_proj"]["matrix"] == pytest.approx(changes[0]["up_proj"]["neurons"], rel=1e-6)
    # measured over another language's neurons, the change is zero
    other = weight_change(pack_deltas(tiny.layers, pack), [[0], [], [8]])
    assert other[2]["down_proj"]["neurons"] == 0 and other[2]["down_proj"]["matrix"] > 0


def test_lora_change_equals_merged_minus_base(tiny, tmp_path):
    base = {l.index: l.up_proj.weight.detach().clone() for l in tiny.layers}
    trainable = AdapterTrainable(tiny, "lora", AdapterSettings(r=2, alpha=4, dropout=0.0))
    with trainable.installed() as params:
        with torch.no_grad():
            for p in params:
                p.normal_(0, 0.1)
        trainable.save(tmp_path / "adapter")
    with adapter_applied(tiny, str(tmp_path / "adapter"), "adapter_path") as peft_model:
        changes = weight_change(adapter_deltas(peft_model, tiny.layers), NEURONS)
        merged = peft_model.merge_and_unload(safe_merge=True)  # only to check; the context restores nothing after this
    expected = (merged.model.layers[0].mlp.up_proj.weight - base[0])
    assert changes[0]["up_proj"]["matrix"] == pytest.approx(float(expected.norm()), rel=1e-4)
    assert changes[0]["up_proj"]["neurons"] == pytest.approx(float(expected[[1, 5]].norm()), rel=1e-4)


def test_model_directory_change(tiny, tiny_model_dir, tmp_path):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    with torch.no_grad():
        model.model.layers[1].mlp.down_proj.weight[:, 3] += 2.0
    model.save_pretrained(tmp_path / "trained")
    changes = weight_change(model_directory_deltas(str(tmp_path / "trained"), tiny.layers), [[], [3], []])
    assert changes[1]["down_proj"]["neurons"] == pytest.approx(2.0 * 32 ** 0.5, rel=1e-5)
    assert changes[0]["gate_proj"] == {"neurons": 0.0, "matrix": 0.0}


def test_alignment_of_a_sentence_with_itself_is_one(tiny):
    same = alignment(tiny.model, tiny.encoder, ["All human beings are born free."] * 2, ["All human beings are born free."] * 2)
    assert len(same) == 3 and all(v == pytest.approx(1.0, abs=1e-5) for v in same)
    different = alignment(tiny.model, tiny.encoder, ["All human beings are born free."], ["Il-bnedmin kollha jitwieldu ħielsa."])
    assert all(-1 <= v < 0.9999 for v in different)
