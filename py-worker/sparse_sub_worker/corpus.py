"""Corpus reading and packing into fixed-length token sequences (pretraining-style)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from .errors import WorkerError, invalid, not_found, precondition
from .models.text_encoding import TextEncoder


@dataclass(frozen=True)
class TextFilesCorpus:
    paths: tuple[str, ...]


@dataclass(frozen=True)
class HubDatasetCorpus:
    name: str
    config: str = ""
    split: str = "train"
    text_field: str = "text"


Corpus = TextFilesCorpus | HubDatasetCorpus


@dataclass
class PackedSequences:
    input_ids: torch.Tensor       # [N, S] int64
    attention_mask: torch.Tensor  # [N, S] int64; 0 only in the padded tail of the last sequence
    token_count: int              # real (unpadded) text tokens, BOS not counted
    bos_first: bool = False       # column 0 holds BOS in every row (not text: never counted)

    def __len__(self) -> int:
        return self.input_ids.shape[0]


# Upper bound on characters per token, to stop streaming a hub corpus once a token budget is
# surely covered (typical tokenizers average 3-5 characters per token).
CHARS_PER_TOKEN_BOUND = 16


def read_documents(corpus: Corpus, field_name: str, char_budget: int = 0) -> list[str]:
    """The corpus as a list of documents; an empty corpus is an error naming the field.
    char_budget > 0 stops reading a hub dataset once that many characters were read."""
    if isinstance(corpus, TextFilesCorpus):
        documents = [doc for path in corpus.paths for doc in _read_file(path, field_name)]
    elif isinstance(corpus, HubDatasetCorpus):
        documents = _read_hub_dataset(corpus, field_name, char_budget)
    else:
        raise invalid(field_name, "no corpus given")
    documents = [doc for doc in documents if doc.strip()]
    if not documents:
        raise precondition("EMPTY_CORPUS", f"{field_name}: the corpus has no text", field_name)
    return documents


def read_utf8(file: Path, field_name: str) -> str:
    """The file's text; a file that is not UTF-8 is the user's mistake, named with its line."""
    data = file.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise precondition(
            "CORPUS_NOT_UTF8", f"{file}:{line}: not UTF-8 text (byte {error.start}: {data[error.start:error.start + 1]!r}); re-encode it as UTF-8", field_name
        ) from None


def _read_file(path: str, field_name: str) -> list[str]:
    file = Path(path)
    if not file.is_file():
        raise not_found(f"{field_name}.text_files.paths", path)
    if file.suffix == ".jsonl":
        documents = []
        for number, line in enumerate(read_utf8(file, field_name).splitlines(), start=1):
            if not line.strip():
                continue
            try:
                documents.append(json.loads(line)["text"])
            except (json.JSONDecodeError, KeyError, TypeError):
                raise precondition(
                    "BAD_CORPUS_FILE", f"{path}:{number}: expected a JSON object with a \"text\" string", field_name
                ) from None
        return documents
    return [read_utf8(file, field_name)]


def _read_hub_dataset(corpus: HubDatasetCorpus, field_name: str, char_budget: int) -> list[str]:
    """Streams rows (a GlotCC language is far larger than a 13M-token budget needs)."""
    import datasets

    try:
        rows = iter(datasets.load_dataset(corpus.name, corpus.config or None, split=corpus.split, streaming=True))
        documents: list[str] = []
        characters = 0
        for row in rows:
            if corpus.text_field not in row:
                raise invalid(f"{field_name}.hub_dataset.text_field", f"'{corpus.text_field}' is not a column of {corpus.name} ({', '.join(row)})")
            documents.append(row[corpus.text_field])
            characters += len(documents[-1])
            if char_budget and characters >= char_budget:
                break
        return documents
    except WorkerError:
        raise
    except Exception as error:  # datasets raises many types for unreachable or unknown sets
        raise precondition("DATASET_LOAD_FAILED", f"{field_name}: cannot load dataset '{corpus.name}': {error}", field_name) from None


def token_stream(encoder: TextEncoder, documents: list[str], separator_token_id: int | None, max_tokens: int = 0) -> list[int]:
    """Documents tokenized without special tokens and concatenated (docs/method.md §1); an optional
    separator (EOS) between documents marks boundaries for training. Stops tokenizing once
    max_tokens (> 0) are reached. BOS, when the model wants it, is added per row by pack()."""
    stream: list[int] = []
    for document in documents:
        if max_tokens and len(stream) >= max_tokens:
            break
        ids = encoder.encode(document, bos=False)
        if stream and separator_token_id is not None:
            stream.append(separator_token_id)
        stream.extend(ids)
    return stream


def pack(stream: list[int], sequence_length: int, max_tokens: int, keep_tail: bool, pad_token_id: int, field_name: str,
         bos_token_id: int | None = None) -> PackedSequences:
    """[-1, sequence_length] chunks of the stream, cut at max_tokens (0 = all).

    bos_token_id: every row starts with it and carries sequence_length - 1 text tokens (the
    model sees BOS first, as in its pretraining; docs/method.md). keep_tail=False drops the
    remainder like the reference; keep_tail=True pads it and masks the padding (evaluation
    must not silently drop held-out text)."""
    if sequence_length <= 1 or (bos_token_id is not None and sequence_length <= 2):
        raise invalid("sequence_length", f"must be > {1 if bos_token_id is None else 2}, got {sequence_length}")
    if max_tokens > 0:
        stream = stream[:max_tokens]
    width = sequence_length - (bos_token_id is not None)  # text tokens per row
    full = len(stream) // width
    tail = len(stream) - full * width
    if full == 0 and not (keep_tail and tail > 1):
        raise precondition(
            "CORPUS_TOO_SHORT",
            f"{field_name}: {len(stream)} tokens is fewer than one sequence of {sequence_length}",
            field_name,
        )
    ids = torch.tensor(stream[: full * width], dtype=torch.long).view(full, width)
    mask = torch.ones_like(ids)
    real = full * width
    if keep_tail and tail > 1:
        last = torch.full((1, width), pad_token_id, dtype=torch.long)
        last[0, :tail] = torch.tensor(stream[real:], dtype=torch.long)
        last_mask = torch.zeros_like(last)
        last_mask[0, :tail] = 1
        ids, mask, real = torch.cat([ids, last]), torch.cat([mask, last_mask]), real + tail
    if bos_token_id is not None:
        ids = torch.cat([torch.full((len(ids), 1), bos_token_id, dtype=torch.long), ids], dim=1)
        mask = torch.cat([torch.ones((len(mask), 1), dtype=torch.long), mask], dim=1)
    return PackedSequences(ids, mask, real, bos_token_id is not None)


def load_sequences(corpus: Corpus, encoder: TextEncoder, field_name: str, sequence_length: int, max_tokens: int = 0, *,
                   separate_documents: bool, keep_tail: bool) -> PackedSequences:
    """read_documents -> token_stream -> pack, with the model's BOS rule and EOS/padding ids.
    Activation counting uses the reference's plain concatenation (no separator, tail dropped);
    training and evaluation separate documents with EOS and keep the masked tail."""
    documents = read_documents(corpus, field_name, max_tokens * CHARS_PER_TOKEN_BOUND)
    stream = token_stream(encoder, documents, encoder.eos_id if separate_documents else None, max_tokens)
    return pack(stream, sequence_length, max_tokens, keep_tail, encoder.pad_id, field_name, encoder.bos_id if encoder.add_bos else None)
