"""The tasks: where their data lives on the hub, the schema of a row, and how a row becomes a
prompt. Local files (.jsonl/.json/.parquet/.csv) in the same schema replace the hub dataset.

Prompts follow the reference (docs/method.md §4): translation
`Translate this sentence into {name}: {text} Translation:`; multiple choice lists options A-D
(SIB-200: A-G) and ends with `Answer:`. The log-likelihood mode scores each option's text as the
continuation of the context instead of asking for a letter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import invalid
from .languages import english_name, flores_code
from .metrics import LETTERS

SIB_TOPICS = ["science/technology", "travel", "politics", "sports", "health", "entertainment", "geography"]


@dataclass
class Choice:
    """One multiple-choice item in both forms."""
    prompt: str          # generative: options lettered, ends with "Answer:"
    context: str         # log-likelihood: what precedes the option text
    options: list[str]   # option texts
    answer: int          # index of the right option


@dataclass
class Translation:
    prompt: str
    reference: str


@dataclass
class HubSource:
    name: str
    config: str
    split: str


@dataclass
class Task:
    kind: str                                        # "translation" | "choice"
    hub: Callable[[str], HubSource]                  # language (FLORES code, "" if none) -> dataset
    item: Callable[[dict, str, str], object]         # (row, language FLORES code, direction) -> item
    needs_language: bool
    # hub data in one config per language (FLORES+): the runner pairs English and the language by id
    pairs_by_id: bool = False


def lettered(stem: str, options: list[str]) -> str:
    lines = [stem] + [f"{LETTERS[i]}. {option}" for i, option in enumerate(options)]
    return "\n".join(lines) + "\nAnswer:"


def other_sentence_column(row: dict, language: str) -> str:
    """sentence_<FLORES code>, or else the one sentence_* column that is not English (files a
    user or the controller wrote with another spelling of the code)."""
    if f"sentence_{language}" in row:
        return f"sentence_{language}"
    others = [k for k in row if k.startswith("sentence_") and k != "sentence_eng_Latn"]
    if len(others) != 1:
        raise KeyError(f"sentence_{language}")
    return others[0]


def _translation(row: dict, language: str, direction: str) -> Translation:
    eng, other = row["sentence_eng_Latn"], row[other_sentence_column(row, language)]
    source, target, name = (eng, other, english_name(language)) if direction == "eng-x" else (other, eng, "English")
    return Translation(f"Translate this sentence into {name}: {source} Translation:", target)


def _belebele(row: dict, language: str, direction: str) -> Choice:
    options = [row[f"mc_answer{i}"] for i in range(1, 5)]
    stem = f"{row['flores_passage']}\nQuestion: {row['question']}"
    return Choice(lettered(stem, options), f"{stem}\nAnswer:", options, int(row["correct_answer_num"]) - 1)


def _mmlu(row: dict, language: str, direction: str) -> Choice:
    stem = f"Question: {row['question']}"
    return Choice(lettered(stem, list(row["choices"])), f"{stem}\nAnswer:", list(row["choices"]), int(row["answer"]))


def _hellaswag(row: dict, language: str, direction: str) -> Choice:
    endings = list(row["endings"])
    return Choice(lettered(f"{row['ctx']}\nWhich ending is the most likely?", endings), row["ctx"], endings, int(row["label"]))


def _piqa(row: dict, language: str, direction: str) -> Choice:
    options = [row["sol1"], row["sol2"]]
    return Choice(lettered(f"Goal: {row['goal']}\nWhich solution is better?", options), f"Goal: {row['goal']}\nSolution:", options, int(row["label"]))


def _winogrande(row: dict, language: str, direction: str) -> Choice:
    options = [row["option1"], row["option2"]]
    before, after = row["sentence"].split("_", 1)
    stem = f"{row['sentence']}\nWhich option fills the blank (_)?"
    # log-likelihood: the shared prefix is the context; each option plus the rest of the sentence is scored
    return Choice(lettered(stem, options), before.rstrip(), [f"{o}{after}" for o in options], int(row["answer"]) - 1)


def _arc(row: dict, language: str, direction: str) -> Choice:
    texts, labels = list(row["choices"]["text"]), list(row["choices"]["label"])
    stem = f"Question: {row['question']}"
    return Choice(lettered(stem, texts), f"{stem}\nAnswer:", texts, labels.index(row["answerKey"]))


def _sib200(row: dict, language: str, direction: str) -> Choice:
    stem = f"Text: {row['text']}\nWhat is the topic of this text?"
    return Choice(lettered(stem, SIB_TOPICS), f"Text: {row['text']}\nTopic:", SIB_TOPICS, SIB_TOPICS.index(row["category"]))


def _flores_hub(language: str) -> HubSource:
    # FLORES+ keeps one config per language; the worker pairs eng_Latn and the language by id
    return HubSource("openlanguagedata/flores_plus", language, "devtest")


TASKS: dict[str, Task] = {
    "flores": Task("translation", _flores_hub, _translation, True, pairs_by_id=True),
    "belebele": Task("choice", lambda lang: HubSource("facebook/belebele", lang, "test"), _belebele, True),
    "mmlu": Task("choice", lambda lang: HubSource("cais/mmlu", "all", "validation"), _mmlu, False),
    "hellaswag": Task("choice", lambda lang: HubSource("Rowan/hellaswag", "", "validation"), _hellaswag, False),
    "piqa": Task("choice", lambda lang: HubSource("ybisk/piqa", "", "validation"), _piqa, False),
    "winogrande": Task("choice", lambda lang: HubSource("allenai/winogrande", "winogrande_xl", "validation"), _winogrande, False),
    "arc_easy": Task("choice", lambda lang: HubSource("allenai/ai2_arc", "ARC-Easy", "validation"), _arc, False),
    "arc_challenge": Task("choice", lambda lang: HubSource("allenai/ai2_arc", "ARC-Challenge", "validation"), _arc, False),
    "sib200": Task("choice", lambda lang: HubSource("Davlan/sib200", lang, "test"), _sib200, True),
}


def task(name: str, field_name: str = "task") -> Task:
    if name not in TASKS:
        raise invalid(field_name, f"unknown task '{name}': one of {sorted(TASKS)}")
    return TASKS[name]


def task_language(name: str, language: str, field_name: str) -> str:
    """The FLORES-style code a language-bound task needs ('' for English-only tasks)."""
    if not task(name).needs_language:
        return ""
    if not language:
        raise invalid(field_name, f"task '{name}' needs a language")
    return flores_code(language, field_name)
