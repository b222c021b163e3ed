"""Language codes: plan codes may be ISO 639-1 ("af"), ISO 639-3 ("afr") or FLORES-style
("afr_Latn"); FLORES, Belebele and SIB-200 name configs "<ISO 639-3>_<ISO 15924 script>".
Mapped with langcodes (CLDR data: the likely script of a language), not a hand list."""

from __future__ import annotations

import langcodes

from ..errors import invalid


def _parse(code: str, field_name: str) -> langcodes.Language:
    try:
        return langcodes.Language.get(code.replace("_", "-"))
    except (ValueError, LookupError):
        raise invalid(field_name, f"'{code}' is not a language code (ISO 639-1, ISO 639-3 or FLORES-style like afr_Latn)") from None


def flores_code(code: str, field_name: str = "language") -> str:
    """'af' / 'afr' / 'afr_Latn' -> 'afr_Latn'."""
    language = _parse(code, field_name)
    script = language.script or language.maximize().script
    if not script:
        raise invalid(field_name, f"cannot tell the script of '{code}': give a FLORES-style code such as afr_Latn")
    return f"{language.to_alpha3()}_{script}"


def english_name(code: str, field_name: str = "language") -> str:
    """'af' -> 'Afrikaans' (the name the translation prompt uses)."""
    language = _parse(code, field_name)
    return langcodes.Language.get(language.language).display_name("en")
