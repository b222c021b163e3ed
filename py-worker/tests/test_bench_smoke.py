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
    result = bench("collection.py", "--sequences", "4", "--sequence-length", "16", "--pairs", "1")
    assert result["counts_identical_across_batch_sizes"] is True
    assert result["plain_tokens_per_second"] > 0 and result["collect_tokens_per_second"] > 0
    assert result["ratio"]["pairs"] == 1 and result["ratio"]["low"] == result["ratio"]["median"] == result["ratio"]["high"] > 0


def test_step_pairs_and_control_plane_benches_report_paired_ratios():
    steps = bench("step_pairs.py", "--sequence-length", "16", "--rounds", "2", "--steps", "1")
    assert set(steps["seconds_per_step"]) == {"sparse", "lora", "clone"}
    ratios = steps["sparse_vs_lora"]["ratios"]
    assert len(ratios) == 2 and steps["sparse_vs_lora"]["median"] == pytest.approx(sum(ratios) / 2)
    control = bench("control_plane.py", "--steps", "2", "--pairs", "1")
    assert control["job_ratio"]["median"] == pytest.approx(control["grpc_seconds"] / control["direct_seconds"])
    assert control["messages_per_job"] >= 2  # progress + the result
    # the bound: 1 + (1 + messages) x per-call cost / job time
    expected = 1 + (1 + control["messages_per_job"]) * control["unary_call_overhead_seconds"]["median"] / control["direct_seconds"]
    assert control["ratio"]["median"] == pytest.approx(expected)


def test_median_interval_and_verdicts_by_hand():
    from paired import median, median_interval, verdict

    assert median([3, 1, 2]) == 2 and median([4, 1, 3, 2]) == 2.5
    assert median_interval([5, 1, 4, 2, 3]) == (1, 5)  # n=5: only min-max covers >= 95% (93.75% is the most there is)
    # n=9: P(Binom(9, 1/2) < 2) = 10/512, so [x_(2), x_(8)] covers 1 - 20/512 = 96.1%; [x_(3), x_(7)] only 82%
    assert median_interval(list(range(1, 10))) == (2, 8)
    assert verdict(0.90, 1.04, 1.05) == "met"
    assert verdict(1.06, 1.20, 1.05) == "missed"
    assert verdict(1.00, 1.10, 1.05) == "not resolved"


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


def test_gpu_check_runs_its_pipeline_jobs_on_the_cpu():
    """The GPU check's dry run (--device cpu --quick): the same jobs over real gRPC at a tiny
    shape, so a GPU session does not spend its minutes on a broken script."""
    report = bench("gpu_check.py", "--device", "cpu", "--quick")
    pipeline = report["pipeline"]
    assert pipeline["finite"] is True
    assert set(pipeline["seconds"]) == {"collect:en", "collect:af", "select", "train:sparse", "train:lora", "evaluate:sparse"}
    assert pipeline["results"]["selected_neurons"] > 0
    assert set(pipeline["results"]["perplexity"]) == {"en", "af"}
