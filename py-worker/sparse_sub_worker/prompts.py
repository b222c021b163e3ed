"""Prompts for steering drawn from a language's own text: the opening words of its sentences, so
the unchanged model is asked to go on in that language and a steered one may switch."""

from __future__ import annotations

import re

from .errors import precondition

# A sentence ends at a line break or at . ! ? (and the Devanagari, Arabic, CJK and Ethiopic full
# stops) followed by white space; good enough to cut openings, not a sentence segmenter.
_SENTENCE_END = re.compile(r"\n+|(?<=[.!?\u0964\u06d4\u3002\u1362])\s+")


def draw_prompts(documents: list[str], count: int, words: int, field_name: str) -> list[str]:
    """The first `words` words of each of the first `count` sentences that have more words than
    that (in document order), joined by single spaces."""
    prompts: list[str] = []
    for document in documents:
        for sentence in _SENTENCE_END.split(document):
            tokens = sentence.split()
            if len(tokens) > words:
                prompts.append(" ".join(tokens[:words]))
                if len(prompts) == count:
                    return prompts
    if not prompts:
        raise precondition("NO_PROMPTS", f"{field_name}: no sentence has more than {words} words to open a prompt with", field_name)
    return prompts
