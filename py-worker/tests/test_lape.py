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


def _refused(call, reason: str, field: str, message: str) -> None:
    with pytest.raises(WorkerError) as error:
        call()
    assert (error.value.reason, error.value.field, error.value.message) == (reason, field, message)


def test_each_rate_must_lie_in_0_to_1_and_names_itself():
    for name in ("top_rate", "filter_rate", "activation_bar_ratio"):
        for value in (0.0, 1.0001, 2.0, -0.5):
            _refused(lambda: select_language_neurons(COUNTS, TOKENS, **{name: value}), "INVALID_FIELD", name, f"{name}: must be in (0, 1], got {value}")
        select_language_neurons(COUNTS, TOKENS, **{name: 1.0})  # 1 is allowed: everything / the maximum


def test_counts_that_do_not_fit_their_languages_are_refused_naming_counts():
    shape = "counts: counts shape {} does not match {} languages"
    _refused(lambda: select_language_neurons(COUNTS[0], TOKENS), "INVALID_FIELD", "counts", shape.format((4, 2), 2))  # 2-D
    _refused(lambda: select_language_neurons(COUNTS, torch.tensor([10, 10, 10])), "INVALID_FIELD", "counts", shape.format((1, 4, 2), 3))
    _refused(lambda: select_language_neurons(COUNTS[..., :1], TOKENS[:1]), "TOO_FEW_LANGUAGES", "counts", "LAPE needs activation counts for at least 2 languages")
    _refused(lambda: select_language_neurons(COUNTS, torch.tensor([10, 0])), "EMPTY_COUNTS", "counts", "a language has a token count of 0")
    _refused(lambda: select_language_neurons(COUNTS, torch.tensor([-1, 10])), "EMPTY_COUNTS", "counts", "a language has a token count of 0")
    one_token = select_language_neurons(torch.tensor([[[1, 0], [0, 1]]]), torch.tensor([1, 1]), top_rate=1.0, filter_rate=0.5, activation_bar_ratio=0.5)
    assert one_token.neurons == [[[0]], [[1]]]  # a single token is a count, not an empty language


def test_the_quantile_of_a_tiny_set_is_its_smallest_value_at_a_small_rate():
    from sparse_sub_worker.lape import _quantile

    values = torch.tensor([0.4, 0.1, 0.3, 0.2])
    # round(4 * 0.1) = 0 -> clamped to the 1st smallest; round(4 * 0.3) = 1 -> the 1st; 0.5 -> 2nd; 1.0 -> the 4th
    assert [_quantile(values, rate) for rate in (0.1, 0.3, 0.5, 1.0)] == pytest.approx([0.1, 0.1, 0.2, 0.4])


def test_the_selection_keeps_the_probabilities_it_chose_from():
    selection = select_language_neurons(COUNTS, TOKENS, top_rate=0.5, filter_rate=0.5, activation_bar_ratio=0.5)
    expected = torch.tensor([[[1.0, 0.0], [0.0, 0.8], [0.5, 0.5], [0.1, 0.1]]])
    assert selection.probabilities.dtype == torch.float32 and torch.allclose(selection.probabilities, expected)


def reference_lape(over_zero, n, top_rate, filter_rate, activation_bar_ratio, float64=False):
    """Tang et al.'s identify.py (and the paper's copy of it), transcribed line for line: the
    counts as its activation.py saves them (int32), n a tensor of Python ints, `over_zero / n`
    in torch's default float32. float64=True is the variant that misses near-ties."""
    num_layers, intermediate, _ = over_zero.shape
    over_zero = over_zero.to(torch.int32)
    n = torch.tensor([int(t) for t in n])
    activation_probs = over_zero.double() / n.double() if float64 else over_zero / n
    normed_activation_probs = activation_probs / activation_probs.sum(dim=-1, keepdim=True)
    normed_activation_probs[torch.isnan(normed_activation_probs)] = 0
    log_probs = torch.where(normed_activation_probs > 0, normed_activation_probs.log(), 0)
    entropy = -torch.sum(normed_activation_probs * log_probs, dim=-1)
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


def same_as_reference(ours, theirs) -> bool:
    """The reference drops trailing languages without neurons; compare what it kept."""
    return ours[: len(theirs)] == theirs and all(sum(map(len, s)) == 0 for s in ours[len(theirs):])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_reference_on_random_counts(seed):
    generator = torch.Generator().manual_seed(seed)
    layers, neurons, languages = 4, 200, 5
    tokens = torch.randint(5_000, 10_000, (languages,), generator=generator)
    # skewed: most neurons fire rarely, some fire for one language a lot
    base = torch.rand(layers, neurons, languages, generator=generator) ** 3
    counts = (base * tokens).long()
    ours = select_language_neurons(counts, tokens, top_rate=0.05, filter_rate=0.95, activation_bar_ratio=0.95)
    assert same_as_reference(ours.neurons, reference_lape(counts, tokens, 0.05, 0.95, 0.95))
    assert sum(map(len, ours.neurons[0])) > 0


def paper_scale_counts(seed: int):
    """Counts at the paper's shape (Llama-3.1-8B: 32 x 14336, 12 languages, 10^7-10^8 tokens
    each), with language-specific neurons concentrated in late layers as in the released masks."""
    generator = torch.Generator().manual_seed(seed)
    layers, neurons, languages = 32, 14336, 12
    tokens = torch.randint(10_000_000, 100_000_000, (languages,), generator=generator)
    p = torch.rand(layers, neurons, 1, generator=generator, dtype=torch.float64) ** 4 * 0.5          # shared firing rate
    p = p * (0.9 + 0.2 * torch.rand(layers, neurons, languages, generator=generator, dtype=torch.float64))
    specific = torch.rand(layers, neurons, generator=generator) < torch.linspace(0.001, 0.02, layers)[:, None]
    owner = torch.randint(0, languages, (layers, neurons), generator=generator)
    boost = torch.zeros(layers, neurons, languages, dtype=torch.float64).scatter_(2, owner[..., None], 0.4)
    p = (p + boost * specific[..., None]).clamp(max=1.0)
    return (p * tokens.double()).round().long(), tokens


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bit_identical_to_the_float32_reference_at_paper_scale(seed):
    counts, tokens = paper_scale_counts(seed)
    ours = select_language_neurons(counts, tokens, top_rate=0.05, filter_rate=0.95, activation_bar_ratio=0.95)
    theirs = reference_lape(counts, tokens, 0.05, 0.95, 0.95)
    assert same_as_reference(ours.neurons, theirs)
    assert ours.selected_count == round(32 * 14336 * 0.05)


def test_float32_not_float64_at_a_threshold():
    """50,000,001 / 10^8 and 50,000,000 / 10^8 are one float32: the neuron at p = 0.50000001
    is not above a bar of 0.5 in the reference, and must not be here either."""
    n = 100_000_000
    counts = torch.tensor([[[50_000_000, 0], [50_000_001, 0], [90_000_000, 0], [80_000_000, 0]]])
    tokens = torch.tensor([n, n])
    args = (0.75, 0.625, 0.625)  # 3 of 4 neurons; both bars at the 5th of 8 values, 0.5
    ours = select_language_neurons(counts, tokens, *args)
    assert same_as_reference(ours.neurons, reference_lape(counts, tokens, *args))
    assert ours.neurons[0] == [[2, 3]]
    assert reference_lape(counts, tokens, *args, float64=True)[0] == [[1, 2, 3]]


def test_float32_not_float64_at_the_top_k_cut():
    """Two neurons whose entropies differ in float64 but are one value in float32: which of
    them the top-k keeps is the reference's float32 tie, not float64's strict order."""
    n = 100_000_000
    # neuron 0: p [0.50000001, 0.2] (lower entropy in float64 only); neuron 1: p [0.5, 0.2]
    counts = torch.tensor([[[50_000_001, 20_000_000], [50_000_000, 20_000_000], [1, 1], [1, 1]]])
    tokens = torch.tensor([n, n])
    args = (0.25, 0.5, 0.25)
    ours = select_language_neurons(counts, tokens, *args)
    theirs32 = reference_lape(counts, tokens, *args)
    theirs64 = reference_lape(counts, tokens, *args, float64=True)
    assert same_as_reference(ours.neurons, theirs32)
    assert theirs64 == [[[0]], [[0]]] and theirs32 != theirs64


def test_a_probability_equal_to_the_activation_bar_does_not_own_the_neuron():
    """The bar is strict (p > bar), as the reference's. Ties are common: p is a count over a token
    count. n1 below fires for lang 1 with p = 0.5, exactly the bar:
      n0 [0.9, 0.0] LAPE 0, n1 [0.0, 0.5] LAPE 0, n2 [0.5, 0.5] LAPE ln 2, n3 [0.1, 0.1] LAPE ln 2
      sorted p: 0 0 .1 .1 .5 .5 .5 .9; bar rate 0.75 -> k = 6 -> bar = 0.5; rate 0.5 -> bar = 0.1"""
    counts = torch.tensor([[[9, 0], [0, 5], [5, 5], [1, 1]]], dtype=torch.int64)
    at_bar = select_language_neurons(counts, TOKENS, top_rate=0.5, filter_rate=0.25, activation_bar_ratio=0.75)
    assert at_bar.activation_threshold == 0.5
    assert at_bar.neurons == [[[0]], [[]]]  # n1's 0.5 is not above 0.5
    below_bar = select_language_neurons(counts, TOKENS, top_rate=0.5, filter_rate=0.25, activation_bar_ratio=0.5)
    assert below_bar.neurons == [[[0]], [[1]]]


def test_probabilities_read_one_file_at_a_time_select_what_the_reference_selects(tmp_path):
    """The atlas path (SelectNeurons): p filled language by language from counts files, entropy
    per layer, against the reference's one broadcast over all K at once, at many languages."""
    from types import SimpleNamespace

    from sparse_sub_worker.activations import ActivationCounts, activation_probabilities, save_counts
    from sparse_sub_worker.lape import select_from_probabilities

    generator = torch.Generator().manual_seed(7)
    layers, neurons, languages = 6, 300, 40
    tokens = torch.randint(1_000, 50_000, (languages,), generator=generator)
    counts = ((torch.rand(layers, neurons, languages, generator=generator) ** 3) * tokens).long()
    files = []
    for k in range(languages):
        path = tmp_path / f"l{k}.safetensors"
        save_counts(path, ActivationCounts(counts[:, :, k].contiguous(), int(tokens[k])), f"l{k}", "m")
        files.append(SimpleNamespace(path=str(path)))
    p = activation_probabilities(files)
    assert torch.equal(p, counts / tokens)  # bit for bit the reference's division
    ours = select_from_probabilities(p, top_rate=0.05, filter_rate=0.95, activation_bar_ratio=0.95)
    assert same_as_reference(ours.neurons, reference_lape(counts, tokens, 0.05, 0.95, 0.95))
    assert sum(sum(map(len, s)) for s in ours.neurons) > 0


def test_counts_files_of_different_shapes_or_no_tokens_are_refused_naming_the_file(tmp_path):
    from types import SimpleNamespace

    from sparse_sub_worker.activations import ActivationCounts, activation_probabilities, save_counts

    save_counts(tmp_path / "a.safetensors", ActivationCounts(torch.zeros(2, 4, dtype=torch.int64), 5), "a", "m")
    save_counts(tmp_path / "b.safetensors", ActivationCounts(torch.zeros(2, 3, dtype=torch.int64), 5), "b", "m")
    save_counts(tmp_path / "c.safetensors", ActivationCounts(torch.zeros(2, 4, dtype=torch.int64), 0), "c", "m")
    entries = lambda *names: [SimpleNamespace(path=str(tmp_path / f"{n}.safetensors")) for n in names]
    with pytest.raises(WorkerError, match=r"different model shapes: \(2, 4\) and \(2, 3\).*b\.safetensors") as error:
        activation_probabilities(entries("a", "b"), "select.counts")
    assert (error.value.reason, error.value.field) == ("INVALID_FIELD", "select.counts")
    with pytest.raises(WorkerError, match=r"counts\[1\]\.path: .*c\.safetensors has a token count of 0") as error:
        activation_probabilities(entries("a", "c"))
    assert (error.value.reason, error.value.field) == ("EMPTY_COUNTS", "counts[1].path")
    with pytest.raises(WorkerError) as error:
        activation_probabilities(entries("a", "missing"))
    assert error.value.field == "counts[1].path"
    # one token is enough; p is float32 whatever the counts' dtype
    save_counts(tmp_path / "d.safetensors", ActivationCounts(torch.ones(2, 4, dtype=torch.int64), 1), "d", "m")
    p = activation_probabilities(entries("a", "d"))
    assert p.dtype == torch.float32 and p[:, :, 1].eq(1).all() and p[:, :, 0].eq(0).all()
