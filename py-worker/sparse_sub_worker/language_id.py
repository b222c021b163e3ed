"""Which language a generated text is in: Lingua (lingua-language-detector, its models ship
inside the wheel, so it works with no network), 75 languages, the most accurate offline
identifier on short text and the one that tells Afrikaans from Dutch (langid.py calls Afrikaans
Dutch). It does not know Maltese, among others: a text in a language it lacks gets its nearest
known language, so shares are only meaningful for languages it knows (KNOWN)."""

from __future__ import annotations

import functools

from lingua import Language, LanguageDetectorBuilder

KNOWN = frozenset(language.iso_code_639_1.name.lower() for language in Language.all())


@functools.cache
def _detector():
    return LanguageDetectorBuilder.from_all_languages().build()  # models load lazily, per language seen


def identify(texts: list[str]) -> list[str]:
    """ISO 639-1 code of each text's language; "" when there is no text to judge."""
    found = _detector().detect_languages_in_parallel_of(texts)
    return [language.iso_code_639_1.name.lower() if language is not None and text.strip() else "" for text, language in zip(texts, found)]
