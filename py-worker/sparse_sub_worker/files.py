"""Files in chunks with a checksum: how artifacts move between machines over the gRPC channel."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from .atomic import atomic_path
from .errors import invalid, precondition

CHUNK_BYTES = 1 << 20


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(CHUNK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def read_chunks(path: str | Path, chunk_bytes: int = CHUNK_BYTES) -> Iterator[tuple[int, bytes, str | None]]:
    """(offset, data, sha256 on the last chunk else None); an empty file is one empty chunk."""
    digest = hashlib.sha256()
    size = Path(path).stat().st_size
    offset = 0
    with open(path, "rb") as file:
        while True:
            data = file.read(chunk_bytes)
            digest.update(data)
            last = offset + len(data) >= size
            yield offset, data, digest.hexdigest() if last else None
            offset += len(data)
            if last:
                return


def write_chunks(path: str | Path, chunks: Iterable[tuple[int, bytes, str | None]], field_name: str = "path") -> tuple[int, str]:
    """Writes chunks in order; the file appears (atomically) only if the last chunk's SHA-256 is
    the content's. Returns (size, sha256)."""
    digest = hashlib.sha256()
    size = 0
    expected = None
    with atomic_path(path) as tmp, open(tmp, "wb") as out:
        for offset, data, checksum in chunks:
            if offset != size:
                raise invalid(f"{field_name}.offset", f"chunk at offset {offset}, expected {size}")
            out.write(data)
            digest.update(data)
            size += len(data)
            expected = checksum or expected
        out.flush()
        if expected is None:
            raise invalid("sha256", "the last chunk carries no checksum")
        if expected != digest.hexdigest():
            raise precondition("CHECKSUM_MISMATCH", f"{field_name}: {path}: received data has SHA-256 {digest.hexdigest()}, "
                               f"the sender's is {expected}; nothing written", field_name)
    return size, expected
