"""Smoke run of the benchmark programs (bench/) at tiny sizes: they run, and what they measure
matches the formulas (the benchmarks themselves are not run in CI)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
from shapes import SHAPES  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
SMALL = SHAPES["small"]
L, H, I = SMALL["num_hidden_layers"], SMALL["hidden_size"], SMALL["intermediate_size"]


def bench(script: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, str(BENCH / script), *args], env=ENV, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("method", ["sparse", "masked", "clone", "lora"])
def test_training_bench_measures_what_each_method_keeps(method):
    result = bench("training.py", "--method", method, "--share", "0.01", "--steps", "1", "--sequence-length", "16")
    assert result["seconds_per_step"] > 0 and result["peak_bytes"] > 0
    k = L * round(I * 0.01)  # neurons trained
    trainable = {"sparse": k * 3 * H, "clone": k * 3 * H, "masked": L * 3 * H * I, "lora": L * 16 * 3 * (H + I)}[method]
    assert result["trainable_parameters"] == trainable
    assert result["gradient_bytes"] == trainable * 4
    # AdamW: exp_avg + exp_avg_sq per parameter, plus a 4-byte step counter per tensor
    assert trainable * 8 <= result["optimizer_state_bytes"] <= trainable * 8 + 64 * L * 3


def test_collection_bench_counts_do_not_depend_on_batch_size():
    result = bench("collection.py", "--sequences", "4", "--sequence-length", "16", "--repeats", "1")
    assert result["counts_identical_across_batch_sizes"] is True
    assert result["plain_tokens_per_second"] > 0 and result["collect_tokens_per_second"] > 0


def test_scoring_bench_compares_two_paths_that_agree():
    result = bench("scoring.py", "--items", "2", "--passage-words", "20")
    assert result["same_predictions"] is True
    # 2 items x (passage once + 4 options) vs 2 items x 4 x (passage + option)
    assert result["shared_tokens"] < result["independent_tokens"]


def test_gradient_masking_baseline_trains_the_same_slices_as_the_sparse_trainer(tiny):
    """The yardstick is a fair one: without weight decay, masking full-matrix gradients gives
    exactly the sparse trainer's slices."""
    from sparse_sub_worker.methods.subnetwork import SubnetworkTrainable
    from sparse_sub_worker.neuron_sets import NeuronSet
    from sparse_sub_worker.testing.baselines import gradient_masking_installed

    neurons = [[1, 5], [], [7]]
    ids = torch.randint(0, 200, (2, 12), generator=torch.Generator().manual_seed(0))

    def steps(params):
        optimizer = torch.optim.AdamW(params, lr=1e-2, weight_decay=0.0)
        for _ in range(3):
            tiny.model(input_ids=ids, labels=ids).loss.backward()
            optimizer.step()
            optimizer.zero_grad()

    trainable = SubnetworkTrainable(tiny, NeuronSet("x", neurons))
    with trainable.installed() as params:
        steps(params)
        pack = trainable.pack()
    with gradient_masking_installed(tiny.layers, neurons) as params:
        steps(params)
    for layer, idx in enumerate(neurons):
        if not idx:
            continue
        t = torch.tensor(idx)
        torch.testing.assert_close(tiny.layers[layer].up_proj.weight[t], pack.slices[layer]["up_proj"], rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(tiny.layers[layer].down_proj.weight[:, t], pack.slices[layer]["down_proj"], rtol=1e-4, atol=1e-6)
