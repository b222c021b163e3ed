"""Packs: applying one equals the in-memory adapted model; merging several follows the
documented overlap rule (hand-computed); a pack refuses a model it was not trained on."""

from __future__ import annotations

import grpc
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from sparse_sub_worker.errors import WorkerError
from sparse_sub_worker.methods.subnetwork import SubnetworkTrainable
from sparse_sub_worker.models.architecture import ModelShape
from sparse_sub_worker.models.loading import ModelRequest, load_model
from sparse_sub_worker.neuron_sets import NeuronSet, draw_random_set
from sparse_sub_worker.packs import Pack, check_pack_fits, load_pack, merged_slices, pack_components, packs_applied, save_pack
from sparse_sub_worker.testing.tiny_model import make_tiny_llama

TEXTS = ["All human beings are born free and equal in dignity and rights.", "Alle menslike wesens word vry gebore."]


def logits(model, ids):
    with torch.no_grad():
        return model(input_ids=ids).logits


def test_applied_pack_gives_the_logits_of_the_in_memory_adapted_model(tiny):
    torch.manual_seed(0)
    trainable = SubnetworkTrainable(tiny, NeuronSet("af", [[0, 5], [], [7, 8, 9]], 64))
    ids = torch.randint(0, 200, (2, 12))
    with trainable.installed() as params:
        with torch.no_grad():
            for p in params:
                p.add_(torch.randn_like(p) * 0.1)  # "trained" slices
        adapted = logits(tiny.model, ids)
        pack = trainable.pack()
    base = logits(tiny.model, ids)
    assert not torch.allclose(adapted, base)
    with packs_applied(tiny.layers, [pack]):
        applied = logits(tiny.model, ids)
    torch.testing.assert_close(applied, adapted, rtol=1e-5, atol=1e-5)
    assert torch.equal(logits(tiny.model, ids), base)  # restored exactly


def _pack(language, neurons_by_layer: dict[int, list[int]], values: dict[int, dict[str, torch.Tensor]]) -> Pack:
    indices = {l: torch.tensor(n) for l, n in neurons_by_layer.items()}
    norms = {l: torch.ones(3, len(n)) for l, n in neurons_by_layer.items()}
    return Pack(language, "m", ModelShape(2, 2, 4), ("gate", "up", "down"), indices, values, norms)


def test_a_pack_restricted_to_one_component_writes_only_that_component(tiny):
    torch.manual_seed(1)
    trainable = SubnetworkTrainable(tiny, NeuronSet("af", [[0, 5], [], [7, 8, 9]], 64))
    with trainable.installed() as params:
        with torch.no_grad():
            for p in params:
                p.add_(torch.randn_like(p) * 0.1)
        pack = trainable.pack()
    base = {(l, name): getattr(layer, name).weight.detach().clone() for l, layer in enumerate(tiny.layers) for name in ("gate_proj", "up_proj", "down_proj")}
    only_down = pack_components(pack, ["down"], "pack_components")
    assert only_down.components == ("down",) and pack_components(pack, ["up", "gate"], "pack_components").components == ("gate", "up")  # pack order
    with packs_applied(tiny.layers, [only_down]):
        for l, layer in enumerate(tiny.layers):
            assert torch.equal(layer.gate_proj.weight, base[(l, "gate_proj")])
            assert torch.equal(layer.up_proj.weight, base[(l, "up_proj")])
        down = tiny.layers[2].down_proj.weight
        assert torch.equal(down[:, [7, 8, 9]], pack.slices[2]["down_proj"].to(down.dtype))  # the trained columns
        others = [i for i in range(down.shape[1]) if i not in (7, 8, 9)]
        assert torch.equal(down[:, others], base[(2, "down_proj")][:, others])
        assert not torch.equal(down, base[(2, "down_proj")])
    # gate + up together: down untouched, both others written
    with packs_applied(tiny.layers, [pack_components(pack, ["gate", "up"], "pack_components")]):
        assert torch.equal(tiny.layers[0].down_proj.weight, base[(0, "down_proj")])
        assert torch.equal(tiny.layers[0].gate_proj.weight[[0, 5]], pack.slices[0]["gate_proj"].to(tiny.layers[0].gate_proj.weight.dtype))
        assert torch.equal(tiny.layers[0].up_proj.weight[[0, 5]], pack.slices[0]["up_proj"].to(tiny.layers[0].up_proj.weight.dtype))


def test_a_component_the_pack_lacks_names_the_field():
    pack = _pack("a", {0: [1]}, {0: {"up_proj": torch.tensor([[1.0, 1.0]])}})
    with pytest.raises(WorkerError) as error:
        pack_components(pack, ["up", "down"], "pack_components")
    assert error.value.message == "pack_components[1]: the pack holds no 'down' slices (it holds up)"
    both = _pack("a", {0: [1]}, {0: {"up_proj": torch.tensor([[1.0, 1.0]]), "gate_proj": torch.tensor([[1.0, 1.0]])}})
    with pytest.raises(WorkerError) as error:
        pack_components(both, ["down"], "pack_components")
    assert error.value.message == "pack_components[0]: the pack holds no 'down' slices (it holds gate, up)"


def test_overlap_rules_by_hand():
    # layer 0: pack a trains neurons 1, 2 (up rows); pack b trains neurons 2, 3 (up rows and down cols)
    a = _pack("a", {0: [1, 2]}, {0: {"up_proj": torch.tensor([[1.0, 1.0], [2.0, 2.0]])}})
    b = _pack("b", {0: [2, 3]}, {0: {"up_proj": torch.tensor([[4.0, 6.0], [5.0, 5.0]]),
                                    "down_proj": torch.tensor([[7.0, 8.0], [9.0, 10.0]])}})   # [H, k]
    mean, shared = merged_slices([a, b], "mean")
    assert shared == 1  # neuron 2 of layer 0
    indices, values = mean[(0, "up_proj")]
    assert indices.tolist() == [1, 2, 3]
    assert values.tolist() == [[1.0, 1.0], [3.0, 4.0], [5.0, 5.0]]       # neuron 2: mean of (2,2) and (4,6)
    indices, values = mean[(0, "down_proj")]
    assert indices.tolist() == [2, 3] and values.tolist() == [[7.0, 9.0], [8.0, 10.0]]  # only b trained down

    first, _ = merged_slices([b, a], "first")
    assert first[(0, "up_proj")][1].tolist() == [[1.0, 1.0], [4.0, 6.0], [5.0, 5.0]]  # b listed first wins neuron 2
    with pytest.raises(WorkerError) as error:
        merged_slices([a, b], "error")
    assert (error.value.reason, error.value.field) == ("PACK_OVERLAP", "overlap")
    assert error.value.message == "packs ['a', 'b'] all train 1 up_proj slice(s) of layer 0; choose overlap 'mean' or 'first'"
    c = _pack("c", {0: [5], 1: [2]}, {0: {"up_proj": torch.tensor([[1.0, 0.0]])}, 1: {"up_proj": torch.tensor([[0.0, 1.0]])}})
    disjoint, none_shared = merged_slices([a, c], "error")  # nothing trained twice: "error" merges
    c_again = _pack("d", {0: [5, 6], 1: [2]}, {0: {"up_proj": torch.zeros(2, 2)}, 1: {"up_proj": torch.zeros(1, 2)}})
    assert merged_slices([c, c_again], "mean")[1] == 2  # one shared neuron in each of two layers
    assert none_shared == 0 and disjoint[(0, "up_proj")][0].tolist() == [1, 2, 5] and disjoint[(1, "up_proj")][0].tolist() == [2]
    with pytest.raises(WorkerError) as error:
        merged_slices([a, b], "sum")
    assert (error.value.field, error.value.message) == ("overlap", "overlap: must be one of ['mean', 'first', 'error'], got 'sum'")


def test_packs_applied_writes_the_rule_into_the_weights(tiny):
    a = SubnetworkTrainable(tiny, NeuronSet("a", [[1, 2], [], []], 64))
    b = SubnetworkTrainable(tiny, NeuronSet("b", [[2, 3], [], []], 64))
    packs = []
    for trainable, value in ((a, 1.0), (b, 3.0)):
        with trainable.installed() as params:
            with torch.no_grad():
                for p in params:
                    p.fill_(value)
            packs.append(trainable.pack())
    up = tiny.layers[0].up_proj.weight
    with packs_applied(tiny.layers, packs, "mean") as written:
        assert written == {"neurons": 3, "shared": 1}
        assert up[1].eq(1.0).all() and up[2].eq(2.0).all() and up[3].eq(3.0).all()
        assert tiny.layers[0].down_proj.weight[:, 2].eq(2.0).all()


def test_pack_fits_the_same_weights_in_bf16_but_not_another_model(tiny, tiny_model_dir, tmp_path):
    trainable = SubnetworkTrainable(tiny, NeuronSet("af", [[0, 5], [1], [7]], 64))
    with trainable.installed():
        pack = trainable.pack()
    check_pack_fits(pack, tiny.shape, tiny.layers, "pack")  # same model
    bf16 = load_model(ModelRequest(str(tiny_model_dir), device="cpu", dtype="bfloat16"))
    check_pack_fits(pack, bf16.shape, bf16.layers, "pack")  # same weights, another dtype
    other_dir = make_tiny_llama(tmp_path / "other", TEXTS * 4, layers=3, hidden=32, intermediate=64, vocab_size=300, seed=1)
    other = load_model(ModelRequest(str(other_dir), device="cpu", dtype="float32"))
    with pytest.raises(WorkerError) as error:
        check_pack_fits(pack, other.shape, other.layers, "pack_paths[0]")
    assert error.value.reason == "PACK_MODEL_MISMATCH" and "pack_paths[0]" in error.value.message
    assert error.value.field == "pack_paths[0]"


def test_random_sets_by_seed():
    like = NeuronSet("af", [[1, 2, 3], [], [0]], 10)
    a = draw_random_set(like, 3, 10, seed=5, per_layer=False)
    assert a.layers == draw_random_set(like, 3, 10, seed=5, per_layer=False).layers
    assert a.neuron_count == 4 and all(l == sorted(set(l)) and all(0 <= i < 10 for i in l) for l in a.layers)
    # the reference's draw: the first 4 of one permutation of all 30 (layer, neuron) pairs
    flat = torch.randperm(30, generator=torch.Generator().manual_seed(5))[:4].tolist()
    assert sorted((l, i) for l, ids in enumerate(a.layers) for i in ids) == sorted((f // 10, f % 10) for f in flat)
    per_layer = draw_random_set(like, 3, 10, seed=5, per_layer=True)
    assert [len(l) for l in per_layer.layers] == [3, 0, 1]
    seeds = {tuple(map(tuple, draw_random_set(like, 3, 10, seed=s, per_layer=False).layers)) for s in range(5)}
    assert len(seeds) > 1


def test_the_base_model_check_sits_between_bf16_rounding_and_a_fine_tuned_model(tiny):
    """The tolerance is 0.2% of a neuron's base-weight norm: bf16 rounding moves norms by ~0.01%,
    a base model that was itself fine-tuned moves them by ~1%. Scale one neuron's gate row by
    1.0005 (accepted) and by 1.01 (refused), so a tolerance 100x looser or tighter fails here."""
    trainable = SubnetworkTrainable(tiny, NeuronSet("af", [[0, 5], [1], [7]], 64))
    with trainable.installed():
        pack = trainable.pack()
    gate = tiny.layers[0].gate_proj.weight
    original = gate[5].detach().clone()
    with torch.no_grad():
        gate[5] = original * 1.0005
    check_pack_fits(pack, tiny.shape, tiny.layers, "pack")
    with torch.no_grad():
        gate[5] = original * 1.01
    with pytest.raises(WorkerError) as error:
        check_pack_fits(pack, tiny.shape, tiny.layers, "pack")
    assert error.value.reason == "PACK_MODEL_MISMATCH" and "1.00%" in error.value.message and "layer 0" in error.value.message


def test_a_saved_pack_reads_back_field_for_field(tmp_path):
    values = {0: {"gate_proj": torch.tensor([[1.0, 2.0]]), "down_proj": torch.tensor([[3.0], [4.0]])}, 1: {}}
    pack = Pack("af", "org/model#model-q8.gguf", ModelShape(2, 2, 4), ("gate", "down"), {0: torch.tensor([3]), 1: torch.tensor([0, 2])},
                values, {0: torch.ones(3, 1), 1: torch.full((3, 2), 2.0)})
    save_pack(tmp_path / "af.safetensors", pack)
    loaded = load_pack(tmp_path / "af.safetensors", "pack_path")
    assert (loaded.language, loaded.base_model, loaded.shape, loaded.components) == ("af", "org/model#model-q8.gguf", ModelShape(2, 2, 4), ("gate", "down"))
    assert {l: t.tolist() for l, t in loaded.neuron_indices.items()} == {0: [3], 1: [0, 2]}
    assert {l: {n: t.tolist() for n, t in s.items()} for l, s in loaded.slices.items()} == {0: {"gate_proj": [[1.0, 2.0]], "down_proj": [[3.0], [4.0]]}, 1: {}}
    assert {l: t.tolist() for l, t in loaded.base_norms.items()} == {0: [[1.0]] * 3, 1: [[2.0, 2.0]] * 3}


def test_a_pack_file_that_is_not_one_is_refused_naming_the_field_and_the_file(tmp_path):
    def refusal(path):
        with pytest.raises(WorkerError) as caught:
            load_pack(path, "pack_paths[1]")
        return caught.value.code, caught.value.reason, caught.value.field, caught.value.message

    missing = tmp_path / "none.safetensors"
    assert refusal(missing) == (grpc.StatusCode.NOT_FOUND, "PATH_NOT_FOUND", "pack_paths[1]", f"pack_paths[1]: subnetwork pack not found: {missing}")
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(b"not a safetensors file")
    code, reason, field, message = refusal(damaged)
    assert (code, reason, field) == (grpc.StatusCode.FAILED_PRECONDITION, "BAD_PACK", "pack_paths[1]")
    assert message.startswith(f"pack_paths[1]: {damaged} is not a safetensors file (")
    for metadata in ({"format": "sparse-sub/neuron-set@1"}, None):  # another format, or no metadata at all
        foreign = tmp_path / "foreign.safetensors"
        save_file({"layers.0.neuron_indices": torch.tensor([1])}, str(foreign), metadata=metadata)
        assert refusal(foreign) == (grpc.StatusCode.FAILED_PRECONDITION, "BAD_PACK", "pack_paths[1]", f"pack_paths[1]: {foreign} is not a sparse-sub/pack@1 file")
    unfingerprinted = tmp_path / "no-norms.safetensors"
    save_pack(unfingerprinted, _pack("af", {0: [1], 1: [2]}, {0: {}, 1: {}}))
    with safe_open(str(unfingerprinted), framework="pt") as f:
        metadata = f.metadata()
    tensors = {k: v for k, v in load_file(str(unfingerprinted)).items() if k != "layers.1.base_norms"}
    save_file(tensors, str(unfingerprinted), metadata=metadata)
    assert refusal(unfingerprinted) == (grpc.StatusCode.FAILED_PRECONDITION, "BAD_PACK", "pack_paths[1]",
                                        f"pack_paths[1]: {unfingerprinted} lacks the base fingerprint (base_norms) of some layers")


def test_a_saved_pack_file_holds_the_documented_metadata_and_dtypes(tmp_path):
    pack = Pack("af", "org/model", ModelShape(2, 2, 4), ("gate", "down"), {0: torch.tensor([1, 3], dtype=torch.int32)},
                {0: {"gate_proj": torch.ones(2, 2), "down_proj": torch.ones(2, 2)}}, {0: torch.ones(3, 2, dtype=torch.float64)})
    save_pack(tmp_path / "af.safetensors", pack)
    with safe_open(str(tmp_path / "af.safetensors"), framework="pt") as f:  # read by safetensors, not by load_pack
        assert f.metadata() == {"format": "sparse-sub/pack@1", "language": "af", "base_model": "org/model", "num_layers": "2", "hidden_size": "2",
                                "intermediate_size": "4", "components": "gate,down", "neuron_count": "2"}
        assert f.get_tensor("layers.0.neuron_indices").dtype == torch.int64
        assert f.get_tensor("layers.0.base_norms").dtype == torch.float32


def test_a_pack_of_another_shape_is_refused_naming_both_shapes(tiny):
    pack = _pack("af", {0: [1]}, {0: {}})
    with pytest.raises(WorkerError) as error:
        check_pack_fits(pack, tiny.shape, tiny.layers, "pack_paths[2]")
    assert (error.value.reason, error.value.field) == ("PACK_MODEL_MISMATCH", "pack_paths[2]")
    assert error.value.message == f"pack_paths[2]: pack was trained on a model of shape {pack.shape}, this model is {tiny.shape}"


def test_a_layer_without_neurons_fits_any_base(tiny):
    trainable = SubnetworkTrainable(tiny, NeuronSet("af", [[0, 5], [1], [7]], 64))
    with trainable.installed():
        pack = trainable.pack()
    pack.neuron_indices[1] = torch.tensor([], dtype=torch.int64)  # nothing to compare in layer 1
    pack.base_norms[1] = torch.zeros(3, 0)
    check_pack_fits(pack, tiny.shape, tiny.layers, "pack")


def test_merging_into_a_directory_follows_the_overlap_rule_and_keeps_a_users_folder(tiny, tmp_path):
    from sparse_sub_worker.packs import merge_to_directory

    def trained(language, neurons, seed):
        torch.manual_seed(seed)
        trainable = SubnetworkTrainable(tiny, NeuronSet(language, neurons, 64))
        with trainable.installed() as params:
            with torch.no_grad():
                for p in params:
                    p.add_(torch.randn_like(p))
            return trainable.pack()

    a, b = trained("a", [[1, 2], [], []], 0), trained("b", [[2, 3], [], []], 1)  # both train neuron 2 of layer 0
    with pytest.raises(WorkerError) as error:
        merge_to_directory(tiny.model, tiny.tokenizer, tiny.layers, [a, b], tmp_path / "strict", overlap="error")
    assert error.value.reason == "PACK_OVERLAP" and not (tmp_path / "strict").exists()
    users = tmp_path / "mine"
    users.mkdir()
    (users / "notes.txt").write_text("mine")
    with pytest.raises(WorkerError):
        merge_to_directory(tiny.model, tiny.tokenizer, tiny.layers, [a], users)  # not forced: a folder of the user's is refused
    assert sorted(p.name for p in users.iterdir()) == ["notes.txt"]
    merge_to_directory(tiny.model, tiny.tokenizer, tiny.layers, [a], users, force=True)  # forced: written beside the user's file
    assert (users / "notes.txt").read_text() == "mine" and (users / "config.json").exists()
