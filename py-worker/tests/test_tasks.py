"""Benchmark tasks: scoring against hand-computed answers, the fast engines against the
straightforward ones, and every task's loader on small files in its real schema."""

from __future__ import annotations

import json
import math
import random
import statistics

import pytest
import torch

from sparse_sub_worker.errors import WorkerError
from sparse_sub_worker.tasks.generation import generate
from sparse_sub_worker.tasks.languages import english_name, flores_code
from sparse_sub_worker.tasks.loglik import forward_tokens, score_choices, score_independent
from sparse_sub_worker.tasks.metrics import (BOOTSTRAP_ITERATIONS, BOOTSTRAP_SEED, accuracy, choice_scores, corpus_chrf_pp, loglik_predictions,
                                             mean_stderr, read_letter, translation_scores, with_stderr)
from sparse_sub_worker.tasks.runner import TaskSpec, run_task


def test_language_codes_map_through_cldr_data():
    assert [flores_code(c) for c in ("af", "afr", "afr_Latn", "mt", "ka", "zho_Hant", "sr-Cyrl")] == [
        "afr_Latn", "afr_Latn", "afr_Latn", "mlt_Latn", "kat_Geor", "zho_Hant", "srp_Cyrl"]
    assert english_name("afr_Latn") == "Afrikaans" and english_name("cy") == "Welsh"
    with pytest.raises(WorkerError) as error:
        flores_code("not a code!", "tasks[2].language")
    assert error.value.field == "tasks[2].language"


def test_metrics_by_hand():
    perfect = translation_scores(["the cat sat on the mat"], ["the cat sat on the mat"])
    assert perfect["bleu"] == pytest.approx(100) and perfect["chrf"] == pytest.approx(100) and perfect["chrf_pp"] == pytest.approx(100)
    assert translation_scores(["xyz"], ["the cat"])["bleu"] == 0
    # sentence-level scores are averaged: one perfect and one empty sentence give half
    assert translation_scores(["the cat sat on the mat", ""], ["the cat sat on the mat", "a dog ran"])["chrf"] == pytest.approx(50)
    assert [read_letter(a, 4) for a in ["B", " (c) because", "D. Paris", "a", "E", "The answer is B", ""]] == [1, 2, 3, 0, None, None, None]
    assert accuracy([1, None, 2], [1, 0, 0]) == pytest.approx(1 / 3)


def test_standard_errors_by_hand():
    # 3 right of 4: mean 0.75, sample sd sqrt((3 * 0.25^2 + 0.75^2) / 3) = 0.5, se 0.5 / sqrt(4)
    assert choice_scores([1, 0, 2, None], [1, 0, 2, 3]) == pytest.approx({"accuracy": 0.75, "accuracy_stderr": 0.25})
    assert mean_stderr([5.0]) == 0.0 and mean_stderr([2.0, 4.0]) == pytest.approx(1.0)  # sd sqrt(2), / sqrt(2)


def test_acc_norm_divides_by_the_option_length_in_characters():
    # option 0: -4 over 2 characters = -2 per char; option 1: -6 over 6 = -1 per char
    plain, normed = loglik_predictions([[-4.0, -6.0], [-1.0, -9.0]], [["ab", "abcdef"], ["a", "abc"]])
    assert plain == [0, 0] and normed == [1, 0]
    # a one-character option: -3 per char against -2.5
    assert loglik_predictions([[-3.0, -5.0]], [["a", "ab"]]) == ([0], [1])


def test_translation_scores_keep_bleu_and_chrf_apart_with_errors():
    from sacrebleu.metrics import BLEU, CHRF

    hyps, refs = ["the cat sat on a mat", "a dog ran", "hello there"], ["the cat sat on the mat", "the dog ran away", "hello there"]
    scores = translation_scores(hyps, refs)
    bleu = [BLEU(effective_order=True).sentence_score(h, [r]).score for h, r in zip(hyps, refs)]
    chrf = [CHRF().sentence_score(h, [r]).score for h, r in zip(hyps, refs)]
    assert scores["bleu"] == pytest.approx(sum(bleu) / 3) and scores["chrf"] == pytest.approx(sum(chrf) / 3)
    assert abs(scores["bleu"] - scores["chrf"]) > 1  # far beyond approx: swapping the two fails
    assert scores["bleu_stderr"] == pytest.approx(statistics.stdev(bleu) / math.sqrt(3))
    # the bootstrap equals sacrebleu's corpus chrF++ recomputed on each resampled corpus
    rng = random.Random(BOOTSTRAP_SEED)
    resampled = []
    for _ in range(BOOTSTRAP_ITERATIONS):
        picks = [rng.randrange(3) for _ in range(3)]
        resampled.append(CHRF(word_order=2).corpus_score([hyps[i] for i in picks], [[refs[i] for i in picks]]).score)
    assert scores["chrf_pp"] == pytest.approx(CHRF(word_order=2).corpus_score(hyps, [refs]).score)
    assert scores["chrf_pp_stderr"] == pytest.approx(statistics.stdev(resampled), rel=1e-9)


CONTEXTS = ["All human beings are born free", "Everyone has the right to life", "No one"]
CHOICES = [[" and equal", " in dignity", " forever and ever"], [" liberty", " and security of person"], [" shall be held", " is", " may", " x"]]


def test_shared_context_scores_equal_independent_scoring(tiny):
    shared = score_choices(tiny.model, tiny.encoder, CONTEXTS, CHOICES, batch_size=2)
    independent = score_independent(tiny.model, tiny.encoder, CONTEXTS, CHOICES, batch_size=3)
    for a, b in zip(shared, independent):
        # float32 puts the two paths ~1e-7 apart; a continuation read one position off moves a
        # near-uniform tiny model's scores by far more than 1e-6
        assert a == pytest.approx(b, rel=1e-6, abs=0)
    # by hand for one choice: sum of log-softmax of the full sequence at the continuation
    ctx = tiny.tokenizer(CONTEXTS[1]).input_ids
    cont = tiny.tokenizer(CHOICES[1][1], add_special_tokens=False).input_ids
    with torch.no_grad():
        logprobs = torch.log_softmax(tiny.model(input_ids=torch.tensor([ctx + cont])).logits[0], -1)
    by_hand = sum(float(logprobs[len(ctx) - 1 + i, t]) for i, t in enumerate(cont))
    assert shared[1][1] == pytest.approx(by_hand, rel=1e-6)
    contexts = [len(tiny.tokenizer(c).input_ids) for c in CONTEXTS]
    options = [[len(tiny.tokenizer(o, add_special_tokens=False).input_ids) for o in item] for item in CHOICES]
    assert forward_tokens(tiny.encoder, CONTEXTS, CHOICES, shared=True) == sum(contexts) + sum(map(sum, options))
    assert forward_tokens(tiny.encoder, CONTEXTS, CHOICES, shared=False) == sum(len(o) * c + sum(o) for c, o in zip(contexts, options))


def test_batched_left_padded_generation_equals_one_at_a_time(tiny):
    prompts = ["All human beings", "Everyone has the right to life, liberty and", "No"]
    batched = generate(tiny.model, tiny.encoder, prompts, batch_size=3, max_new_tokens=6)
    alone = [generate(tiny.model, tiny.encoder, [p], batch_size=1, max_new_tokens=6)[0] for p in prompts]
    assert batched == alone
    assert all("\n" not in out for out in batched)


def rows_file(tmp_path, name, rows):
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


# Two rows per task, in the hub datasets' real schemas.
SCHEMAS = {
    "belebele": [{"flores_passage": "Alle mense is vry.", "question": "Wie is vry?", "mc_answer1": "alle mense", "mc_answer2": "niemand",
                  "mc_answer3": "diere", "mc_answer4": "bome", "correct_answer_num": "1"}] * 2,
    "mmlu": [{"question": "2 + 2 =", "subject": "math", "choices": ["3", "4", "5", "6"], "answer": 1}] * 2,
    "hellaswag": [{"ctx": "She opens the door and", "endings": ["walks in.", "flies.", "melts.", "sings a door."], "label": "0"}] * 2,
    "piqa": [{"goal": "Dry wet hands", "sol1": "use a towel", "sol2": "use water", "label": 0}] * 2,
    "winogrande": [{"sentence": "The cup did not fit in the box because the _ was too big.", "option1": "cup", "option2": "box", "answer": "1"}] * 2,
    "arc_easy": [{"question": "Which is a liquid?", "choices": {"text": ["water", "rock", "wood"], "label": ["A", "B", "C"]}, "answerKey": "A"}] * 2,
    "sib200": [{"index_id": 1, "text": "Die span het die wedstryd gewen.", "category": "sports"}] * 2,
    "flores": [{"id": 1, "sentence_eng_Latn": "All human beings are born free.", "sentence_afr_Latn": "Alle mense word vry gebore."}] * 2,
}


@pytest.mark.parametrize("name", sorted(SCHEMAS))
@pytest.mark.parametrize("mode", ["generative", "loglik"])
def test_every_task_runs_on_local_files_in_its_schema(tiny, tmp_path, name, mode):
    if name == "flores" and mode == "loglik":
        pytest.skip("translation is generated")
    spec = TaskSpec(name=name, language="af", mode=mode, files=(rows_file(tmp_path, name, SCHEMAS[name]),), max_new_tokens=4)
    outcome = run_task(tiny.model, tiny.encoder, spec, batch_size=2)
    assert outcome.items == 2 and len(outcome.examples) == 2
    if name == "flores":
        assert set(outcome.metrics) == {"bleu", "chrf", "chrf_pp", "bleu_stderr", "chrf_stderr", "chrf_pp_stderr"}
        assert outcome.headline == "chrf"
        assert "Translate this sentence into Afrikaans: All human beings are born free. Translation:" == outcome.examples[0]["prompt"]
    elif mode == "loglik":
        # the accuracy the engine reports is the one independent scoring implies
        from sparse_sub_worker.tasks.definitions import task

        items = [task(name).item(r, "afr_Latn", "eng-x") for r in SCHEMAS[name]]
        scores = score_independent(tiny.model, tiny.encoder, [i.context for i in items], [[" " + o for o in i.options] for i in items])
        answers = [i.answer for i in items]
        expected = accuracy([max(range(len(s)), key=s.__getitem__) for s in scores], answers)
        per_char = [[ll / len(o) for ll, o in zip(s, i.options)] for s, i in zip(scores, items)]
        expected_norm = accuracy([max(range(len(s)), key=s.__getitem__) for s in per_char], answers)
        assert outcome.metrics["accuracy"] == expected and outcome.metrics["acc_norm"] == expected_norm
        assert outcome.headline == ("acc_norm" if name in ("hellaswag", "arc_easy", "piqa") else "accuracy")
    else:
        # the reading rule by hand on the outputs the examples show (both rows are the same item)
        letters = "ABCDEFG"
        stands_alone = lambda out: len(out.lstrip("( ")) > 0 and out.lstrip("( ")[0] in letters and (len(out.lstrip("( ")) == 1 or out.lstrip("( ")[1] in " ).:,")
        read = [letters.index(e["output"].lstrip("( ")[0]) if stands_alone(e["output"]) else None for e in outcome.examples]
        right = [e["answer"] for e in outcome.examples]
        assert outcome.metrics["unreadable"] == sum(r is None for r in read) / 2
        assert outcome.metrics["accuracy"] == sum(r is not None and items_options(name)[r] == a for r, a in zip(read, right)) / 2
        assert outcome.examples[0]["prompt"].endswith("\nAnswer:")


def items_options(name):
    from sparse_sub_worker.tasks.definitions import task

    return task(name).item(SCHEMAS[name][0], "afr_Latn", "eng-x").options


def test_generative_choice_reads_each_answer_against_the_right_option(tiny, tmp_path, monkeypatch):
    """Generation replaced by fixed answers (the model's own letters are tested for batch
    independence elsewhere): mmlu's right option is "4", letter B."""
    import sparse_sub_worker.tasks.runner as runner

    rows = SCHEMAS["mmlu"] * 2  # four copies of the same item
    monkeypatch.setattr(runner, "generate", lambda model, encoder, prompts, *a, **k: ["B. 4", "Because", "A", "(b)"])
    outcome = run_task(tiny.model, tiny.encoder, TaskSpec(name="mmlu", mode="generative", files=(rows_file(tmp_path, "mmlu", rows),)), batch_size=2)
    # right: "B. 4" and "(b)"; wrong: "A"; unreadable: "Because"
    assert outcome.metrics["accuracy"] == 0.5 and outcome.metrics["unreadable"] == 0.25
    assert outcome.metrics["accuracy_stderr"] == pytest.approx(math.sqrt(1 / 3) / 2, rel=1e-12)  # sample sd of 1,0,0,1 over sqrt(4)


def test_task_rows_missing_a_field_name_the_task(tiny, tmp_path):
    spec = TaskSpec(name="mmlu", files=(rows_file(tmp_path, "bad", [{"question": "q"}]),), field="tasks[3]")
    with pytest.raises(WorkerError) as error:
        run_task(tiny.model, tiny.encoder, spec, batch_size=2)
    assert error.value.reason == "TASK_DATA_SCHEMA" and "tasks[3]" in error.value.message
    with pytest.raises(WorkerError) as error:
        TaskSpec(name="squad")
    assert error.value.field == "tasks[0].name"


def test_repetition_penalty_is_transformers_own_without_padding_and_skips_padding():
    from transformers import RepetitionPenaltyLogitsProcessor

    from sparse_sub_worker.tasks.generation import PaddingAwareRepetitionPenalty

    torch.manual_seed(0)
    scores = torch.randn(2, 11)
    ids = torch.tensor([[3, 5, 5, 7], [1, 2, 9, 10]])
    ours = PaddingAwareRepetitionPenalty(1.1, torch.tensor([0, 0]))(ids, scores.clone())
    assert torch.equal(ours, RepetitionPenaltyLogitsProcessor(1.1)(ids, scores.clone()))
    # row 1 left-padded with token 0 (EOS): 0 is not penalized, the real tokens are
    padded = torch.tensor([[3, 5, 5, 7], [0, 0, 9, 10]])
    out = PaddingAwareRepetitionPenalty(1.1, torch.tensor([0, 2]))(padded, scores.clone())
    assert out[1, 0] == scores[1, 0] and torch.equal(out[1, [9, 10]], RepetitionPenaltyLogitsProcessor(1.1)(ids[1:, 2:], scores[1:].clone())[0, [9, 10]])
    untouched = [k for k in range(11) if k not in (9, 10)]
    assert torch.equal(out[1, untouched], scores[1, untouched])


def test_a_letter_counts_only_with_a_delimiter_after_it():
    """A word that starts with a valid letter is not that letter: the letter must stand alone."""
    assert [read_letter(a, 4) for a in ["Because it says so", "Dogs", "Cats.", "apple", "B) rights", "d", "(A)"]] == [None, None, None, None, 1, 3, 0]


def test_each_task_reads_its_answer_field_right():
    """The right option of each schema's row, known by hand (not computed by the code under
    test): Belebele's correct_answer_num and winogrande's answer are 1-based, the others 0-based
    or a label."""
    from sparse_sub_worker.tasks.definitions import task

    known = {"belebele": "alle mense", "mmlu": "4", "hellaswag": "walks in.", "piqa": "use a towel", "arc_easy": "water", "sib200": "sports"}
    for name, right in known.items():
        item = task(name).item(SCHEMAS[name][0], "afr_Latn", "eng-x")
        assert item.options[item.answer].strip() == right, name
    winogrande = task("winogrande").item(SCHEMAS["winogrande"][0], "afr_Latn", "eng-x")
    assert winogrande.options[winogrande.answer].startswith("cup"), winogrande.options


def test_prompts_and_contexts_read_as_written_by_hand():
    """The exact text each item becomes (tokenization depends on every space), and where each
    task's data lives on the hub."""
    from sparse_sub_worker.tasks.definitions import HubSource, task

    winogrande = task("winogrande").item(SCHEMAS["winogrande"][0], "", "")
    assert winogrande.context == "The cup did not fit in the box because the"
    assert winogrande.options == ["cup was too big.", "box was too big."]
    flores = {"id": 1, "sentence_eng_Latn": "All are free.", "sentence_af": "Almal is vry."}  # another spelling of the code
    assert task("flores").item(flores, "afr_Latn", "eng-x").prompt == "Translate this sentence into Afrikaans: All are free. Translation:"
    back = task("flores").item(flores, "afr_Latn", "x-eng")
    assert (back.prompt, back.reference) == ("Translate this sentence into English: Almal is vry. Translation:", "All are free.")
    for row in ({"sentence_eng_Latn": "x"}, {"sentence_eng_Latn": "x", "sentence_a": "y", "sentence_b": "z"}):
        with pytest.raises(KeyError):
            task("flores").item(row, "afr_Latn", "eng-x")
    assert task("flores").hub("afr_Latn") == HubSource("openlanguagedata/flores_plus", "afr_Latn", "devtest")
    assert task("belebele").hub("afr_Latn") == HubSource("facebook/belebele", "afr_Latn", "test")
    assert task("sib200").hub("afr_Latn") == HubSource("Davlan/sib200", "afr_Latn", "test")
    assert task("mmlu").hub("") == HubSource("cais/mmlu", "all", "validation")


def test_row_helpers_pick_the_language_s_own_column_split_at_the_first_blank_and_name_the_field():
    from sparse_sub_worker.tasks import definitions as d

    row = {"sentence_eng_Latn": "All are free.", "sentence_afr_Latn": "Almal is vry.", "sentence_nld_Latn": "Allen zijn vrij."}
    assert d.other_sentence_column(row, "nld_Latn") == "sentence_nld_Latn"
    assert d.other_sentence_column({"sentence_eng_Latn": "x", "sentence_af": "y"}, "afr_Latn") == "sentence_af"  # the one other column
    with pytest.raises(KeyError) as error:
        d.other_sentence_column(row, "xho_Latn")  # two other columns, neither its own
    assert error.value.args == ("sentence_xho_Latn",)
    into = d._translation(row, "afr_Latn", "eng-x")
    assert (into.prompt, into.reference) == ("Translate this sentence into Afrikaans: All are free. Translation:", "Almal is vry.")
    back = d._translation(row, "nld_Latn", "x-eng")
    assert (back.prompt, back.reference) == ("Translate this sentence into English: Allen zijn vrij. Translation:", "All are free.")
    # winogrande: the blank is the first "_"; a later one belongs to the rest of the sentence
    item = d._winogrande({"sentence": "Ann gave _ the file my_notes.txt", "option1": "Bob", "option2": "Cy", "answer": "2"}, "", "")
    assert (item.context, item.options, item.answer) == ("Ann gave", ["Bob the file my_notes.txt", "Cy the file my_notes.txt"], 1)
    assert d.lettered("Which?", ["one", "two"]) == "Which?\nA. one\nB. two\nAnswer:"
    with pytest.raises(WorkerError) as error:
        d.task("nope")
    assert error.value.field == "task"
    with pytest.raises(WorkerError) as error:
        d.task_language("flores", "not a code!", "tasks[2].language")
    assert error.value.field == "tasks[2].language"
    with pytest.raises(WorkerError) as error:
        d.task("belebel", "tasks[3].task")
    assert error.value.field == "tasks[3].task" and error.value.message.startswith("tasks[3].task: unknown task 'belebel': one of ['arc_challenge'")
    assert d.task_language("mmlu", "afr_Latn", "tasks[0].language") == ""  # an English task takes no language
    with pytest.raises(WorkerError) as error:
        d.task_language("flores", "", "tasks[1].language")
    assert error.value.field == "tasks[1].language" and error.value.message == "tasks[1].language: task 'flores' needs a language"


def test_a_scaled_mean_and_its_stderr_scale_alike():
    # values 0, 1, 1, 1: mean 0.75; sample sd sqrt(0.25), stderr 0.5 / 2 = 0.25; in percent: 75 and 25
    assert with_stderr("acc", [0.0, 1.0, 1.0, 1.0], scale=100) == {"acc": pytest.approx(75.0), "acc_stderr": pytest.approx(25.0)}
    assert accuracy([2], [2]) == 1.0 and accuracy([], []) == 0.0


def test_corpus_chrf_pp_has_a_bootstrap_error_from_two_sentences_and_none_from_one():
    from sacrebleu.metrics import CHRF

    hyps, refs = ["the cat sat on the mat", "a dog"], ["the cat sat on the mat", "a dog ran far away"]
    score, stderr = corpus_chrf_pp(hyps, refs)
    assert score == pytest.approx(CHRF(word_order=2).corpus_score(hyps, [refs]).score, abs=1e-9)  # sacrebleu's own number
    assert stderr > 0  # two different sentences: resampling them moves the score
    one, none = corpus_chrf_pp(hyps[:1], refs[:1])
    assert one == pytest.approx(100.0) and none == 0.0


def test_only_a_model_that_takes_logits_to_keep_is_asked_for_the_last_position(tiny):
    from peft import LoraConfig, get_peft_model

    from sparse_sub_worker.tasks.loglik import last_logits_only

    assert last_logits_only(tiny.model) == {"logits_to_keep": 1}  # Llama's forward takes it

    class OldModel(torch.nn.Module):
        def forward(self, input_ids, attention_mask=None):
            return input_ids

    assert last_logits_only(OldModel()) == {}
    wrapped = get_peft_model(tiny.model, LoraConfig(r=2, target_modules=["up_proj"]))
    assert last_logits_only(wrapped) == {"logits_to_keep": 1}  # peft's forward takes **kwargs: its base model's is read

    class WrapsAnOldModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = OldModel()

        def get_base_model(self):
            return self.inner

        def forward(self, logits_to_keep=0, **kwargs):
            return None

    assert last_logits_only(WrapsAnOldModel()) == {}  # the wrapper's own signature does not count
