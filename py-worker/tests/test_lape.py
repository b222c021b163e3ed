"""LAPE selection against hand-computed answers and a literal port of the reference code."""

import math

import pytest
import torch

from sparse_sub_worker.errors import WorkerError
from sparse_sub_worker.lape import select_language_neurons

# 1 layer x 4 neurons x 2 languages, 10 tokens each. p per neuron:
#   n0 [1.0, 0.0]  LAPE 0       fires only for lang 0
#   n1 [0.0, 0.8]  LAPE 0       fires only for lang 1
#   n2 [0.5, 0.5]  LAPE ln 2    shared
#   n3 [0.1, 0.1]  LAPE ln 2    never above the filter bar -> +inf
# sorted p: 0 0 .1 .1 .5 .5 .8 1 ; rate 0.5 -> k = 4 -> bar = 0.1
COUNTS = torch.tensor([[[10, 0], [0, 8], [5, 5], [1, 1]]], dtype=torch.int64)
TOKENS = torch.tensor([10, 10])


def test_entropy_and_filter_by_hand():
    selection = select_language_neurons(COUNTS, TOKENS, top_rate=0.5, filter_rate=0.5, activation_bar_ratio=0.5)
    assert selection.filter_threshold == pytest.approx(0.1)
    assert selection.lape[0, :3].tolist() == pytest.approx([0.0, 0.0, math.log(2)])
    assert selection.lape[0, 3].item() == math.inf
    assert selection.selected_count == 2
    assert selection.neurons == [[[0]], [[1]]]


def test_shared_neuron_is_assigned_to_every_language_above_the_bar():
    selection = select_language_neurons(COUNTS, TOKENS, top_rate=0.75, filter_rate=0.5, activation_bar_ratio=0.5)
    assert selection.neurons == [[[0, 2]], [[1, 2]]]


def test_selection_is_global_across_layers():
    # layer 0 neurons are all shared (high entropy); layer 1 holds every specific one.
    counts = torch.tensor([[[5, 5], [6, 6]], [[9, 0], [0, 9]]], dtype=torch.int64)
    selection = select_language_neurons(counts, torch.tensor([10, 10]), top_rate=0.5, filter_rate=0.5, activation_bar_ratio=0.5)
    assert selection.neurons == [[[], [0]], [[], [1]]]


def test_bad_parameters_name_the_field():
    with pytest.raises(WorkerError, match="top_rate"):
        select_language_neurons(COUNTS, TOKENS, top_rate=0.0)
    with pytest.raises(WorkerError, match="at least 2 languages"):
        select_language_neurons(COUNTS[..., :1], TOKENS[:1])


def reference_lape(over_zero, n, top_rate, filter_rate, activation_bar_ratio):
    """Tang et al.'s identify.py, transcribed (float64 instead of float32)."""
    num_layers, intermediate, _ = over_zero.shape
    activation_probs = over_zero.double() / n.double()
    normed = activation_probs / activation_probs.sum(dim=-1, keepdim=True)
    normed[torch.isnan(normed)] = 0
    log_probs = torch.where(normed > 0, normed.log(), 0)
    entropy = -torch.sum(normed * log_probs, dim=-1)
    flattened_probs = activation_probs.flatten()
    top_prob_value = flattened_probs.kthvalue(round(len(flattened_probs) * filter_rate)).values.item()
    top_position = (activation_probs > top_prob_value).sum(dim=-1)
    entropy[top_position == 0] = torch.inf
    flattened_entropy = entropy.flatten()
    top_entropy_value = round(len(flattened_entropy) * top_rate)
    _, index = flattened_entropy.topk(top_entropy_value, largest=False)
    row_index = index // entropy.size(1)
    col_index = index % entropy.size(1)
    selected_probs = activation_probs[row_index, col_index].transpose(0, 1)
    activation_bar = flattened_probs.kthvalue(round(len(flattened_probs) * activation_bar_ratio)).values.item()
    lang, indice = torch.where(selected_probs > activation_bar)
    merged_index = torch.stack((row_index, col_index), dim=-1)
    final = []
    for _, idx in enumerate(indice.split(torch.bincount(lang).tolist())):
        pairs = sorted(tuple(row.tolist()) for row in merged_index[idx])
        layer_index = [[] for _ in range(num_layers)]
        for l, h in pairs:
            layer_index[l].append(h)
        final.append(layer_index)
    return final


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_reference_on_random_counts(seed):
    generator = torch.Generator().manual_seed(seed)
    layers, neurons, languages = 4, 200, 5
    tokens = torch.randint(5_000, 10_000, (languages,), generator=generator)
    # skewed: most neurons fire rarely, some fire for one language a lot
    base = torch.rand(layers, neurons, languages, generator=generator) ** 3
    counts = (base * tokens).long()
    ours = select_language_neurons(counts, tokens, top_rate=0.05, filter_rate=0.95, activation_bar_ratio=0.95)
    theirs = reference_lape(counts, tokens, 0.05, 0.95, 0.95)
    # the reference drops trailing languages without neurons; compare what it kept
    assert ours.neurons[: len(theirs)] == theirs
    assert all(sum(map(len, s)) == 0 for s in ours.neurons[len(theirs):])
    assert sum(map(len, ours.neurons[0])) > 0
