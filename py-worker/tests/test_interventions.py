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
