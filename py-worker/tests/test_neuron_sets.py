"""Import/export of the reference torch.save format, checked on the authors' released files."""

import pytest
import torch

from sparse_sub_worker.neuron_sets import NeuronSet, export_reference, import_reference, load_neuron_set, save_neuron_set
from sparse_sub_worker.errors import WorkerError

from .conftest import REFERENCE_DATA

PAPER_LANGUAGES = "mt af is cy mk lv lt sl sk et ka ne".split()
PAPER_COUNTS = dict(mt=3015, af=2581, is_=5033, cy=6020, mk=1743, lv=3212, lt=2978, sl=2046, sk=1940, et=3204, ka=1150, ne=4625)
needs_reference = pytest.mark.skipif(not REFERENCE_DATA.is_dir(), reason=f"reference data not found at {REFERENCE_DATA}")


@needs_reference
def test_imports_the_papers_llama_sets_with_known_counts():
    sets, missing = import_reference(REFERENCE_DATA / "paper-llama-3.1-8b-top5.pt", PAPER_LANGUAGES)
    assert missing == []
    counts = {s.language: s.neuron_count for s in sets}
    assert counts == {k.rstrip("_"): v for k, v in PAPER_COUNTS.items()}
    assert all(len(s.layers) == 32 for s in sets)
    unique = {(l, i) for s in sets for l, idx in enumerate(s.layers) for i in idx}
    assert len(unique) == round(32 * 14336 * 0.05)


@needs_reference
def test_reports_trailing_languages_the_reference_dropped():
    sets, missing = import_reference(REFERENCE_DATA / "tang-mistral-7b.neuron.pth", "en zh fr es vi id ja".split())
    assert [s.language for s in sets] == "en zh fr es vi id".split()
    assert missing == ["ja"]


@needs_reference
def test_export_round_trips_byte_for_byte_in_content(tmp_path):
    source = REFERENCE_DATA / "paper-llama-3.1-8b-top5.pt"
    sets, _ = import_reference(source, PAPER_LANGUAGES)
    out = tmp_path / "export.pt"
    export_reference(out, sets, 32)
    original = torch.load(source, weights_only=True)
    exported = torch.load(out, weights_only=True)
    assert len(exported) == len(original)
    for lang_original, lang_exported in zip(original, exported):
        for a, b in zip(lang_original, lang_exported):
            assert b.dtype == torch.long and b.tolist() == sorted(torch.as_tensor(a).tolist())


def test_json_round_trip_and_bad_file(tmp_path):
    neuron_set = NeuronSet("af", [[3, 1], [], [7]], 64)
    save_neuron_set(tmp_path / "af.json", neuron_set)
    loaded = load_neuron_set(tmp_path / "af.json", "neuron_set_path")
    assert loaded.layers == [[1, 3], [], [7]] and loaded.neuron_count == 3
    (tmp_path / "bad.json").write_text("{\"layers\": 1}")
    with pytest.raises(WorkerError, match="neuron_set_path: .*bad.json is not a sparse-sub/neuron-set@1 file"):
        load_neuron_set(tmp_path / "bad.json", "neuron_set_path")


def test_convert_neuron_set_exports_over_grpc_in_the_reference_layout_and_imports_back(stub, tmp_path):
    from sparse_sub_worker.gen.sparse_sub.v1 import worker_pb2 as pb

    sets = [NeuronSet("af", [[3, 1], [], [7]], 64), NeuronSet("mt", [[0], [2, 5], []], 64)]
    paths = [str(tmp_path / f"{s.language}.json") for s in sets]
    for neuron_set, path in zip(sets, paths):
        save_neuron_set(path, neuron_set)
    reference = tmp_path / "exported.pt"
    Direction = pb.ConvertNeuronSetRequest
    exported = stub.ConvertNeuronSet(pb.ConvertNeuronSetRequest(direction=Direction.DIRECTION_EXPORT, reference_path=str(reference),
                                                                neuron_set_paths=paths))
    assert [s.neuron_count for s in exported.neuron_sets] == [3, 3]
    # the reference's own layout, read with plain torch: List[language][layer] -> LongTensor
    data = torch.load(reference, weights_only=True)
    assert [[t.tolist() for t in language] for language in data] == [[[1, 3], [], [7]], [[0], [2, 5], []]]
    assert all(t.dtype == torch.int64 for language in data for t in language)  # LongTensor, an empty layer too
    back = [str(tmp_path / "back-af.json"), str(tmp_path / "back-mt.json")]
    imported = stub.ConvertNeuronSet(pb.ConvertNeuronSetRequest(direction=Direction.DIRECTION_IMPORT, reference_path=str(reference),
                                                                languages=["af", "mt"], neuron_set_paths=back))
    assert list(imported.missing_languages) == []
    assert [load_neuron_set(p, "x").layers for p in back] == [[sorted(layer) for layer in s.layers] for s in sets]


def test_a_neuron_set_file_is_checked_field_by_field(tmp_path):
    import json

    from sparse_sub_worker.neuron_sets import FORMAT, check_fits

    def write(data) -> str:
        path = tmp_path / "set.json"
        path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
        return str(path)

    good = {"format": FORMAT, "language": "af", "intermediate_size": 64, "layers": [[0, 63], [5]]}
    loaded = load_neuron_set(write(good), "neuron_set_path")
    assert (loaded.language, loaded.layers, loaded.intermediate_size) == ("af", [[0, 63], [5]], 64)  # neuron 0 is a neuron
    bad = {"not json": "{", "another format": {**good, "format": "other@1"}, "a negative index": {**good, "layers": [[-1]]},
           "a string index": {**good, "layers": [["3"]]}, "a layer that is not a list": {**good, "layers": [3]},
           "layers not a list": {**good, "layers": {"0": [1]}}}
    for case, data in bad.items():
        with pytest.raises(WorkerError) as error:
            load_neuron_set(write(data), "sets[1]")
        assert (error.value.reason, error.value.field) == ("BAD_NEURON_SET", "sets[1]"), case
    with pytest.raises(WorkerError) as error:
        load_neuron_set(str(tmp_path / "nowhere.json"), "sets[2]")
    assert error.value.field == "sets[2]" and "nowhere.json" in error.value.message

    # the model's shape: neuron 63 fits 64 per layer, neuron 64 does not; two layers do not fit three
    check_fits(loaded, 2, 64, "x")
    for neuron_set, layers, size in ((loaded, 2, 63), (loaded, 3, 64), (NeuronSet("af", [[], []], 64), 2, 64)):
        with pytest.raises(WorkerError) as error:
            check_fits(neuron_set, layers, size, "neuron_set_path")
        assert error.value.field == "neuron_set_path" and error.value.reason in ("SHAPE_MISMATCH", "EMPTY_NEURON_SET")


def test_random_sets_per_layer_are_reproducible_by_seed():
    from sparse_sub_worker.neuron_sets import draw_random_set

    like = NeuronSet("af", [[1, 2, 3], [], [0, 9]], 10)
    first = draw_random_set(like, 3, 10, seed=4, per_layer=True)
    assert first.layers == draw_random_set(like, 3, 10, seed=4, per_layer=True).layers
    assert [len(l) for l in first.layers] == [3, 0, 2]
    assert any(draw_random_set(like, 3, 10, seed=s, per_layer=True).layers != first.layers for s in range(5, 9))


# Self-contained cases (no released files needed): small sets whose every value is written out by hand.

def _fails(call, reason: str, field: str, message: str) -> None:
    with pytest.raises(WorkerError) as error:
        call()
    assert (error.value.reason, error.value.field) == (reason, field)
    assert message in error.value.message, error.value.message


def test_the_json_file_holds_every_field_and_reads_back_sorted_and_deduplicated(tmp_path):
    import json

    from sparse_sub_worker.neuron_sets import FORMAT

    path = tmp_path / "af.json"
    save_neuron_set(path, NeuronSet("af", [[4, 2], [], [9]], 16))
    assert json.loads(path.read_text()) == {"format": "sparse-sub/neuron-set@1", "language": "af", "num_layers": 3,
                                            "intermediate_size": 16, "neuron_count": 3, "layers": [[4, 2], [], [9]]}
    assert path.read_text().endswith("}\n")
    path.write_text(json.dumps({"format": FORMAT, "layers": [[5, 1, 5], [0]]}))
    loaded = load_neuron_set(path, "f")
    assert (loaded.language, loaded.layers, loaded.intermediate_size, loaded.neuron_count) == ("", [[1, 5], [0]], 0, 3)


def test_bad_json_and_bad_layers_say_what_is_wrong(tmp_path):
    from sparse_sub_worker.neuron_sets import FORMAT

    path = tmp_path / "set.json"
    path.write_text("{not json")
    _fails(lambda: load_neuron_set(path, "sets[0]"), "BAD_NEURON_SET", "sets[0]", f"sets[0]: {path} is not JSON (")
    path.write_bytes(b"\xff\xfe{}")
    _fails(lambda: load_neuron_set(path, "sets[0]"), "BAD_NEURON_SET", "sets[0]", "is not JSON")
    path.write_text('["a list"]')
    _fails(lambda: load_neuron_set(path, "sets[0]"), "BAD_NEURON_SET", "sets[0]", f"sets[0]: {path} is not a {FORMAT} file")
    path.write_text('{"format": "%s", "layers": [[1], [2.5]]}' % FORMAT)
    _fails(lambda: load_neuron_set(path, "sets[0]"), "BAD_NEURON_SET", "sets[0]",
           f"sets[0]: {path}: 'layers' must be a list of lists of neuron indices")
    path.write_text('{"format": "%s"}' % FORMAT)
    _fails(lambda: load_neuron_set(path, "sets[0]"), "BAD_NEURON_SET", "sets[0]", "'layers' must be a list")
    _fails(lambda: load_neuron_set(tmp_path / "gone.json", "sets[3]"), "PATH_NOT_FOUND", "sets[3]", "sets[3]: neuron set not found: ")


def test_a_set_that_does_not_fit_the_model_names_the_mismatch():
    from sparse_sub_worker.neuron_sets import check_fits

    fits = NeuronSet("af", [[0, 7], []], 8)
    check_fits(fits, 2, 8, "x")  # neuron 7 is the last of 8; an empty layer is allowed
    _fails(lambda: check_fits(fits, 3, 8, "neuron_set_path"), "SHAPE_MISMATCH", "neuron_set_path", "neuron_set_path: set has 2 layers, the model has 3")
    _fails(lambda: check_fits(fits, 2, 7, "neuron_set_path"), "SHAPE_MISMATCH", "neuron_set_path",
           "neuron_set_path: layer 0 names neuron 7, the model has 7 per layer")
    late = NeuronSet("af", [[1], [2, 5, 9]], 16)
    _fails(lambda: check_fits(late, 2, 9, "p"), "SHAPE_MISMATCH", "p", "layer 1 names neuron 9, the model has 9 per layer")  # its largest
    _fails(lambda: check_fits(NeuronSet("mt", [[], []]), 2, 8, "p"), "EMPTY_NEURON_SET", "p", "p: the neuron set for 'mt' is empty")


def test_a_hand_made_reference_file_imports_with_its_trailing_languages_missing(tmp_path):
    path = tmp_path / "ref.pt"
    # List[language][layer] -> LongTensor, as the reference's identify.py saves it (unsorted, one 2-D)
    torch.save([[torch.tensor([3, 1]), torch.tensor([], dtype=torch.long)], (torch.tensor([[2, 0]]), torch.tensor([5]))], path)
    sets, missing = import_reference(path, ["af", "mt", "cy"])
    assert [(s.language, s.layers, s.intermediate_size) for s in sets] == [("af", [[1, 3], []], 0), ("mt", [[0, 2], [5]], 0)]
    assert all(isinstance(i, int) for s in sets for layer in s.layers for i in layer)
    assert missing == ["cy"]
    assert import_reference(path, ["af", "mt"])[1] == []
    _fails(lambda: import_reference(path, ["af"]), "INVALID_FIELD", "languages", f"{path} holds 2 languages but 1 codes were given")


def test_a_reference_file_that_is_not_one_says_so(tmp_path):
    _fails(lambda: import_reference(tmp_path / "gone.pt", ["af"]), "PATH_NOT_FOUND", "reference_path", f"reference_path: reference neuron file not found: {tmp_path / 'gone.pt'}")
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a torch file")
    _fails(lambda: import_reference(garbage, ["af"]), "BAD_REFERENCE_FILE", "reference_path", f"reference_path: cannot read {garbage} (")
    for name, data in (("dict", {"af": [torch.tensor([1])]}), ("flat", [torch.tensor([1])])):
        path = tmp_path / f"{name}.pt"
        torch.save(data, path)
        _fails(lambda: import_reference(path, ["af"]), "BAD_REFERENCE_FILE", "reference_path",
               f"reference_path: {path} is not a List[language][layer] of tensors")


def test_export_writes_long_tensors_in_the_given_order_and_refuses_a_wrong_layer_count(tmp_path):
    out = tmp_path / "out.pt"
    export_reference(out, [NeuronSet("mt", [[4], []]), NeuronSet("af", [[0, 1], [3]])], 2)
    data = torch.load(out, weights_only=True)
    assert [[t.tolist() for t in language] for language in data] == [[[4], []], [[0, 1], [3]]]
    assert {t.dtype for language in data for t in language} == {torch.long}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.pt"]  # nothing half-written beside it
    _fails(lambda: export_reference(tmp_path / "bad.pt", [NeuronSet("af", [[0]])], 2), "INVALID_FIELD", "num_layers",
           "set 'af' has 1 layers, expected 2")
    assert not (tmp_path / "bad.pt").exists()


def test_random_sets_draw_the_reference_way_over_all_neurons_or_per_layer():
    from sparse_sub_worker.neuron_sets import draw_random_set

    like = NeuronSet("af", [[1, 2, 3], [], [0, 9]], 10)
    drawn = draw_random_set(like, 3, 10, seed=7, per_layer=False)
    # the reference: one permutation of all layer*size positions, the first count of them
    flat = torch.randperm(30, generator=torch.Generator().manual_seed(7))[:5].tolist()
    expected = [sorted(f % 10 for f in flat if f // 10 == layer) for layer in range(3)]
    assert (drawn.language, drawn.layers, drawn.intermediate_size, drawn.neuron_count) == ("af", expected, 10, 5)
    assert draw_random_set(like, 3, 10, seed=8, per_layer=False).layers != drawn.layers
    # per layer: one permutation of the layer's neurons per non-empty layer, drawn in layer order
    generator = torch.Generator().manual_seed(7)
    first = sorted(torch.randperm(10, generator=generator)[:3].tolist())
    third = sorted(torch.randperm(10, generator=generator)[:2].tolist())
    assert draw_random_set(like, 3, 10, seed=7, per_layer=True).layers == [first, [], third]


class _NotATensor:
    """Anything torch.save can pickle that is not tensor data."""


def test_a_reference_file_is_read_without_running_pickled_code(tmp_path):
    path = tmp_path / "pickled.pt"
    torch.save([[_NotATensor()]], path)  # torch.load(weights_only=False) would build this object
    _fails(lambda: import_reference(path, ["af"]), "BAD_REFERENCE_FILE", "reference_path", f"reference_path: cannot read {path} (")
