"""Deactivating neurons (Tang et al.'s causal test): the hook switches off exactly the named
neurons, matches a model whose down_proj columns are zeroed by hand, and leaves nothing behind."""

from __future__ import annotations

import copy

import pytest
import torch

from sparse_sub_worker.corpus import TextFilesCorpus, load_sequences
from sparse_sub_worker.evaluation import score_sequences
from sparse_sub_worker.gen.sparse_sub.v1 import worker_pb2 as pb
from sparse_sub_worker.interventions import deactivated
from sparse_sub_worker.neuron_sets import NeuronSet, save_neuron_set

PLANTED = [[1, 5, 60], [], [0, 2, 3, 63]]  # 3 layers x 64 neurons (conftest's tiny model)


def _down_inputs(loaded, ids):
    """What each layer's down_proj receives ([B, S, I] per layer)."""
    seen = []
    handles = [layer.down_proj.register_forward_hook(lambda _m, args, _out: seen.append(args[0].clone())) for layer in loaded.layers]
    try:
        with torch.no_grad():
            logits = loaded.model(input_ids=ids).logits
    finally:
        for handle in handles:
            handle.remove()
    return seen, logits


def test_only_the_named_neurons_are_switched_off_and_everything_is_restored(tiny):
    ids = torch.randint(5, 200, (2, 12), generator=torch.Generator().manual_seed(0))
    weights = {k: v.clone() for k, v in tiny.model.state_dict().items()}
    before, logits_before = _down_inputs(tiny, ids)
    with deactivated(tiny.layers, NeuronSet("af", PLANTED, 64)) as count:
        during, logits_during = _down_inputs(tiny, ids)
    after, logits_after = _down_inputs(tiny, ids)
    assert count == 7
    # layer 0 is upstream of every change: the named columns are 0, the others untouched
    zeroed = torch.zeros(64, dtype=torch.bool)
    zeroed[PLANTED[0]] = True
    assert (during[0][..., zeroed] == 0).all() and (before[0][..., zeroed] != 0).all()
    assert torch.equal(during[0][..., ~zeroed], before[0][..., ~zeroed])
    assert not torch.allclose(logits_during, logits_before)
    assert torch.equal(logits_after, logits_before) and all(torch.equal(a, b) for a, b in zip(after, before))
    assert all(torch.equal(v, weights[k]) for k, v in tiny.model.state_dict().items())
    assert all(not layer.down_proj._forward_pre_hooks for layer in tiny.layers)


def test_the_same_logits_as_a_model_whose_down_proj_columns_are_zeroed_by_hand(tiny):
    ids = torch.randint(5, 200, (2, 12), generator=torch.Generator().manual_seed(1))
    by_hand = copy.deepcopy(tiny.model)
    layers = by_hand.model.layers
    with torch.no_grad():
        for layer, indices in zip(layers, PLANTED):
            layer.mlp.down_proj.weight[:, indices] = 0
        expected = by_hand(input_ids=ids).logits
        with deactivated(tiny.layers, NeuronSet("af", PLANTED, 64)):
            got = tiny.model(input_ids=ids).logits
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)


def test_hooks_are_removed_when_the_block_fails(tiny):
    with pytest.raises(RuntimeError, match="inside"):
        with deactivated(tiny.layers, NeuronSet("af", PLANTED, 64)):
            raise RuntimeError("inside")
    assert all(not layer.down_proj._forward_pre_hooks for layer in tiny.layers)


def _request(tiny_model_dir, text_file, **deactivate):
    return pb.EvaluateRequest(
        job_id="d", model=pb.ModelSpec(source=str(tiny_model_dir), device="cpu", dtype="float32"),
        sets=[pb.EvaluationSet(language="af", corpus=pb.Corpus(text_files=pb.TextFiles(paths=[str(text_file)])))],
        sequence_length=16, batch_size=4, **({"deactivate": pb.NeuronIntervention(**deactivate)} if deactivate else {}))


def test_evaluate_over_grpc_scores_the_deactivated_model(stub, tiny, tiny_model_dir, text_file, tmp_path):
    """The worker's perplexity with the set off equals the hand-zeroed model's, scored here."""
    path = tmp_path / "af.json"
    save_neuron_set(path, NeuronSet("af", PLANTED, 64))
    base = list(stub.Evaluate(_request(tiny_model_dir, text_file)))[-1].result
    off = list(stub.Evaluate(_request(tiny_model_dir, text_file, neuron_set_path=str(path))))[-1].result
    with torch.no_grad():
        for layer, indices in zip(tiny.model.model.layers, PLANTED):
            layer.mlp.down_proj.weight[:, indices] = 0
    sequences = load_sequences(TextFilesCorpus((str(text_file),)), tiny.encoder, "x", 16, separate_documents=True, keep_tail=True)
    expected = score_sequences(tiny.model, sequences, 4)
    assert base.deactivated_neurons == 0 and off.deactivated_neurons == 7
    assert off.scores[0].mean_loss == pytest.approx(expected.mean_loss, rel=1e-6)
    assert abs(off.scores[0].mean_loss - base.scores[0].mean_loss) > 1e-4  # the effect is far above the tolerance
    # the worker's model is the base again afterwards
    assert list(stub.Evaluate(_request(tiny_model_dir, text_file)))[-1].result.scores[0].mean_loss == base.scores[0].mean_loss


def test_the_random_control_switches_off_as_many_neurons_per_layer(stub, tiny_model_dir, text_file, tmp_path, monkeypatch):
    import sparse_sub_worker.server as server

    drawn = []
    real = server.deactivated

    def spy(layers, neuron_set):
        drawn.append(neuron_set)
        return real(layers, neuron_set)

    monkeypatch.setattr(server, "deactivated", spy)
    path = tmp_path / "af.json"
    save_neuron_set(path, NeuronSet("af", PLANTED, 64))
    for seed in (0, 0, 1):
        list(stub.Evaluate(_request(tiny_model_dir, text_file, neuron_set_path=str(path), random_same_size=True, seed=seed)))
    assert [len(layer) for layer in drawn[0].layers] == [3, 0, 4]
    assert drawn[0].layers == drawn[1].layers != drawn[2].layers  # a seed draws one set
    expected = sorted(torch.randperm(64, generator=torch.Generator().manual_seed(0))[:3].tolist())
    assert drawn[0].layers[0] == expected


def test_a_set_that_does_not_fit_the_model_is_refused_naming_the_field(stub, tiny_model_dir, text_file, tmp_path):
    import grpc

    path = tmp_path / "big.json"
    save_neuron_set(path, NeuronSet("af", [[70], [], []], 80))
    with pytest.raises(grpc.RpcError) as error:
        list(stub.Evaluate(_request(tiny_model_dir, text_file, neuron_set_path=str(path))))
    assert "deactivate.neuron_set_path: layer 0 names neuron 70" in error.value.details()
    with pytest.raises(grpc.RpcError) as error:
        list(stub.Evaluate(_request(tiny_model_dir, text_file, neuron_set_path=str(tmp_path / "none.json"))))
    assert error.value.code() == grpc.StatusCode.NOT_FOUND and "deactivate.neuron_set_path" in error.value.details()


def test_steering_zeroes_one_set_adds_to_another_and_leaves_the_rest(tiny):
    from sparse_sub_worker.interventions import steered

    ids = torch.randint(5, 200, (2, 12), generator=torch.Generator().manual_seed(2))
    before, _ = _down_inputs(tiny, ids)
    off, boost = NeuronSet("af", [[1, 5], [], []], 64), NeuronSet("nl", [[5, 9], [], [2]], 64)
    with steered(tiny.layers, off, boost, 2.5):
        during, _ = _down_inputs(tiny, ids)
    assert (during[0][..., 1] == 0).all()
    assert torch.equal(during[0][..., 5], torch.full_like(during[0][..., 5], 2.5))  # in both: off, then pushed
    assert torch.allclose(during[0][..., 9], before[0][..., 9] + 2.5, atol=1e-6)
    untouched = [i for i in range(64) if i not in (1, 5, 9)]
    assert torch.equal(during[0][..., untouched], before[0][..., untouched])
    assert all(not layer.down_proj._forward_pre_hooks for layer in tiny.layers)


def test_language_identification_works_offline_and_tells_afrikaans_from_dutch():
    from sparse_sub_worker.language_id import KNOWN, identify

    texts = ["Alle mense word vry, met gelyke waardigheid en regte, gebore.", "Alle mensen worden vrij en gelijk in waardigheid en rechten geboren.",
             "All human beings are born free and equal in dignity and rights.", "  "]
    assert identify(texts) == ["af", "nl", "en", ""]
    assert {"af", "nl", "cy", "de"} <= KNOWN and "mt" not in KNOWN


def test_steer_over_grpc_gives_base_outputs_of_the_unchanged_model_and_changed_steered_ones(stub, tiny, tiny_model_dir, tmp_path):
    from sparse_sub_worker.tasks.generation import generate

    off, boost = tmp_path / "off.json", tmp_path / "boost.json"
    save_neuron_set(off, NeuronSet("af", PLANTED, 64))
    save_neuron_set(boost, NeuronSet("nl", [[7, 8], [3], []], 64))
    prompts = ["All human beings", "Alle mense word"]
    request = pb.SteerRequest(job_id="s", model=pb.ModelSpec(source=str(tiny_model_dir), device="cpu", dtype="float32"), prompts=prompts,
                              off_neuron_set_path=str(off), boost_neuron_set_path=str(boost), strength=20.0, max_new_tokens=8)
    result = list(stub.Steer(request))[-1].result
    assert [o.base for o in result.outputs] == generate(tiny.model, tiny.encoder, prompts, 8, 8)
    assert [o.steered for o in result.outputs] != [o.base for o in result.outputs]
    assert (result.off_neurons, result.boost_neurons) == (7, 3)
    assert "af" in result.identifiable and all(o.base_language in result.identifiable or o.base_language == "" for o in result.outputs)


class _SetColumns(torch.nn.Module):
    """act_fn with some outputs replaced by constants: Tang's intervention done at act_fn by hand."""

    def __init__(self, act, indices, values):
        super().__init__()
        self.act, self.indices, self.values = act, indices, values

    def forward(self, x):
        out = self.act(x).clone()
        out[..., self.indices] = self.values.to(out.dtype)
        return out


def test_mean_mode_sets_act_fn_of_the_boost_neurons_to_strength_times_their_mean(tiny):
    """The same logits as a model whose act_fn outputs are set by hand; off neurons 0; the rest untouched."""
    from sparse_sub_worker.interventions import steered

    ids = torch.randint(5, 200, (2, 12), generator=torch.Generator().manual_seed(3))
    means = torch.rand(3, 64, generator=torch.Generator().manual_seed(4)) + 0.5
    off, boost = NeuronSet("af", [[1, 5], [], [7]], 64), NeuronSet("nl", [[5, 9], [3, 4], []], 64)
    by_hand = copy.deepcopy(tiny.model)
    for index, (layer, zero, push) in enumerate(zip(by_hand.model.layers, off.layers, boost.layers)):
        only_off = [i for i in zero if i not in push]  # a neuron in both gets the mean
        indices = only_off + push
        values = torch.cat([torch.zeros(len(only_off)), 1.5 * means[index, push]])
        layer.mlp.act_fn = _SetColumns(layer.mlp.act_fn, indices, values)
    weights = {k: v.clone() for k, v in tiny.model.state_dict().items()}
    before, logits_before = _down_inputs(tiny, ids)
    with torch.no_grad():
        expected = by_hand(input_ids=ids).logits
        with steered(tiny.layers, off, boost, 1.5, means):
            got = tiny.model(input_ids=ids).logits
            during, _ = _down_inputs(tiny, ids)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-5)
    assert not torch.allclose(got, logits_before, atol=1e-3)
    up0 = torch.nn.functional.linear(_mlp_inputs(tiny, ids)[0], tiny.layers[0].up_proj.weight)
    torch.testing.assert_close(during[0][..., 9], 1.5 * means[0, 9] * up0[..., 9], rtol=1e-5, atol=1e-6)
    assert (during[0][..., 1] == 0).all()
    untouched = [i for i in range(64) if i not in (1, 5, 9)]
    assert torch.equal(during[0][..., untouched], before[0][..., untouched])
    assert all(not layer.down_proj._forward_pre_hooks and not layer.up_proj._forward_hooks for layer in tiny.layers)
    assert all(torch.equal(v, weights[k]) for k, v in tiny.model.state_dict().items())
    assert torch.equal(tiny.model(input_ids=ids).logits, logits_before)


def _mlp_inputs(loaded, ids):
    seen = []
    handles = [layer.mlp.register_forward_pre_hook(lambda _m, args: seen.append(args[0].clone())) for layer in loaded.layers]
    try:
        with torch.no_grad():
            loaded.model(input_ids=ids)
    finally:
        for handle in handles:
            handle.remove()
    return seen


def test_prompts_are_the_opening_words_of_sentences_with_more_words_than_that():
    from sparse_sub_worker.errors import WorkerError
    from sparse_sub_worker.prompts import draw_prompts

    documents = ["Alle mense word vry gebore. Kort sin. Elkeen het die reg op lewe!\nNog een reël met baie woorde hier",
                 "Niemand mag in slawerny gehou word nie."]
    assert draw_prompts(documents, 10, 3, "p") == ["Alle mense word", "Elkeen het die", "Nog een reël", "Niemand mag in"]
    assert draw_prompts(documents, 2, 3, "p") == ["Alle mense word", "Elkeen het die"]
    assert draw_prompts(["एक दो तीन चार। पाँच छह सात आठ"], 5, 2, "p") == ["एक दो", "पाँच छह"]
    with pytest.raises(WorkerError, match="prompt_corpus: no sentence has more than 9 words") as error:
        draw_prompts(documents, 3, 9, "prompt_corpus")
    assert error.value.field == "prompt_corpus"


def test_steer_in_mean_mode_over_grpc_draws_prompts_and_uses_the_counts_means(stub, tiny, tiny_model_dir, text_file, tmp_path):
    import grpc

    from sparse_sub_worker.activations import count_activations, save_counts
    from sparse_sub_worker.corpus import pack, token_stream
    from sparse_sub_worker.interventions import steered
    from sparse_sub_worker.prompts import draw_prompts
    from sparse_sub_worker.tasks.generation import generate

    stream = token_stream(tiny.encoder, [text_file.read_text()], None)
    counts = count_activations(tiny.model.get_decoder(), tiny.layers, pack(stream, 16, 0, keep_tail=False, pad_token_id=0, field_name="c"), 2, active_sums=True)
    counts_path, boost = tmp_path / "nl.safetensors", tmp_path / "boost.json"
    save_counts(counts_path, counts, "nl", "tiny")
    save_neuron_set(boost, NeuronSet("nl", [[7, 8], [3], []], 64))
    heldout = tmp_path / "heldout.txt"
    heldout.write_text("All human beings are born free. Short one. Everyone has the right to life and liberty.\n", encoding="utf-8")
    request = pb.SteerRequest(job_id="m", model=pb.ModelSpec(source=str(tiny_model_dir), device="cpu", dtype="float32"),
                              boost_neuron_set_path=str(boost), strength=8.0, max_new_tokens=6, mode=pb.SteerRequest.MODE_MEAN,
                              boost_counts_path=str(counts_path), prompt_corpus=pb.Corpus(text_files=pb.TextFiles(paths=[str(heldout)])),
                              prompt_count=5, prompt_words=3)
    result = list(stub.Steer(request))[-1].result
    prompts = ["All human beings", "Everyone has the"]
    assert [o.prompt for o in result.outputs] == prompts == draw_prompts([heldout.read_text()], 5, 3, "x")
    means = counts.mean_active_values()
    with steered(tiny.layers, None, NeuronSet("nl", [[7, 8], [3], []], 64), 8.0, means):
        expected = generate(tiny.model, tiny.encoder, prompts, 8, 6)
    assert [o.steered for o in result.outputs] == expected
    assert [o.base for o in result.outputs] == generate(tiny.model, tiny.encoder, prompts, 8, 6) != expected
    assert result.mean_active_value == pytest.approx(float(torch.stack([means[0, 7], means[0, 8], means[1, 3]]).mean()), rel=1e-6)

    for missing, field in (({"boost_counts_path": ""}, "boost_counts_path"), ({"boost_neuron_set_path": "", "off_neuron_set_path": str(boost)}, "mode")):
        bad = pb.SteerRequest()
        bad.CopyFrom(request)
        for key, value in missing.items():
            setattr(bad, key, value)
        with pytest.raises(grpc.RpcError) as error:
            list(stub.Steer(bad))
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT and error.value.details().startswith(field)


def test_the_steering_control_draws_same_size_random_sets_and_their_own_means(stub, tiny, tiny_model_dir, tmp_path, monkeypatch):
    import sparse_sub_worker.server as server
    from sparse_sub_worker.activations import ActivationCounts, save_counts
    from sparse_sub_worker.neuron_sets import draw_random_set

    seen = []
    real = server.steered

    def spy(layers, off, boost, strength, mean_active=None):
        seen.append((off, boost, mean_active))
        return real(layers, off, boost, strength, mean_active)

    monkeypatch.setattr(server, "steered", spy)
    off, boost, counts = tmp_path / "off.json", tmp_path / "boost.json", tmp_path / "nl.safetensors"
    save_neuron_set(off, NeuronSet("af", PLANTED, 64))
    save_neuron_set(boost, NeuronSet("nl", [[7, 8], [3], []], 64))
    over_zero = torch.full((3, 64), 4, dtype=torch.int64)
    save_counts(counts, ActivationCounts(over_zero, 10, torch.arange(3 * 64, dtype=torch.float64).reshape(3, 64)), "nl", "tiny")
    request = pb.SteerRequest(job_id="r", model=pb.ModelSpec(source=str(tiny_model_dir), device="cpu", dtype="float32"), prompts=["All human"],
                              off_neuron_set_path=str(off), boost_neuron_set_path=str(boost), strength=1.0, max_new_tokens=2,
                              mode=pb.SteerRequest.MODE_MEAN, boost_counts_path=str(counts), random_same_size=True, seed=5)
    result = list(stub.Steer(request))[-1].result
    drawn_off, drawn_boost, means = seen[0]
    assert drawn_off.layers == draw_random_set(NeuronSet("af", PLANTED, 64), 3, 64, 5, per_layer=True).layers
    assert drawn_boost.layers == draw_random_set(NeuronSet("nl", [[7, 8], [3], []], 64), 3, 64, 6, per_layer=True).layers
    assert [len(layer) for layer in drawn_boost.layers] == [2, 1, 0] and drawn_boost.layers != [[7, 8], [3], []]
    assert (result.off_neurons, result.boost_neurons) == (7, 3)
    # the random neurons' own means: active_sum / over_zero = (64 * layer + neuron) / 4
    expected = sum((64 * layer + i) / 4 for layer, indices in enumerate(drawn_boost.layers) for i in indices) / 3
    assert result.mean_active_value == pytest.approx(expected, rel=1e-6)
