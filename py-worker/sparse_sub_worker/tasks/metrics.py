"""Scores with sacrebleu (translation) and letter reading (multiple choice)."""

from __future__ import annotations

import re

from sacrebleu.metrics import BLEU, CHRF

LETTERS = "ABCDEFGHIJ"


def translation_scores(hypotheses: list[str], references: list[str]) -> dict[str, float]:
    """bleu / chrf: sentence-level, averaged over sentences (the reference's numbers);
    chrf_pp: corpus-level chrF++ (what the field reports for FLORES)."""
    sentence_bleu = BLEU(effective_order=True)
    sentence_chrf = CHRF()
    n = max(len(hypotheses), 1)
    return {
        "bleu": sum(sentence_bleu.sentence_score(h, [r]).score for h, r in zip(hypotheses, references)) / n,
        "chrf": sum(sentence_chrf.sentence_score(h, [r]).score for h, r in zip(hypotheses, references)) / n,
        "chrf_pp": CHRF(word_order=2).corpus_score(hypotheses, [references]).score,
    }


def read_letter(answer: str, choices: int) -> int | None:
    """The chosen option from a generated answer ("B", "(b)", "B. Paris"), or None when no
    valid letter stands alone at its start: the reference counts that as wrong."""
    valid = LETTERS[:choices]
    match = re.match(rf"\s*\(?([{valid}{valid.lower()}])(?:[\s).:,]|$)", answer)
    return valid.index(match.group(1).upper()) if match else None


def accuracy(predictions: list[int | None], answers: list[int]) -> float:
    return sum(p == a for p, a in zip(predictions, answers)) / max(len(answers), 1)
