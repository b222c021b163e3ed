"""The sparse trainer against a straightforward dense implementation of the reference, and the
properties that make it cheap: frozen weights untouched, optimizer state only for slices."""

import logging

import pytest
import torch
from transformers import AutoModelForCausalLM

from sparse_sub_worker.corpus import pack, token_stream
from sparse_sub_worker.models.architecture import decoder_layers
from sparse_sub_worker.neuron_sets import NeuronSet
from sparse_sub_worker.packs import load_pack, merge_to_directory, pack_applied, save_pack
from sparse_sub_worker.sparse_mlp import sparse_mlps_installed
from sparse_sub_worker.testing.baselines import CloneAndWriteMLP
from sparse_sub_worker.errors import WorkerError
from sparse_sub_worker.training import TrainSettings, _load_checkpoint

from .sparse_runs import train_sparse

NEURONS = [[1, 5, 17, 40], [], [0, 2, 63]]  # 3 layers x 64 neurons; layer 1 untouched


def cancelled_at_micro_batch(n):
    """A should_stop that cancels the job as its n-th micro-batch starts (one a step at batch_size 2)."""
    from sparse_sub_worker.errors import JobCancelled

    calls = {"n": 0}

    def should_stop():
        calls["n"] += 1
        if calls["n"] == n:
            raise JobCancelled("j")

    return should_stop


def batches(tiny, text_file, sequence_length=16):
    stream = token_stream(tiny.encoder, [text_file.read_text()], None)
    return pack(stream, sequence_length, 0, keep_tail=False, pad_token_id=0, field_name="corpus")


def test_sparse_trainer_equals_dense_clone_and_write(tiny, text_file):
    data = batches(tiny, text_file)
    # weight decay other than AdamW's default (0.01), so the setting must reach the optimizer
    settings = TrainSettings(learning_rate=1e-2, weight_decay=0.3, batch_size=2, sequence_length=16, max_steps=5, validate_every=0, seed=3)
    outcome = train_sparse(tiny, NeuronSet("af", NEURONS), data, None, settings)

    # dense reference on the same batches, same AdamW, same clipping
    decoder = decoder_layers(tiny.model)
    originals = [layer.mlp for layer in decoder]
    dense = {i: CloneAndWriteMLP(originals[i], idx) for i, idx in enumerate(NEURONS) if idx}
    for i, module in dense.items():
        decoder[i].mlp = module
    params = [p for m in dense.values() for p in (m.gate_rows, m.up_rows, m.down_cols)]
    optimizer = torch.optim.AdamW(params, lr=1e-2, weight_decay=0.3)
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(3))
    losses = []
    try:
        tiny.model.train()
        for step in range(5):
            rows = order[step * 2 : step * 2 + 2]
            loss = tiny.model(input_ids=data.input_ids[rows], labels=data.input_ids[rows]).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            optimizer.zero_grad()
            losses.append(loss.item())
    finally:
        for i, module in enumerate(originals):
            decoder[i].mlp = module
    assert [l for _, l in outcome.train_loss] == __import__("pytest").approx(losses, rel=1e-5, abs=1e-6)
    for i, module in dense.items():
        slices = outcome.pack.slices[i]
        torch.testing.assert_close(slices["gate_proj"], module.gate_rows.detach(), rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(slices["up_proj"], module.up_rows.detach(), rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(slices["down_proj"], module.down_cols.detach(), rtol=1e-5, atol=1e-6)
        assert not torch.equal(slices["down_proj"], originals[i].down_proj.weight[:, torch.tensor(NEURONS[i])])


def test_frozen_weights_stay_bit_identical_and_state_covers_slices_only(tiny, text_file):
    before = {name: p.detach().clone() for name, p in tiny.model.named_parameters()}
    settings = TrainSettings(learning_rate=1e-2, batch_size=2, sequence_length=16, max_steps=3, validate_every=0)
    outcome = train_sparse(tiny, NeuronSet("af", NEURONS), batches(tiny, text_file), None, settings)
    for name, p in tiny.model.named_parameters():
        assert torch.equal(p, before[name]), name
        assert p.grad is None, name
    neurons = sum(map(len, NEURONS))
    hidden = tiny.shape.hidden_size
    assert outcome.trainable_parameters == neurons * 3 * hidden
    # AdamW: exp_avg + exp_avg_sq per trainable value (fp32) + one fp32 step scalar per tensor
    tensors = 3 * sum(1 for idx in NEURONS if idx)
    assert outcome.optimizer_state_bytes == 2 * 4 * neurons * 3 * hidden + 4 * tensors


def test_components_ablation_trains_only_the_named_projection(tiny, text_file):
    settings = TrainSettings(learning_rate=1e-2, batch_size=2, sequence_length=16, max_steps=2, validate_every=0, components=("down",))
    outcome = train_sparse(tiny, NeuronSet("af", NEURONS), batches(tiny, text_file), None, settings)
    assert set(outcome.pack.slices[0]) == {"down_proj"}
    assert outcome.trainable_parameters == sum(map(len, NEURONS)) * tiny.shape.hidden_size


def test_validation_keeps_the_best_step(tiny, text_file):
    data = batches(tiny, text_file)
    settings = TrainSettings(learning_rate=5e-2, batch_size=2, sequence_length=16, max_steps=6, validate_every=2)
    outcome = train_sparse(tiny, NeuronSet("af", NEURONS), data, data, settings)
    steps = [s for s, _ in outcome.validation_loss]
    assert steps == [0, 2, 4, 6]
    best = min(outcome.validation_loss, key=lambda point: point[1])
    assert outcome.best_step == best[0]


def test_pack_round_trip_apply_and_merge(tiny, text_file, tmp_path):
    settings = TrainSettings(learning_rate=1e-2, batch_size=2, sequence_length=16, max_steps=3, validate_every=0)
    outcome = train_sparse(tiny, NeuronSet("af", NEURONS), batches(tiny, text_file), None, settings)
    path = tmp_path / "af.pack.safetensors"
    save_pack(path, outcome.pack)
    loaded_pack = load_pack(path, "pack_path")
    assert loaded_pack.language == "af" and loaded_pack.neuron_count == sum(map(len, NEURONS))

    ids = batches(tiny, text_file).input_ids[:2]
    base_weights = {n: p.detach().clone() for n, p in tiny.model.named_parameters()}
    with torch.no_grad():
        base_logits = tiny.model(input_ids=ids).logits
        # the in-memory adapted model: SparseMLP holding the trained slices
        with sparse_mlps_installed(tiny.model, tiny.layers, NEURONS, ("gate", "up", "down")) as sparse:
            for layer, module in sparse.items():
                for name, tensor in outcome.pack.slices[layer].items():
                    getattr(module, {"gate_proj": "gate_rows", "up_proj": "up_rows", "down_proj": "down_cols"}[name]).copy_(tensor)
            adapted_logits = tiny.model(input_ids=ids).logits
        with pack_applied(tiny.layers, loaded_pack):
            applied_logits = tiny.model(input_ids=ids).logits
    torch.testing.assert_close(applied_logits, adapted_logits, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(applied_logits, base_logits)
    for name, p in tiny.model.named_parameters():
        assert torch.equal(p, base_weights[name]), f"{name} not restored"

    merged = tmp_path / "merged"
    merge_to_directory(tiny.model, tiny.tokenizer, tiny.layers, [loaded_pack], merged)
    reloaded = AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32)
    with torch.no_grad():
        torch.testing.assert_close(reloaded(input_ids=ids).logits, applied_logits, rtol=1e-5, atol=1e-5)


def test_gradient_accumulation_matches_the_larger_batch(tiny, text_file):
    data = batches(tiny, text_file)
    common = dict(learning_rate=1e-2, sequence_length=16, max_steps=3, validate_every=0, seed=1)
    big = train_sparse(tiny, NeuronSet("af", NEURONS), data, None, TrainSettings(batch_size=4, **common))
    accumulated = train_sparse(tiny, NeuronSet("af", NEURONS), data, None, TrainSettings(batch_size=2, gradient_accumulation_steps=2, **common))
    assert [l for _, l in accumulated.train_loss] == __import__("pytest").approx([l for _, l in big.train_loss], rel=1e-5)
    for layer, slices in big.pack.slices.items():
        for name, tensor in slices.items():
            torch.testing.assert_close(accumulated.pack.slices[layer][name], tensor, rtol=1e-4, atol=1e-6)


def test_bf16_model_trains_fp32_master_slices(tiny_model_dir, text_file):
    from sparse_sub_worker.models.loading import ModelRequest, load_model

    bf16 = load_model(ModelRequest(str(tiny_model_dir), device="cpu", dtype="bfloat16"))
    data = batches(bf16, text_file)
    settings = TrainSettings(learning_rate=1e-4, batch_size=2, sequence_length=16, max_steps=2, validate_every=0)
    outcome = train_sparse(bf16, NeuronSet("af", NEURONS), data, None, settings)
    layer = bf16.layers[0]
    trained = outcome.pack.slices[0]["gate_proj"]
    assert trained.dtype == torch.float32
    base_rows = layer.gate_proj.weight[torch.tensor(NEURONS[0])].float()
    # lr 1e-4 moves every value by ~1e-4: far below bf16 resolution, kept by the fp32 master
    moved = (trained - base_rows).abs()
    assert moved.min() > 0 and moved.max() < 1e-3
    assert layer.gate_proj.weight.dtype == torch.bfloat16


def test_a_killed_training_resumes_from_its_checkpoint_and_ends_where_an_uninterrupted_one_does(tiny, text_file, tmp_path, caplog):
    from sparse_sub_worker.errors import JobCancelled

    data = batches(tiny, text_file)
    settings = TrainSettings(learning_rate=1e-2, batch_size=2, sequence_length=16, max_steps=6, validate_every=0, seed=3, checkpoint_every=2)
    whole = train_sparse(tiny, NeuronSet("af", NEURONS), data, None, settings)

    checkpoint = tmp_path / "af.ckpt"
    calls = {"n": 0}

    def stop_in_step_five():
        calls["n"] += 1
        if calls["n"] == 5:  # one micro-batch per step: the 5th step never finishes
            raise JobCancelled("j")

    with pytest.raises(JobCancelled):
        train_sparse(tiny, NeuronSet("af", NEURONS), data, None, settings, checkpoint_path=str(checkpoint), should_stop=stop_in_step_five)
    assert checkpoint.exists()  # written after step 4
    steps_run, messages, reports = [], [], []
    with caplog.at_level(logging.INFO, logger="sparse_sub_worker.training"):
        resumed = train_sparse(tiny, NeuronSet("af", NEURONS), data, None, settings, checkpoint_path=str(checkpoint),
                               on_step=lambda r: (steps_run.append(r.step), messages.append(r.message), reports.append(r)))
    assert steps_run == [5, 6]
    # the rate is this attempt's: the 4 steps' tokens from before the resume do not count
    assert resumed.tokens_before_resume == 4 * 2 * 16
    for r in reports:
        assert r.tokens_per_second == pytest.approx((r.tokens - 4 * 2 * 16) / r.elapsed, rel=1e-12)
    assert messages == ["resumed from step 4 (checkpoint af.ckpt)", ""]  # said on the first step after the resume
    assert "resumed from step 4 (checkpoint af.ckpt)" in caplog.messages
    assert resumed.train_loss == whole.train_loss and resumed.steps == 6 and resumed.tokens == whole.tokens
    for layer, slices in whole.pack.slices.items():
        for name, tensor in slices.items():
            assert torch.equal(resumed.pack.slices[layer][name], tensor)
    assert not checkpoint.exists()

    # a checkpoint made under other settings is not resumed: the job starts over
    with pytest.raises(JobCancelled):
        calls["n"] = 0
        train_sparse(tiny, NeuronSet("af", NEURONS), data, None, settings, checkpoint_path=str(checkpoint), should_stop=stop_in_step_five)
    other = TrainSettings(learning_rate=5e-3, batch_size=2, sequence_length=16, max_steps=6, validate_every=0, seed=3, checkpoint_every=2)
    steps_run.clear()
    messages.clear()
    restarted = train_sparse(tiny, NeuronSet("af", NEURONS), data, None, other, checkpoint_path=str(checkpoint),
                             on_step=lambda r: (steps_run.append(r.step), messages.append(r.message)))
    assert steps_run == [1, 2, 3, 4, 5, 6]
    assert messages == [""] * 6  # a fresh start has nothing to say
    assert restarted.train_loss == train_sparse(tiny, NeuronSet("af", NEURONS), data, None, other).train_loss


def test_a_diverging_training_stops_at_the_bad_step_and_keeps_the_best_weights(tiny, text_file):
    data = batches(tiny, text_file)
    validation = batches(tiny, text_file)
    before = {name: p.detach().clone() for name, p in tiny.model.named_parameters()}
    with torch.no_grad():  # a step that produces a non-finite loss: poison one input embedding row
        tiny.model.get_input_embeddings().weight[data.input_ids[0, 0]] = float("inf")
    poisoned = tiny.model.get_input_embeddings().weight.detach().clone()
    settings = TrainSettings(learning_rate=1e-2, batch_size=len(data), sequence_length=16, max_steps=6, validate_every=2)
    outcome = train_sparse(tiny, NeuronSet("af", NEURONS), data, validation, settings)
    assert outcome.diverged_step == 1 and outcome.steps == 0  # stopped before the NaN gradients reached any weight
    assert outcome.seconds > 0
    assert [loss for _, loss in outcome.train_loss] == []
    assert outcome.best_step == 0
    for name, p in tiny.model.named_parameters():  # the kept weights are the base's (step 0)
        expected = poisoned if name.endswith("embed_tokens.weight") else before[name]
        assert torch.equal(p.detach(), expected), name


def test_divergence_after_good_steps_keeps_the_best_validated_weights(tiny, text_file, caplog):
    data = batches(tiny, text_file)
    calls = []

    def nan_from_the_fourth_training_forward(module, _inputs, output):
        if module.training:
            calls.append(1)
            if len(calls) >= 4:
                output.loss = output.loss * float("nan")
        return output

    handle = tiny.model.register_forward_hook(nan_from_the_fourth_training_forward)
    try:
        settings = TrainSettings(learning_rate=1e-2, batch_size=len(data), sequence_length=16, epochs=10, max_steps=8, validate_every=2)
        with caplog.at_level(logging.WARNING, logger="sparse_sub_worker.training"):
            outcome = train_sparse(tiny, NeuronSet("af", NEURONS), data, batches(tiny, text_file), settings)
    finally:
        handle.remove()
    assert caplog.messages == ["loss nan at step 4: training diverged; keeping the best weights (step 2)"]
    assert outcome.diverged_step == 4 and outcome.steps == 3
    assert [step for step, _ in outcome.validation_loss] == [0, 2]  # no validation after the bad step
    best = min(outcome.validation_loss, key=lambda point: point[1])
    assert outcome.best_step == best[0] == 2


def test_gradient_clipping_is_applied(tiny, text_file):
    """A clip far below the gradient norm must shrink the update. AdamW's first step is
    lr * g / (|g| + eps): scale-free while |g| >> eps (1e-8), so a gradient clipped to norm 1e-12
    moves each weight by ~lr * 1e-12 / 1e-8 instead of ~lr."""
    data = batches(tiny, text_file)
    base = tiny.layers[0].up_proj.weight[NEURONS[0]].detach().clone()
    common = dict(learning_rate=1e-2, batch_size=2, sequence_length=16, max_steps=1, validate_every=0, weight_decay=0.0, seed=1)
    moved = lambda outcome: (outcome.pack.slices[0]["up_proj"] - base).abs().max().item()
    unclipped = moved(train_sparse(tiny, NeuronSet("af", NEURONS), data, None, TrainSettings(max_grad_norm=0.0, **common)))
    clipped = moved(train_sparse(tiny, NeuronSet("af", NEURONS), data, None, TrainSettings(max_grad_norm=1e-12, **common)))
    assert unclipped == pytest.approx(1e-2, rel=0.01)  # sign(g) * lr
    assert clipped < 1e-5


def test_padding_is_never_a_training_target(tiny, text_file):
    """The worker trains with keep_tail (the last row padded). The first step's loss, before any
    update, must be the model's own loss with -100 labels on the padding."""
    stream = token_stream(tiny.encoder, [text_file.read_text()], None)
    data = pack(stream[: 16 * 3 + 5], 16, 0, keep_tail=True, pad_token_id=0, field_name="corpus")
    assert data.attention_mask[-1].sum() == 5  # a padded tail
    with torch.no_grad():
        labels = data.input_ids.masked_fill(data.attention_mask == 0, -100)
        expected = tiny.model(input_ids=data.input_ids, attention_mask=data.attention_mask, labels=labels).loss.item()
        unmasked = tiny.model(input_ids=data.input_ids, attention_mask=data.attention_mask, labels=data.input_ids).loss.item()
    assert abs(expected - unmasked) > 1e-3  # the padding would change the loss
    settings = TrainSettings(learning_rate=1e-2, batch_size=len(data), sequence_length=16, max_steps=1, validate_every=0)
    outcome = train_sparse(tiny, NeuronSet("af", NEURONS), data, None, settings)
    assert outcome.train_loss[0][1] == pytest.approx(expected, rel=1e-6)


def test_the_best_steps_weights_are_the_ones_kept(tiny, text_file):
    """Not only the step called best: the kept slices are that step's weights, which a run
    stopped at that step (same data order, no validation) reaches independently."""
    data = batches(tiny, text_file)
    common = dict(learning_rate=2e-1, batch_size=2, sequence_length=16, seed=2)  # validation loss turns up after step 4
    full = train_sparse(tiny, NeuronSet("af", NEURONS), data, data, TrainSettings(max_steps=6, validate_every=2, **common))
    assert 0 < full.best_step < 6, "pick settings where the best step is neither the first nor the last"
    stopped = train_sparse(tiny, NeuronSet("af", NEURONS), data, None, TrainSettings(max_steps=full.best_step, validate_every=0, **common))
    last = train_sparse(tiny, NeuronSet("af", NEURONS), data, None, TrainSettings(max_steps=6, validate_every=0, **common))
    for layer, slices in stopped.pack.slices.items():
        for name, tensor in slices.items():
            torch.testing.assert_close(full.pack.slices[layer][name], tensor, rtol=0, atol=0)
            assert not torch.equal(last.pack.slices[layer][name], tensor)  # the last step's weights differ


def test_validation_runs_only_when_asked_for_and_given(tiny, text_file):
    data = batches(tiny, text_file)
    common = dict(learning_rate=1e-2, batch_size=2, sequence_length=16, max_steps=3)
    never = train_sparse(tiny, NeuronSet("af", NEURONS), data, data, TrainSettings(validate_every=0, **common))
    assert never.validation_loss == [] and never.best_step == 3  # validation data, but validate_every 0: the last step is kept
    every_step = train_sparse(tiny, NeuronSet("af", NEURONS), data, data, TrainSettings(validate_every=1, **common))
    assert [step for step, _ in every_step.validation_loss] == [0, 1, 2, 3]
    no_data = train_sparse(tiny, NeuronSet("af", NEURONS), data, None, TrainSettings(validate_every=2, **common))
    assert no_data.validation_loss == [] and no_data.best_step == 3  # asked for, but no held-out text


class _Payload:
    """Any object a pickle can rebuild: code a tampered checkpoint could run on loading."""


def test_a_checkpoint_is_read_as_tensors_and_plain_values_only(tmp_path):
    path = tmp_path / "job.ckpt"
    torch.save({"fingerprint": "f", "step": 2, "params": {"w": torch.ones(2)}}, path)
    loaded = _load_checkpoint(str(path), "f")
    assert loaded["step"] == 2 and torch.equal(loaded["params"]["w"], torch.ones(2))
    assert _load_checkpoint(str(path), "other settings") is None
    assert _load_checkpoint(str(tmp_path / "absent.ckpt"), "f") is None
    torch.save({"fingerprint": "f", "payload": _Payload()}, path)
    assert _load_checkpoint(str(path), "f") is None  # weights_only: refused, the job starts over
    path.write_bytes(b"not a checkpoint")
    assert _load_checkpoint(str(path), "f") is None


def test_step_reports_time_and_rate_of_this_attempt(tiny, text_file):
    import time

    data = batches(tiny, text_file)
    reports = []
    start = time.perf_counter()
    outcome = train_sparse(tiny, NeuronSet("af", NEURONS), data, None, TrainSettings(learning_rate=1e-2, batch_size=2, sequence_length=16, max_steps=3, validate_every=0),
                           on_step=reports.append)
    wall = time.perf_counter() - start
    assert [(r.step, r.total_steps) for r in reports] == [(1, 3), (2, 3), (3, 3)]
    assert [r.tokens for r in reports] == [2 * 16, 4 * 16, 6 * 16] and outcome.tokens == 6 * 16  # two full rows a step
    assert 0 < reports[0].elapsed < reports[1].elapsed < reports[2].elapsed < wall
    for r, (step, loss) in zip(reports, outcome.train_loss, strict=True):
        assert r.tokens_per_second == pytest.approx(r.tokens / r.elapsed, rel=1e-12)
        assert (r.step, r.loss) == (step, loss)


@pytest.mark.parametrize("name", ["learning_rate", "batch_size", "gradient_accumulation_steps", "sequence_length", "epochs"])
def test_a_setting_that_must_be_positive_refuses_zero_naming_the_field(name):
    with pytest.raises(WorkerError) as caught:
        TrainSettings(**{name: 0})
    assert (caught.value.field, caught.value.message) == (f"config.{name}", f"config.{name}: must be > 0, got 0")


@pytest.mark.parametrize("name", ["weight_decay", "max_grad_norm", "max_tokens", "max_steps", "validate_every", "checkpoint_every"])
def test_a_setting_that_may_be_zero_refuses_a_negative_value_naming_the_field(name):
    TrainSettings(**{name: 0})  # 0 is allowed: off, or none
    with pytest.raises(WorkerError) as caught:
        TrainSettings(**{name: -1})
    assert (caught.value.field, caught.value.message) == (f"config.{name}", f"config.{name}: must be >= 0, got -1")


def test_components_must_be_distinct_projections():
    assert TrainSettings(components=()).components == ("gate", "up", "down")  # none given: all three
    for bad in (("gate", "gate"), ("gate", "attn")):
        with pytest.raises(WorkerError) as caught:
            TrainSettings(components=bad)
        assert caught.value.field == "config.components"
        assert caught.value.message == f"config.components: {list(bad)} must be distinct values of ['gate', 'up', 'down']"


def test_gradient_checkpointing_is_on_during_the_steps_only(tiny, text_file):
    seen = []
    settings = TrainSettings(learning_rate=1e-2, batch_size=2, sequence_length=16, max_steps=2, validate_every=0, gradient_checkpointing=True)
    checkpointed = train_sparse(tiny, NeuronSet("af", NEURONS), batches(tiny, text_file), None, settings,
                                on_step=lambda _r: seen.append(tiny.model.is_gradient_checkpointing))
    assert seen == [True, True] and not tiny.model.is_gradient_checkpointing
    plain = train_sparse(tiny, NeuronSet("af", NEURONS), batches(tiny, text_file), None, TrainSettings(**{**settings.__dict__, "gradient_checkpointing": False}),
                         on_step=lambda _r: seen.append(tiny.model.is_gradient_checkpointing))
    assert seen[2:] == [False, False]
    assert [l for _, l in checkpointed.train_loss] == pytest.approx([l for _, l in plain.train_loss], rel=1e-6)  # recomputed, not changed


def test_the_outcome_reports_time_memory_and_no_earlier_attempt(tiny, text_file):
    import time

    start = time.perf_counter()
    outcome = train_sparse(tiny, NeuronSet("af", NEURONS), batches(tiny, text_file), None,
                           TrainSettings(learning_rate=1e-2, batch_size=2, sequence_length=16, max_steps=2, validate_every=0))
    assert 0 < outcome.seconds < time.perf_counter() - start
    assert outcome.peak_memory_bytes > 0  # resident set size on a CPU
    assert outcome.tokens_before_resume == 0


def test_a_checkpoint_resumes_under_another_checkpoint_interval_but_not_for_another_neuron_set(tiny, text_file, tmp_path):
    from sparse_sub_worker.errors import JobCancelled

    data = batches(tiny, text_file)
    checkpoint = tmp_path / "af.ckpt"
    common = dict(learning_rate=1e-2, batch_size=2, sequence_length=16, max_steps=4, validate_every=0, seed=3)

    def interrupted(neurons):
        with pytest.raises(JobCancelled):
            train_sparse(tiny, NeuronSet("af", neurons), data, None, TrainSettings(checkpoint_every=2, **common),
                         checkpoint_path=str(checkpoint), should_stop=cancelled_at_micro_batch(3))
        assert checkpoint.exists()

    steps = []
    interrupted(NEURONS)
    train_sparse(tiny, NeuronSet("af", NEURONS), data, None, TrainSettings(checkpoint_every=3, **common),
                 checkpoint_path=str(checkpoint), on_step=lambda r: steps.append(r.step))
    assert steps == [3, 4]  # how often to save is not part of what a checkpoint must match
    steps.clear()
    interrupted(NEURONS)
    other = [[1, 5], [7], [0, 2, 63]]  # other trained shapes: the saved slices do not fit them
    train_sparse(tiny, NeuronSet("af", other), data, None, TrainSettings(checkpoint_every=2, **common),
                 checkpoint_path=str(checkpoint), on_step=lambda r: steps.append(r.step))
    assert steps == [1, 2, 3, 4]


def test_without_max_steps_the_job_is_every_sequence_once_per_epoch(tiny, text_file):
    data = batches(tiny, text_file)
    per_epoch = -(-len(data) // 2)  # ceil: the last step may hold one sequence
    assert len(data) > 2
    totals = []
    outcome = train_sparse(tiny, NeuronSet("af", NEURONS), data, None, TrainSettings(learning_rate=1e-2, batch_size=2, sequence_length=16, epochs=2, validate_every=0),
                           on_step=lambda r: totals.append(r.total_steps))
    assert outcome.steps == 2 * per_epoch and set(totals) == {2 * per_epoch}
    assert outcome.tokens == 2 * len(data) * 16


def test_each_validation_is_reported_and_a_tie_keeps_the_earlier_step(tiny, text_file):
    data = batches(tiny, text_file)
    seen = []
    # a learning rate so small that no weight moves in float32: every validation loss is the same
    outcome = train_sparse(tiny, NeuronSet("af", NEURONS), data, data, TrainSettings(learning_rate=1e-30, batch_size=2, sequence_length=16, max_steps=2, validate_every=1),
                           on_validation=lambda step, loss: seen.append((step, loss)))
    assert seen == outcome.validation_loss and [step for step, _ in seen] == [0, 1, 2]
    assert len({loss for _, loss in seen}) == 1
    assert outcome.best_step == 0  # no better than the base: the base's weights are kept


def test_a_resumed_job_keeps_its_validation_history_and_best_weights(tiny, text_file, tmp_path):
    from sparse_sub_worker.errors import JobCancelled

    data = batches(tiny, text_file)
    # as in test_the_best_steps_weights_are_the_ones_kept: validation turns worse after step 4
    settings = TrainSettings(learning_rate=2e-1, batch_size=2, sequence_length=16, seed=2, max_steps=6, validate_every=2, checkpoint_every=4)
    whole = train_sparse(tiny, NeuronSet("af", NEURONS), data, data, settings)
    assert 0 < whole.best_step < 6 and whole.best_step <= 4, "the best step must lie before the checkpoint"
    checkpoint = tmp_path / "af.ckpt"
    with pytest.raises(JobCancelled):
        train_sparse(tiny, NeuronSet("af", NEURONS), data, data, settings, checkpoint_path=str(checkpoint), should_stop=cancelled_at_micro_batch(5))
    resumed = train_sparse(tiny, NeuronSet("af", NEURONS), data, data, settings, checkpoint_path=str(checkpoint))
    assert resumed.validation_loss == whole.validation_loss and [s for s, _ in resumed.validation_loss] == [0, 2, 4, 6]
    assert resumed.best_step == whole.best_step
    for layer, slices in whole.pack.slices.items():
        for name, tensor in slices.items():
            assert torch.equal(resumed.pack.slices[layer][name], tensor)


def test_installed_slices_leave_the_models_state_dict_as_it_was(tiny):
    """Indices and base copies are non-persistent buffers: a model saved while the slices are
    installed holds no extra tensors beyond the trained slices' parameters."""
    before = set(tiny.model.state_dict())
    with sparse_mlps_installed(tiny.model, tiny.layers, NEURONS, ("gate", "up", "down")):
        extra = set(tiny.model.state_dict()) - before
    assert extra and all(key.rsplit(".", 1)[1] in ("gate_rows", "up_rows", "down_cols") for key in extra), sorted(extra)


def test_an_mlp_with_biases_gives_the_same_output_once_its_slices_are_installed():
    from transformers import LlamaConfig, LlamaForCausalLM

    from sparse_sub_worker.models.architecture import mlp_layers

    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=50, hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
                                         num_key_value_heads=2, mlp_bias=True)).eval()
    with torch.no_grad():
        for layer in model.model.layers:  # biases of 0 would hide a dropped one
            for linear in (layer.mlp.gate_proj, layer.mlp.up_proj, layer.mlp.down_proj):
                linear.bias.normal_(0, 0.5)
    ids = torch.randint(0, 50, (2, 7))
    with torch.no_grad():
        base = model(input_ids=ids).logits
        with sparse_mlps_installed(model, mlp_layers(model), [[1, 4], [0, 31]], ("gate", "up", "down")):
            installed = model(input_ids=ids).logits
    torch.testing.assert_close(installed, base, rtol=1e-5, atol=1e-5)
