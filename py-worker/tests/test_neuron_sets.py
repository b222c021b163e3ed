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
