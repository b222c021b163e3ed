"""How a model's text becomes token ids, the same way in every stage (docs/method.md,
"Tokenization and BOS").

Every stage (activation counting, training, perplexity, tasks, alignment) encodes text through
one TextEncoder, so a model that needs a BOS token gets it everywhere or nowhere. Text is
always tokenized without the tokenizer's own special tokens and the BOS is added here: that
way a tokenizer that adds it itself and one that does not (a GGUF-converted Gemma tokenizer)
give the same ids."""

from __future__ import annotations

import functools

from dataclasses import dataclass
from pathlib import Path

from ..errors import invalid

ADD_BOS_SETTINGS = ("auto", "true", "false")


@dataclass(frozen=True)
class TextEncoder:
    tokenizer: object
    add_bos: bool   # prefix each sequence, context and prompt with BOS
    reason: str     # why add_bos has its value, for logs and results

    def encode(self, text: str, *, bos: bool = True) -> list[int]:
        """Token ids of text; bos=False for a continuation of earlier text."""
        ids = list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        return [self.bos_id, *ids] if bos and self.add_bos else ids

    @property
    def bos_id(self) -> int | None:
        return self.tokenizer.bos_token_id

    @property
    def eos_id(self) -> int | None:
        return self.tokenizer.eos_token_id

    @property
    def pad_id(self) -> int:
        """Padding id: the tokenizer's pad token, else EOS (always masked, never scored)."""
        tokenizer = self.tokenizer
        if tokenizer.pad_token_id is not None:
            return tokenizer.pad_token_id
        return tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0

    def decode(self, ids) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    @functools.cached_property
    def newline_ids(self) -> list[int]:
        """Every token whose text contains a newline (decoded one by one, once per model)."""
        return [i for i in range(len(self.tokenizer)) if "\n" in self.tokenizer.decode([i])]


def gguf_add_bos(gguf_path: str | Path | None) -> bool | None:
    """The GGUF file's own `tokenizer.ggml.add_bos_token` flag, or None when absent.
    transformers' GGUF tokenizer conversion drops this flag (a Gemma-3 GGUF tokenizer then
    adds no BOS although the model needs it), so it is read from the file here."""
    if not gguf_path:
        return None
    from gguf import GGUFReader

    field = GGUFReader(str(gguf_path)).fields.get("tokenizer.ggml.add_bos_token")
    if field is None or not field.data:
        return None
    return bool(field.parts[field.data[0]][0])


def _tokenizer_adds_bos(tokenizer) -> bool:
    """What `tokenizer(text)` does on its own (lm-eval's HF backend follows the same rule)."""
    bos = tokenizer.bos_token_id
    if bos is None:
        return False
    ids = tokenizer("a")["input_ids"]
    return len(ids) > 0 and ids[0] == bos


def resolve_add_bos(setting: str, tokenizer, model_type: str, gguf_path: str | Path | None = None) -> tuple[bool, str]:
    """(add_bos, reason). "auto" follows the model's own convention, in this order: the GGUF
    file's flag; the Gemma family (trained with <bos> first; lm-eval forces it too); what the
    tokenizer does by itself."""
    setting = setting or "auto"
    if setting not in ADD_BOS_SETTINGS:
        raise invalid("model.add_bos", f"'{setting}' is not one of {', '.join(ADD_BOS_SETTINGS)}")
    if setting == "true":
        if tokenizer.bos_token_id is None:
            raise invalid("model.add_bos", "is true but the tokenizer has no BOS token")
        return True, "model.add_bos is true"
    if setting == "false":
        return False, "model.add_bos is false"
    if tokenizer.bos_token_id is None:
        return False, "the tokenizer has no BOS token"
    from_gguf = gguf_add_bos(gguf_path)
    if from_gguf is not None:
        return from_gguf, f"the GGUF file sets tokenizer.ggml.add_bos_token = {str(from_gguf).lower()}"
    if model_type.startswith("gemma"):
        return True, f"{model_type} models expect <bos> first"
    if _tokenizer_adds_bos(tokenizer):
        return True, "the tokenizer adds BOS by itself"
    return False, "the tokenizer adds no BOS by itself"
