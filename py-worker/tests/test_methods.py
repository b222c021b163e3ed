"""Every training method over the real gRPC service on the tiny Llama: each changes exactly the
parameters it should, reports the trainable count of its formula, and writes an artifact its
users can load (pack, peft adapter directory, model directory)."""

from __future__ import annotations

import dataclasses
import json

import grpc
import pytest
import torch
from transformers import AutoModelForCausalLM

from sparse_sub_worker.gen.sparse_sub.v1 import worker_pb2 as pb
from sparse_sub_worker.testing.status import error_details as details
from sparse_sub_worker.neuron_sets import NeuronSet, load_neuron_set, save_neuron_set

LAYERS, HIDDEN, INTERMEDIATE = 3, 32, 64
LAPE_SET = [[1, 2, 40], [3], [4, 63]]   # 6 neurons
MLP = ("gate_proj", "up_proj", "down_proj")


def base_state(model_dir) -> dict[str, torch.Tensor]:
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    return {k: v.clone() for k, v in model.state_dict().items()}


def request(tiny_model_dir, text_file, tmp_path, method, name, **fields) -> pb.TrainRequest:
    save_neuron_set(tmp_path / "af.json", NeuronSet("af", LAPE_SET, INTERMEDIATE))
    suffix = ".safetensors" if method in (pb.METHOD_SPARSE, pb.METHOD_RANDOM, pb.METHOD_NEURON_LORA) else ""
    config = dict(learning_rate=1e-2, weight_decay=0.0, max_grad_norm=1.0, batch_size=2, sequence_length=16, epochs=1, max_steps=2, seed=3)
    config.update(fields.pop("config", {}))
    return pb.TrainRequest(
        job_id=name, model=pb.ModelSpec(source=str(tiny_model_dir), device="cpu", dtype="float32"), language="af",
        neuron_set_path=str(tmp_path / "af.json"), train_corpus=pb.Corpus(text_files=pb.TextFiles(paths=[str(text_file)])),
        config=pb.TrainConfig(**config), output_path=str(tmp_path / f"{name}{suffix}"), method=method, **fields)


def train(stub, req) -> pb.TrainResult:
    events = list(stub.Train(req))
    return events[-1].result


def merged_state(stub, tiny_model_dir, tmp_path, pack_paths, overlap="mean") -> dict[str, torch.Tensor]:
    out = tmp_path / ("merged-" + "-".join(p.split("/")[-1] for p in pack_paths))
    stub.MergePack(pb.MergePackRequest(model=pb.ModelSpec(source=str(tiny_model_dir), device="cpu", dtype="float32"),
                                       pack_paths=pack_paths, output_dir=str(out), overlap=overlap))
    return base_state(out)


def changed(before: dict[str, torch.Tensor], after: dict[str, torch.Tensor]) -> set[str]:
    return {k for k in before if not torch.equal(before[k], after[k])}


def mlp_key(layer: int, name: str) -> str:
    return f"model.layers.{layer}.mlp.{name}.weight"


def changed_slices(before, after, layer: int, name: str) -> list[int]:
    """Neurons whose slice (gate/up row, down column) changed."""
    diff = before[mlp_key(layer, name)] != after[mlp_key(layer, name)]   # [I, H] or [H, I]
    per_neuron = diff.any(dim=1) if name != "down_proj" else diff.any(dim=0)
    return per_neuron.nonzero().flatten().tolist()


def test_every_wire_method_has_one_definition_named_after_its_enum(stub):
    from sparse_sub_worker.methods.registry import METHODS

    wire = {value: name for name, value in pb.Method.items() if value != pb.METHOD_UNSPECIFIED}
    assert sorted(METHODS) == sorted(wire)
    assert {value: METHODS[value].name for value in wire} == {value: name.removeprefix("METHOD_").lower().replace("_", "-") for value, name in wire.items()}
    assert list(stub.GetWorkerInfo(pb.GetWorkerInfoRequest()).methods) == sorted(wire)  # what a controller sees


def test_sparse_and_components_ablation_change_only_their_slices(stub, tiny_model_dir, text_file, tmp_path):
    base = base_state(tiny_model_dir)
    full = train(stub, request(tiny_model_dir, text_file, tmp_path, pb.METHOD_SPARSE, "sparse"))
    up_down = train(stub, request(tiny_model_dir, text_file, tmp_path, pb.METHOD_SPARSE, "up-down", config={"components": ["up", "down"]}))
    assert full.trainable_parameters == 6 * 3 * HIDDEN and full.neuron_count == 6
    assert up_down.trainable_parameters == 6 * 2 * HIDDEN
    assert full.output_kind == pb.OUTPUT_KIND_PACK and full.method == pb.METHOD_SPARSE

    for result, trained in ((full, MLP), (up_down, ("up_proj", "down_proj"))):
        after = merged_state(stub, tiny_model_dir, tmp_path, [result.output_path])
        assert changed(base, after) == {mlp_key(l, n) for l in range(LAYERS) for n in trained}
        for layer, neurons in enumerate(LAPE_SET):
            for name in trained:
                assert changed_slices(base, after, layer, name) == neurons


def test_neuron_lora_changes_only_its_slices_by_a_rank_r_update(stub, tiny_model_dir, text_file, tmp_path):
    base = base_state(tiny_model_dir)
    r = 2
    result = train(stub, request(tiny_model_dir, text_file, tmp_path, pb.METHOD_NEURON_LORA, "nl", neuron_lora=pb.NeuronLoraConfig(r=r, alpha=4)))
    # per layer with k neurons: gate and up B [k, r] + A [r, H]; down B [H, r] + A [r, k]
    expected = sum(2 * (k * r + r * HIDDEN) + (HIDDEN * r + r * k) for k in map(len, LAPE_SET))
    assert result.trainable_parameters == expected and result.neuron_count == 6
    assert result.output_kind == pb.OUTPUT_KIND_PACK and result.method == pb.METHOD_NEURON_LORA

    after = merged_state(stub, tiny_model_dir, tmp_path, [result.output_path])  # pack apply, as for sparse
    assert changed(base, after) == {mlp_key(l, n) for l in range(LAYERS) for n in MLP}
    for layer, neurons in enumerate(LAPE_SET):
        for name in MLP:
            assert changed_slices(base, after, layer, name) == neurons
            delta = after[mlp_key(layer, name)] - base[mlp_key(layer, name)]
            block = delta[neurons] if name != "down_proj" else delta[:, neurons]
            assert torch.linalg.matrix_rank(block.double(), rtol=1e-5) <= min(r, len(neurons))
    # the rank caps the update: the 2-neuron layer with r=2 can be full rank, a 3-neuron one cannot
    delta0 = (after[mlp_key(0, "up_proj")] - base[mlp_key(0, "up_proj")])[LAPE_SET[0]]
    assert torch.linalg.matrix_rank(delta0.double(), rtol=1e-5) == r


def test_random_draws_the_same_count_reproducibly_and_trains_only_it(stub, tiny_model_dir, text_file, tmp_path):
    base = base_state(tiny_model_dir)
    results = {}
    for name, seed, per_layer in (("r1", 7, False), ("r2", 7, False), ("r3", 8, False), ("rl", 7, True)):
        req = request(tiny_model_dir, text_file, tmp_path, pb.METHOD_RANDOM, name,
                      random=pb.RandomSelection(seed=seed, per_layer=per_layer), drawn_neuron_set_path=str(tmp_path / f"{name}.json"))
        results[name] = train(stub, req)
    drawn = {name: load_neuron_set(r.drawn_neuron_set_path, "x") for name, r in results.items()}
    assert all(s.neuron_count == 6 for s in drawn.values())
    assert drawn["r1"].layers == drawn["r2"].layers          # same seed, same subset
    assert drawn["r1"].layers != drawn["r3"].layers          # another seed, another subset
    assert [len(l) for l in drawn["rl"].layers] == [len(l) for l in LAPE_SET]
    assert results["r1"].trainable_parameters == 6 * 3 * HIDDEN

    after = merged_state(stub, tiny_model_dir, tmp_path, [results["r3"].output_path])
    for layer, neurons in enumerate(drawn["r3"].layers):
        for name in MLP:
            assert changed_slices(base, after, layer, name) == neurons


def test_ffn_and_full_write_model_directories_with_the_right_weights_changed(stub, tiny_model_dir, text_file, tmp_path):
    base = base_state(tiny_model_dir)
    ffn = train(stub, request(tiny_model_dir, text_file, tmp_path, pb.METHOD_FFN, "ffn"))
    full = train(stub, request(tiny_model_dir, text_file, tmp_path, pb.METHOD_FULL, "full", config={"gradient_checkpointing": True, "weight_decay": 0.01}))
    assert ffn.output_kind == full.output_kind == pb.OUTPUT_KIND_MODEL_DIRECTORY
    assert ffn.trainable_parameters == LAYERS * 3 * HIDDEN * INTERMEDIATE
    assert full.trainable_parameters == full.total_parameters == sum(v.numel() for v in base.values())

    assert changed(base, base_state(ffn.output_path)) == {mlp_key(l, n) for l in range(LAYERS) for n in MLP}
    assert changed(base, base_state(full.output_path)) == set(base)  # decay moves even unseen embedding rows

    # the worker restored the base weights: a base evaluation after ffn and full equals one before them
    assert _base_loss(stub, tiny_model_dir, text_file) == pytest.approx(_base_loss_fresh(tiny_model_dir, text_file), rel=1e-6)


def test_ffn_restores_the_base_bit_for_bit_and_keeps_the_model_loaded(stub, tiny_model_dir, text_file, tmp_path):
    train(stub, request(tiny_model_dir, text_file, tmp_path, pb.METHOD_FFN, "ffn-kept"))
    # no reload after training: the same weights as a fresh load, exactly
    assert stub.GetWorkerInfo(pb.GetWorkerInfoRequest()).loaded_model == str(tiny_model_dir)
    assert _base_loss(stub, tiny_model_dir, text_file) == _base_loss_fresh(tiny_model_dir, text_file)


def test_ffn_drops_the_model_when_a_copy_of_the_base_does_not_fit(stub, tiny_model_dir, text_file, tmp_path, monkeypatch):
    import psutil

    real = psutil.virtual_memory()
    monkeypatch.setattr(psutil, "virtual_memory", lambda: real._replace(available=1024))  # the worker's own process
    train(stub, request(tiny_model_dir, text_file, tmp_path, pb.METHOD_FFN, "ffn-dropped"))
    assert stub.GetWorkerInfo(pb.GetWorkerInfoRequest()).loaded_model == ""
    monkeypatch.undo()
    assert _base_loss(stub, tiny_model_dir, text_file) == _base_loss_fresh(tiny_model_dir, text_file)


def _evaluate(stub, tiny_model_dir, text_file, **fields) -> float:
    events = list(stub.Evaluate(pb.EvaluateRequest(
        job_id="e", model=pb.ModelSpec(source=str(tiny_model_dir), device="cpu", dtype="float32"),
        sets=[pb.EvaluationSet(language="af", corpus=pb.Corpus(text_files=pb.TextFiles(paths=[str(text_file)])))],
        sequence_length=16, batch_size=4, **fields)))
    return events[-1].result.scores[0].mean_loss


def _base_loss(stub, tiny_model_dir, text_file) -> float:
    return _evaluate(stub, tiny_model_dir, text_file)


def _base_loss_fresh(tiny_model_dir, text_file) -> float:
    from sparse_sub_worker.corpus import TextFilesCorpus, load_sequences
    from sparse_sub_worker.evaluation import score_sequences
    from sparse_sub_worker.models.loading import ModelRequest, load_model

    loaded = load_model(ModelRequest(str(tiny_model_dir), device="cpu", dtype="float32"))
    sequences = load_sequences(TextFilesCorpus((str(text_file),)), loaded.encoder, "x", 16, separate_documents=True, keep_tail=True)
    return score_sequences(loaded.model, sequences, 4).mean_loss


@pytest.mark.parametrize("method", [pb.METHOD_LORA, pb.METHOD_IA3])
def test_peft_adapters_load_with_peft_and_leave_the_base_untouched(stub, tiny_model_dir, text_file, tmp_path, method):
    from peft import PeftModel

    before = _base_loss(stub, tiny_model_dir, text_file)
    adapter = pb.AdapterConfig(r=4, alpha=8, dropout=0.1) if method == pb.METHOD_LORA else pb.AdapterConfig()
    result = train(stub, request(tiny_model_dir, text_file, tmp_path, method, f"peft-{method}", adapter=adapter))
    assert result.output_kind == pb.OUTPUT_KIND_PEFT_ADAPTER
    if method == pb.METHOD_LORA:  # A [r, in] + B [out, r] per module
        assert result.trainable_parameters == LAYERS * 4 * 3 * (HIDDEN + INTERMEDIATE)
    else:  # gate/up scale their I outputs, down (feed-forward) its I inputs
        assert result.trainable_parameters == LAYERS * 3 * INTERMEDIATE

    # the worker's cached base is back to the base
    assert _base_loss(stub, tiny_model_dir, text_file) == before
    # a standard peft directory, and the worker scores the same adapted model
    config = json.loads((tmp_path / f"peft-{method}" / "adapter_config.json").read_text())
    assert config["peft_type"] == ("LORA" if method == pb.METHOD_LORA else "IA3")
    assert sorted(config["target_modules"]) == sorted(MLP)
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32), result.output_path)
    trained_keys = [k for k, _ in model.named_parameters() if "lora_" in k or "ia3_" in k]
    assert trained_keys and all(".mlp." in k for k in trained_keys)
    adapted = _evaluate(stub, tiny_model_dir, text_file, adapter_path=result.output_path)
    assert adapted != before
    assert _base_loss(stub, tiny_model_dir, text_file) == before


def test_bad_method_inputs_name_the_field(stub, tiny_model_dir, text_file, tmp_path):
    cases = [
        (dict(adapter=pb.AdapterConfig(r=4, target_modules=["no_such_proj"])), pb.METHOD_LORA, "adapter.target_modules"),
        (dict(adapter=pb.AdapterConfig(target_modules=["gate_proj"], feedforward_modules=["down_proj"])), pb.METHOD_IA3, "adapter.feedforward_modules"),
        (dict(config={"components": ["side"]}), pb.METHOD_SPARSE, "config.components"),
        (dict(neuron_lora=pb.NeuronLoraConfig(r=-1)), pb.METHOD_NEURON_LORA, "neuron_lora.r"),
        (dict(), 99, "method"),
    ]
    for fields, method, field_name in cases:
        with pytest.raises(grpc.RpcError) as error:
            train(stub, request(tiny_model_dir, text_file, tmp_path, method, "bad", **fields))
        assert details(error.value)[1].field_violations[0].field == field_name, error.value.details()
    with pytest.raises(grpc.RpcError) as error:
        _evaluate(stub, tiny_model_dir, text_file, adapter_path=str(tmp_path))
    assert details(error.value)[0].reason == "BAD_ADAPTER"


def test_adapter_settings_fill_the_reference_defaults_and_check_each_bound():
    from sparse_sub_worker.errors import WorkerError
    from sparse_sub_worker.methods.adapters import AdapterSettings

    unset = AdapterSettings.read(pb.TrainRequest(adapter=pb.AdapterConfig()), "lora")
    # the reference's LoRA: r 32, alpha 64 on gate/up/down; dropout is whatever the request says (the plan's 0.1)
    assert (unset.target_modules, unset.r, unset.alpha, unset.dropout, unset.feedforward_modules) == (
        ("gate_proj", "up_proj", "down_proj"), 32, 64.0, 0.0, ("down_proj",))
    lora = AdapterSettings(("up_proj",), r=4, alpha=8.0, dropout=0.25).peft_config("lora")
    assert (lora.r, lora.lora_alpha, lora.lora_dropout, set(lora.target_modules), lora.bias, lora.task_type) == (4, 8.0, 0.25, {"up_proj"}, "none", "CAUSAL_LM")
    ia3 = AdapterSettings(("up_proj", "down_proj"), feedforward_modules=("down_proj",)).peft_config("ia3")
    assert (set(ia3.target_modules), set(ia3.feedforward_modules)) == ({"up_proj", "down_proj"}, {"down_proj"})
    AdapterSettings(dropout=0.0).peft_config("lora")  # 0 is allowed, 1 is not
    for settings, field, message in (
        (AdapterSettings(r=0), "adapter.r", "adapter.r: must be > 0, got 0"),
        (AdapterSettings(r=-2), "adapter.r", "adapter.r: must be > 0, got -2"),
        (AdapterSettings(dropout=1.0), "adapter.dropout", "adapter.dropout: must be in [0, 1), got 1.0"),
        (AdapterSettings(dropout=-0.1), "adapter.dropout", "adapter.dropout: must be in [0, 1), got -0.1"),
    ):
        with pytest.raises(WorkerError) as error:
            settings.peft_config("lora")
        assert (error.value.field, error.value.message) == (field, message)
    with pytest.raises(WorkerError) as error:
        AdapterSettings(("gate_proj",), feedforward_modules=("down_proj",)).peft_config("ia3")
    assert error.value.message == "adapter.feedforward_modules: ['down_proj'] must be a subset of target_modules ['gate_proj']"
    with pytest.raises(WorkerError) as error:
        AdapterSettings.read(pb.TrainRequest(adapter=pb.AdapterConfig(r=-1)), "lora")  # read checks before any work
    assert error.value.field == "adapter.r"
    assert AdapterSettings(r=1).peft_config("lora").r == 1  # the smallest rank is allowed
    # alpha other than peft's default (8): read from the request and passed to LoraConfig
    assert AdapterSettings.read(pb.TrainRequest(adapter=pb.AdapterConfig(alpha=16.0)), "lora").alpha == 16.0
    assert AdapterSettings(r=4, alpha=16.0).peft_config("lora").lora_alpha == 16.0
    given = AdapterSettings.read(pb.TrainRequest(adapter=pb.AdapterConfig(target_modules=["up_proj", "down_proj"], feedforward_modules=["up_proj"])), "ia3")
    assert (given.target_modules, given.feedforward_modules) == (("up_proj", "down_proj"), ("up_proj",))
    assert given.peft_config("ia3").task_type == "CAUSAL_LM"


def test_an_adapter_trainable_knows_its_method_and_saves_the_base_model_as_the_request_named_it(tiny, tmp_path):
    from sparse_sub_worker.methods.adapters import AdapterSettings, AdapterTrainable

    with pytest.raises(ValueError) as error:
        AdapterTrainable(tiny, "full", AdapterSettings())
    assert error.value.args == ("full",)
    # the request named the model otherwise than the path it was loaded from (a hub id, pkg://...)
    tiny.request = dataclasses.replace(tiny.request, source="org/tiny-by-name")
    trainable = AdapterTrainable(tiny, "lora", AdapterSettings(r=2))
    assert trainable.method == "lora" and trainable._peft is None
    with trainable.installed():
        trainable.save(tmp_path / "adapter")
    config = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == "org/tiny-by-name" and config["r"] == 2
    assert trainable._peft is None  # unloaded again


def test_an_adapter_is_installed_on_the_mlp_and_unloaded_to_the_plain_model(tiny):
    from sparse_sub_worker.methods.adapters import AdapterSettings, AdapterTrainable

    before = {name: type(module) for name, module in tiny.model.named_modules()}
    weights = {name: p.detach().clone() for name, p in tiny.model.named_parameters()}
    trainable = AdapterTrainable(tiny, "lora", AdapterSettings(("up_proj",), r=2, alpha=4.0, dropout=0.0))
    with trainable.installed() as params:
        # one A and one B matrix per layer's up_proj, nothing else trains
        assert len(params) == 2 * len(tiny.layers) and all(p.requires_grad for p in params)
        assert {min(p.shape) for p in params} == {2}  # rank 2: A is [2, hidden], B is [intermediate, 2]
        snapshot = trainable.snapshot()
        with torch.no_grad():
            for p in params:
                p.add_(1.0)
        trainable.restore(snapshot)
        assert all(torch.equal(a, trainable.snapshot()[name]) for name, a in snapshot.items())
    assert {name: type(module) for name, module in tiny.model.named_modules()} == before
    assert all(torch.equal(p, weights[name]) and not p.requires_grad for name, p in tiny.model.named_parameters())
    with pytest.raises(ValueError):
        AdapterTrainable(tiny, "sparse", AdapterSettings())


def test_an_adapter_directory_that_is_not_one_names_the_field(tiny, tmp_path):
    from sparse_sub_worker.errors import WorkerError
    from sparse_sub_worker.methods.adapters import adapter_applied

    with pytest.raises(WorkerError) as error:
        with adapter_applied(tiny, str(tmp_path), "adapter_path"):
            pass
    assert (error.value.reason, error.value.field) == ("BAD_ADAPTER", "adapter_path")
    assert error.value.message == f"adapter_path: {tmp_path} is not a peft adapter directory (no adapter_config.json)"
    (tmp_path / "adapter_config.json").write_text('{"peft_type": "LORA", "r": 2, "target_modules": ["no_such_proj"], "task_type": "CAUSAL_LM"}')
    with pytest.raises(WorkerError) as error:
        with adapter_applied(tiny, str(tmp_path), "adapter_path"):
            pass
    assert error.value.reason == "BAD_ADAPTER" and error.value.message.startswith(f"adapter_path: cannot apply {tmp_path} to this model: ")


def test_dense_keeps_a_base_copy_only_below_half_the_free_memory(tiny, monkeypatch):
    from types import SimpleNamespace

    from sparse_sub_worker.methods import dense

    trainable = dense.DenseTrainable(tiny, "ffn", keep_base=True)
    trainable._named = trainable._selected()
    # the MLP's gate, up and down weights in bytes, worked out from the model's shape
    layer = tiny.layers[0]
    per_layer = sum(getattr(layer, name).weight.numel() for name in ("gate_proj", "up_proj", "down_proj")) * 4  # float32
    needed = per_layer * len(tiny.layers)
    for available, fits in ((2 * needed + 2, True), (2 * needed, False), (2 * needed + 1, False)):
        monkeypatch.setattr(dense.psutil, "virtual_memory", lambda: SimpleNamespace(available=available))
        assert trainable._base_copy_fits() is fits, available
    snapshot = trainable.snapshot()
    assert {t.device.type for t in snapshot.values()} == {"cpu"}
    assert all(t.data_ptr() != p.data_ptr() for t, p in zip(snapshot.values(), trainable._named.values()))  # copies
    with pytest.raises(ValueError, match="sparse"):
        dense.DenseTrainable(tiny, "sparse", keep_base=True)


def test_whole_model_outputs_refuse_a_folder_of_the_users_naming_output_path(tiny, tmp_path):
    from sparse_sub_worker.errors import WorkerError
    from sparse_sub_worker.methods import dense
    from sparse_sub_worker.methods.adapters import AdapterSettings, AdapterTrainable

    taken = tmp_path / "mine"
    taken.mkdir()
    (taken / "notes.txt").write_text("the user's")
    with pytest.raises(WorkerError) as error:
        dense.DenseTrainable(tiny, "ffn", keep_base=False).save(taken)
    assert error.value.field == "output_path" and "model directory" in error.value.message
    adapter = AdapterTrainable(tiny, "lora", AdapterSettings(("up_proj",), r=2, alpha=4.0, dropout=0.0))
    with adapter.installed():
        with pytest.raises(WorkerError) as error:
            adapter.save(taken)
    assert error.value.field == "output_path" and "peft adapter" in error.value.message
    assert (taken / "notes.txt").read_text() == "the user's"


def test_sparse_and_random_trainables_name_their_method_and_only_random_draws_a_set(tiny, tmp_path):
    from sparse_sub_worker.methods import MethodJob
    from sparse_sub_worker.methods.subnetwork import RANDOM, SPARSE, RandomSettings, SubnetworkTrainable

    lape = NeuronSet("af", LAPE_SET, INTERMEDIATE)
    drawn = tmp_path / "drawn.json"
    request = pb.TrainRequest(drawn_neuron_set_path=str(drawn))
    sparse = SPARSE.build(MethodJob(tiny, pb.TrainRequest(), None, lape, ("gate", "up", "down")))
    random = RANDOM.build(MethodJob(tiny, request, RandomSettings(seed=1, per_layer=True), lape, ("gate", "up", "down")))
    # the method is part of a checkpoint's fingerprint: a random job never resumes a sparse one's
    assert (sparse.method, random.method, SubnetworkTrainable(tiny, lape).method) == ("sparse", "random", "sparse")
    assert (sparse.drawn_neuron_set_path, random.drawn_neuron_set_path) == ("", str(drawn))
    assert load_neuron_set(drawn, "drawn").layers == random.neuron_set.layers != lape.layers


def test_a_pack_names_its_base_model_and_the_gguf_file_it_was_loaded_from(tiny, tiny_model_dir):
    from sparse_sub_worker.methods.subnetwork import SubnetworkTrainable

    lape = NeuronSet("af", LAPE_SET, INTERMEDIATE)
    trainable = SubnetworkTrainable(tiny, lape)
    with trainable.installed():
        assert trainable.pack().base_model == str(tiny_model_dir)
    gguf = dataclasses.replace(tiny, request=dataclasses.replace(tiny.request, gguf_file="model-q8.gguf"))
    trainable = SubnetworkTrainable(gguf, lape)
    with trainable.installed():
        assert trainable.pack().base_model == f"{tiny_model_dir}#model-q8.gguf"
