"""Activation counting (REFERENCE §1) and packing, against independent computations."""

import pytest
import torch

from sparse_sub_worker.activations import count_activations, load_counts, save_counts
from sparse_sub_worker.corpus import pack, token_stream
from sparse_sub_worker.errors import WorkerError


def test_pack_drops_or_masks_the_tail():
    stream = list(range(10))
    dropped = pack(stream, 4, 0, keep_tail=False, pad_token_id=-1, field_name="corpus")
    assert dropped.input_ids.tolist() == [[0, 1, 2, 3], [4, 5, 6, 7]] and dropped.token_count == 8
    kept = pack(stream, 4, 0, keep_tail=True, pad_token_id=-1, field_name="corpus")
    assert kept.input_ids[-1].tolist() == [8, 9, -1, -1]
    assert kept.attention_mask[-1].tolist() == [1, 1, 0, 0] and kept.token_count == 10
    budget = pack(stream, 4, 5, keep_tail=False, pad_token_id=-1, field_name="corpus")
    assert budget.input_ids.tolist() == [[0, 1, 2, 3]]


def test_too_short_corpus_is_a_clear_error():
    with pytest.raises(WorkerError, match=r"train_corpus: 3 tokens is fewer than one sequence of 8") as error:
        pack([1, 2, 3], 8, 0, keep_tail=False, pad_token_id=0, field_name="train_corpus")
    assert error.value.reason == "CORPUS_TOO_SHORT"


def independent_counts(tiny, ids):
    """Hooks the activation module itself (as the reference does) and counts act > 0."""
    counts = torch.zeros(tiny.shape.num_layers, tiny.shape.intermediate_size, dtype=torch.int64)
    handles = []
    for layer in tiny.layers:
        def hook(_m, _i, out, index=layer.index):
            counts[index] += (out > 0).reshape(-1, out.shape[-1]).sum(0)
        handles.append(layer.act_fn.register_forward_hook(hook))
    with torch.no_grad():
        for row in ids:
            tiny.model(input_ids=row[None])
    for handle in handles:
        handle.remove()
    return counts


def test_counts_match_activation_hook_and_do_not_depend_on_batch_size(tiny, text_file, tmp_path):
    stream = token_stream(tiny.encoder, [text_file.read_text()], None)
    sequences = pack(stream, 16, 0, keep_tail=False, pad_token_id=0, field_name="corpus")
    decoder = tiny.model.get_decoder()
    one = count_activations(decoder, tiny.layers, sequences, batch_size=1)
    three = count_activations(decoder, tiny.layers, sequences, batch_size=3)
    assert one.token_count == three.token_count == sequences.input_ids.numel()
    assert torch.equal(one.over_zero, three.over_zero)
    assert torch.equal(one.over_zero, independent_counts(tiny, sequences.input_ids))
    assert one.over_zero.dtype == torch.int64 and 0 < one.over_zero.sum() < one.token_count * 64 * 3

    path = tmp_path / "af.safetensors"
    save_counts(path, one, "af", "tiny")
    again = load_counts(path, "counts")
    assert torch.equal(again.over_zero, one.over_zero) and again.token_count == one.token_count


def test_hub_dataset_corpus_goes_through_datasets_load_dataset(tmp_path):
    """The hub code path (datasets.load_dataset) on a local data directory, since no hub is reachable."""
    from sparse_sub_worker.corpus import HubDatasetCorpus, read_documents

    data = tmp_path / "glotcc-like"
    data.mkdir()
    (data / "train.jsonl").write_text('{"content": "Eerste dokument."}\n{"content": "Tweede dokument."}\n', encoding="utf-8")
    assert read_documents(HubDatasetCorpus(str(data), split="train", text_field="content"), "corpus") == ["Eerste dokument.", "Tweede dokument."]
    with pytest.raises(WorkerError, match=r"corpus.hub_dataset.text_field: 'text' is not a column of .* \(content\)"):
        read_documents(HubDatasetCorpus(str(data), split="train", text_field="text"), "corpus")


def test_hub_dataset_stops_reading_at_the_character_budget(tmp_path):
    from sparse_sub_worker.corpus import HubDatasetCorpus, read_documents

    data = tmp_path / "big"
    data.mkdir()
    (data / "train.jsonl").write_text("".join(f'{{"text": "document number {i:04d}"}}\n' for i in range(1000)), encoding="utf-8")
    documents = read_documents(HubDatasetCorpus(str(data)), "corpus", char_budget=50)
    assert documents == ["document number 0000", "document number 0001", "document number 0002"]


def test_a_gate_output_of_exactly_zero_is_not_active(tiny, text_file):
    """act(0) = 0 for SiLU and GELU: not > 0. With layer 0's gate weights zeroed every gate output
    there is exactly 0 (no bias), so that layer counts nothing, while layer 1 still counts."""
    stream = token_stream(tiny.encoder, [text_file.read_text()], None)
    sequences = pack(stream, 16, 0, keep_tail=False, pad_token_id=0, field_name="corpus")
    with torch.no_grad():
        tiny.layers[0].gate_proj.weight.zero_()
    counts = count_activations(tiny.model.get_decoder(), tiny.layers, sequences, batch_size=2)
    assert counts.over_zero[0].sum() == 0
    assert counts.over_zero[1].sum() > 0


def test_a_bos_column_is_fed_but_not_counted(tiny, text_file):
    """Rows that start with BOS: the counts are those of positions 1.. only (the same hook, its
    first column dropped), and n counts text tokens only."""
    from sparse_sub_worker.corpus import PackedSequences

    stream = token_stream(tiny.encoder, [text_file.read_text()], None)
    plain = pack(stream, 15, 0, keep_tail=False, pad_token_id=0, field_name="corpus")
    bos = torch.full((len(plain), 1), tiny.tokenizer.bos_token_id or 1, dtype=torch.long)
    ids = torch.cat([bos, plain.input_ids], dim=1)
    sequences = PackedSequences(ids, torch.ones_like(ids), plain.input_ids.numel(), bos_first=True)
    counts = count_activations(tiny.model.get_decoder(), tiny.layers, sequences, batch_size=2)
    everything = independent_counts(tiny, ids)
    first_column = independent_counts(tiny, ids[:, :1])  # BOS alone: causal attention makes it the same state
    assert counts.token_count == plain.input_ids.numel() == ids[:, 1:].numel()
    assert torch.equal(counts.over_zero, everything - first_column)
    assert not torch.equal(counts.over_zero, everything)


def test_mean_active_values_are_the_mean_of_act_fn_over_the_tokens_each_neuron_fired_on(tiny, text_file, tmp_path):
    """Against the activation module's own outputs, summed in float64 here."""
    stream = token_stream(tiny.encoder, [text_file.read_text()], None)
    sequences = pack(stream, 16, 0, keep_tail=False, pad_token_id=0, field_name="corpus")
    sums = torch.zeros(tiny.shape.num_layers, tiny.shape.intermediate_size, dtype=torch.float64)
    fired = torch.zeros_like(sums)
    handles = []
    for layer in tiny.layers:
        def hook(_m, _i, out, index=layer.index):
            flat = out.reshape(-1, out.shape[-1]).double()
            sums[index] += torch.where(flat > 0, flat, 0).sum(0)
            fired[index] += (flat > 0).sum(0)
        handles.append(layer.act_fn.register_forward_hook(hook))
    with torch.no_grad():
        tiny.model(input_ids=sequences.input_ids)
    for handle in handles:
        handle.remove()
    counts = count_activations(tiny.model.get_decoder(), tiny.layers, sequences, batch_size=2, active_sums=True)
    assert torch.equal(counts.over_zero, fired.long())
    torch.testing.assert_close(counts.active_sum, sums, rtol=1e-5, atol=1e-6)
    # without active_sums: the same counts, no sums, none in the file
    plain = count_activations(tiny.model.get_decoder(), tiny.layers, sequences, batch_size=2)
    assert torch.equal(plain.over_zero, counts.over_zero) and plain.active_sum is None
    save_counts(tmp_path / "plain.safetensors", plain, "af", "tiny")
    assert load_counts(tmp_path / "plain.safetensors", "c").active_sum is None
    expected = torch.where(fired > 0, sums / fired.clamp(min=1), 0).float()
    means = counts.mean_active_values()
    torch.testing.assert_close(means, expected, rtol=1e-5, atol=1e-7)
    never = counts.over_zero == 0
    assert (means[never] == 0).all() and (means[~never] > 0).all()

    path = tmp_path / "af.safetensors"
    save_counts(path, counts, "af", "tiny")
    again = load_counts(path, "c")
    assert again.active_sum.dtype == torch.float64 and torch.equal(again.active_sum, counts.active_sum)


def test_counts_without_active_sums_load_but_refuse_a_mean_naming_the_field(tmp_path):
    from safetensors.torch import save_file

    save_file({"over_zero": torch.ones(2, 4, dtype=torch.int64), "token_count": torch.tensor([7])}, str(tmp_path / "old.safetensors"))
    old = load_counts(tmp_path / "old.safetensors", "c")
    assert old.active_sum is None and old.token_count == 7
    with pytest.raises(WorkerError, match="boost_counts_path: these activation counts hold no active sums") as error:
        old.mean_active_values("boost_counts_path")
    assert error.value.field == "boost_counts_path" and error.value.reason == "NO_ACTIVE_VALUES"


def test_counts_files_keep_their_metadata_and_bad_files_name_the_field(tiny, text_file, tmp_path):
    from safetensors import safe_open

    stream = token_stream(tiny.encoder, [text_file.read_text()], None)
    counts = count_activations(tiny.model.get_decoder(), tiny.layers, pack(stream, 16, 0, keep_tail=False, pad_token_id=0, field_name="c"), 2)
    path = tmp_path / "af.safetensors"
    save_counts(path, counts, "af", "org/model")
    with safe_open(str(path), "pt") as f:
        assert f.metadata() == {"language": "af", "model": "org/model", "format": "sparse-sub/activation-counts@1"}
        assert f.get_tensor("token_count").dtype == torch.int64
    with pytest.raises(WorkerError) as error:
        load_counts(tmp_path / "missing.safetensors", "counts[2].path")
    assert error.value.field == "counts[2].path"
    assert error.value.message == f"counts[2].path: activation counts file not found: {tmp_path / 'missing.safetensors'}"
    from safetensors.torch import save_file

    save_file({"over_zero": counts.over_zero}, str(tmp_path / "half.safetensors"))  # no token_count
    with pytest.raises(WorkerError) as error:
        load_counts(tmp_path / "half.safetensors", "counts[0].path")
    assert error.value.reason == "BAD_COUNTS_FILE" and error.value.field == "counts[0].path"
    save_file({"over_zero": counts.over_zero.to(torch.int32), "token_count": torch.tensor([7])}, str(tmp_path / "i32.safetensors"))
    assert load_counts(tmp_path / "i32.safetensors", "c").over_zero.dtype == torch.int64


def test_progress_reports_counted_tokens_after_each_batch_and_the_hooks_are_removed(tiny, text_file):
    stream = token_stream(tiny.encoder, [text_file.read_text()], None)
    sequences = pack(stream, 16, 0, keep_tail=False, pad_token_id=0, field_name="corpus")
    reports = []
    decoder = tiny.model.get_decoder()
    count_activations(decoder, tiny.layers, sequences, batch_size=4, on_batch=lambda done, total: reports.append((done, total)))
    rows = len(sequences)
    expected = [(min(end, rows) * 16, sequences.token_count) for end in range(4, rows + 4, 4)]
    assert reports == expected and reports[-1][0] == rows * 16
    assert all(not layer.gate_proj._forward_hooks for layer in tiny.layers)  # the model is left as it was


def test_throughput_is_tokens_over_elapsed_seconds(monkeypatch):
    from sparse_sub_worker import activations

    clock = iter([100.0, 102.5, 104.0, 104.0, 104.5])
    monkeypatch.setattr(activations.time, "perf_counter", lambda: next(clock))
    meter = activations.Throughput()  # starts at 100
    assert meter.elapsed() == 2.5
    assert meter.rate(600) == 150.0  # 600 tokens / 4 s
    meter.start = 104.0
    assert meter.rate(10) == 0.0  # no time passed: no rate rather than a division by zero
    assert meter.rate(10) == 20.0  # half a second: 10 tokens / 0.5 s
