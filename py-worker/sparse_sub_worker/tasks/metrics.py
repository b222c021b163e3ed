"""Scores with sacrebleu (translation) and letter reading (multiple choice), each with its
standard error the way lm-evaluation-harness reports `stderr`: the sample standard deviation
over items / sqrt(n) for a mean of per-item scores (accuracy, sentence-level BLEU and chrF), a
bootstrap over sentences for a corpus-level score (chrF++)."""

from __future__ import annotations

import math
import random
import re
import statistics

import numpy as np
from sacrebleu.metrics import BLEU, CHRF

LETTERS = "ABCDEFGHIJ"
BOOTSTRAP_ITERATIONS = 1000  # resamples for a corpus-level score's standard error
BOOTSTRAP_SEED = 1234        # fixed: the same outputs always give the same error bar


def mean_stderr(values: list[float]) -> float:
    """lm-eval's mean_stderr: sample standard deviation (n - 1) / sqrt(n); 0 for n < 2."""
    if len(values) < 2:
        return 0.0
    return statistics.stdev(values) / math.sqrt(len(values))


def with_stderr(name: str, values: list[float], scale: float = 1.0) -> dict[str, float]:
    """{name: mean, name_stderr: its standard error}, both times scale."""
    mean = sum(values) / max(len(values), 1)
    return {name: mean * scale, f"{name}_stderr": mean_stderr(values) * scale}


def corpus_chrf_pp(hypotheses: list[str], references: list[str]) -> tuple[float, float]:
    """(corpus chrF++, bootstrap standard error). Per-sentence statistics are extracted once and
    resampled, which gives exactly the score sacrebleu computes on the resampled corpus."""
    metric = CHRF(word_order=2)
    stats = np.array(metric._extract_corpus_statistics(hypotheses, [references]), dtype=np.float64)  # [n, S]
    score = metric._compute_score_from_stats(stats.sum(0).tolist()).score
    if len(hypotheses) < 2:
        return score, 0.0
    rng = random.Random(BOOTSTRAP_SEED)
    n = len(hypotheses)
    resampled = [metric._compute_score_from_stats(stats[[rng.randrange(n) for _ in range(n)]].sum(0).tolist()).score
                 for _ in range(BOOTSTRAP_ITERATIONS)]
    return score, statistics.stdev(resampled)


def translation_scores(hypotheses: list[str], references: list[str]) -> dict[str, float]:
    """bleu / chrf: sentence-level, averaged over sentences (the reference's numbers);
    chrf_pp: corpus-level chrF++ (what the field reports for FLORES). Each with _stderr."""
    sentence_bleu = BLEU(effective_order=True)
    sentence_chrf = CHRF()
    bleu = [sentence_bleu.sentence_score(h, [r]).score for h, r in zip(hypotheses, references)]
    chrf = [sentence_chrf.sentence_score(h, [r]).score for h, r in zip(hypotheses, references)]
    chrf_pp, chrf_pp_stderr = corpus_chrf_pp(hypotheses, references)
    return {**with_stderr("bleu", bleu), **with_stderr("chrf", chrf), "chrf_pp": chrf_pp, "chrf_pp_stderr": chrf_pp_stderr}


def read_letter(answer: str, choices: int) -> int | None:
    """The chosen option from a generated answer ("B", "(b)", "B. Paris"), or None when no
    valid letter stands alone at its start: the reference counts that as wrong."""
    valid = LETTERS[:choices]
    match = re.match(rf"\s*\(?([{valid}{valid.lower()}])(?:[\s).:,]|$)", answer)
    return valid.index(match.group(1).upper()) if match else None


def accuracy(predictions: list[int | None], answers: list[int]) -> float:
    return sum(p == a for p, a in zip(predictions, answers)) / max(len(answers), 1)


def choice_scores(predictions: list[int | None], answers: list[int], name: str = "accuracy") -> dict[str, float]:
    """{name, name_stderr} for predictions against answers (None = unreadable = wrong)."""
    return with_stderr(name, [float(p == a) for p, a in zip(predictions, answers)])


def loglik_predictions(scores: list[list[float]], options: list[list[str]]) -> tuple[list[int], list[int]]:
    """(acc predictions, acc_norm predictions) exactly as lm-eval defines them: the option of
    highest log-likelihood, and of highest log-likelihood per character of the option's text
    (without the space that joins it to the context)."""
    argmax = lambda xs: max(range(len(xs)), key=xs.__getitem__)
    plain = [argmax(s) for s in scores]
    normed = [argmax([ll / max(len(o), 1) for ll, o in zip(s, opts)]) for s, opts in zip(scores, options)]
    return plain, normed
