"""Runs one task on a loaded model: rows -> items -> the scoring engine -> metrics."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import invalid, not_found, precondition
from ..models.text_encoding import TextEncoder
from .definitions import Choice, HubSource, Translation, task, task_language
from .generation import generate
from .loglik import score_choices
from .metrics import choice_scores, loglik_predictions, read_letter, translation_scores, with_stderr

MODES = ("generative", "loglik")
DIRECTIONS = ("eng-x", "x-eng")
FORMATS = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}


@dataclass
class TaskSpec:
    name: str
    language: str = ""            # plan code, ISO 639-1/3 or FLORES-style
    direction: str = "eng-x"      # translation only
    mode: str = "generative"      # multiple choice: "generative" (letter) or "loglik"
    files: tuple[str, ...] = ()   # local rows in the task's schema; empty: the hub dataset
    hub_name: str = ""            # overrides of the default hub dataset
    hub_config: str = ""
    split: str = ""
    limit: int = 0                # first N items; 0 = all
    max_new_tokens: int = 0       # 0: 128 for translation, 16 for a letter
    field: str = "tasks[0]"       # for error messages
    label: str = ""               # its name in results; default the task name

    def __post_init__(self) -> None:
        task(self.name, f"{self.field}.name")
        if self.mode not in MODES:
            raise invalid(f"{self.field}.mode", f"must be one of {list(MODES)}, got '{self.mode}'")
        if self.direction not in DIRECTIONS:
            raise invalid(f"{self.field}.direction", f"must be one of {list(DIRECTIONS)}, got '{self.direction}'")
        for i, path in enumerate(self.files):
            if Path(path).suffix not in FORMATS:
                raise invalid(f"{self.field}.files[{i}]", f"{path}: use .jsonl, .json, .parquet or .csv")


# lm-eval's headline for log-likelihood multiple choice: length-normalized accuracy where its
# leaderboards report it (options of different lengths), plain accuracy elsewhere.
ACC_NORM_HEADLINE = {"hellaswag", "arc_easy", "arc_challenge", "piqa"}


@dataclass
class TaskOutcome:
    metrics: dict[str, float]     # each score with <name>_stderr beside it
    items: int
    seconds: float
    headline: str                 # the metric tables show for this task
    examples: list[dict] = field(default_factory=list)  # the first few prompts and answers, for reading


def _dataset_rows(spec: TaskSpec, source: HubSource) -> list[dict]:
    import datasets

    if spec.files:
        for i, path in enumerate(spec.files):
            if not Path(path).is_file():
                raise not_found(f"{spec.field}.files[{i}]", path, "task data file")
        kind = FORMATS[Path(spec.files[0]).suffix]
        return list(datasets.load_dataset(kind, data_files=list(spec.files), split="train"))
    try:
        return list(datasets.load_dataset(source.name, source.config or None, split=source.split))
    except Exception as error:  # noqa: BLE001 - hub errors come in many types
        raise precondition("TASK_DATA_UNAVAILABLE", f"{spec.field}: cannot load {source.name} ({source.config or 'default'}, "
                           f"{source.split}): {type(error).__name__}: {error}", spec.field) from None


def load_rows(spec: TaskSpec, language: str) -> list[dict]:
    definition = task(spec.name)
    source = definition.hub(language)
    source = HubSource(spec.hub_name or source.name, spec.hub_config or source.config, spec.split or source.split)
    if definition.pairs_by_id and not spec.files:
        # FLORES+: one config per language with a "text" column; pair English and the language by id
        english = {row["id"]: row["text"] for row in _dataset_rows(spec, HubSource(source.name, "eng_Latn", source.split))}
        rows = [{"id": row["id"], "sentence_eng_Latn": english[row["id"]], f"sentence_{language}": row["text"]}
                for row in _dataset_rows(spec, source) if row["id"] in english]
    else:
        rows = _dataset_rows(spec, source)
    return rows[: spec.limit] if spec.limit else rows


def run_task(model, encoder: TextEncoder, spec: TaskSpec, batch_size: int, on_progress: Callable[[int, int], None] = lambda done, total: None) -> TaskOutcome:
    language = task_language(spec.name, spec.language, f"{spec.field}.language")
    definition = task(spec.name)
    rows = load_rows(spec, language)
    if not rows:
        raise precondition("TASK_DATA_EMPTY", f"{spec.field}: no rows for task '{spec.name}'", spec.field)
    try:
        items = [definition.item(row, language, spec.direction) for row in rows]
    except (KeyError, ValueError) as error:
        raise precondition("TASK_DATA_SCHEMA", f"{spec.field}: a row of '{spec.name}' lacks or garbles field {error}", spec.field) from None
    start = time.perf_counter()
    progress = lambda done: on_progress(done, len(items))
    if definition.kind == "translation":
        translations: list[Translation] = items  # type: ignore[assignment]
        outputs = generate(model, encoder, [t.prompt for t in translations], batch_size, spec.max_new_tokens or 128, on_batch=progress)
        metrics = translation_scores(outputs, [t.reference for t in translations])
        headline = "chrf"
        examples = [{"prompt": t.prompt, "output": o, "reference": t.reference} for t, o in zip(translations[:3], outputs)]
    else:
        choices: list[Choice] = items  # type: ignore[assignment]
        answers = [c.answer for c in choices]
        if spec.mode == "generative":
            outputs = generate(model, encoder, [c.prompt for c in choices], batch_size, spec.max_new_tokens or 16, on_batch=progress)
            predictions = [read_letter(o, len(c.options)) for o, c in zip(outputs, choices)]
            metrics = {**choice_scores(predictions, answers), **with_stderr("unreadable", [float(p is None) for p in predictions])}
            headline = "accuracy"
        else:
            scores = score_choices(model, encoder, [c.context for c in choices], [[" " + o for o in c.options] for c in choices], batch_size, progress)
            predictions, normed = loglik_predictions(scores, [c.options for c in choices])
            outputs = [c.options[p] for c, p in zip(choices, predictions)]
            metrics = {**choice_scores(predictions, answers), **choice_scores(normed, answers, "acc_norm")}
            headline = "acc_norm" if spec.name in ACC_NORM_HEADLINE else "accuracy"
        examples = [{"prompt": c.prompt if spec.mode == "generative" else c.context, "output": o, "answer": c.options[c.answer]}
                    for c, o in zip(choices[:3], outputs)]
    return TaskOutcome(metrics, len(items), time.perf_counter() - start, headline, examples)
