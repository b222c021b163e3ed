"""Files in chunks with a checksum: how artifacts move between machines over the gRPC channel."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from .atomic import atomic_path
from .errors import invalid, precondition

CHUNK_BYTES = 1 << 20


# A controller asks for the checksum of the same (possibly multi-GB) model files before every
# job: remember it while the file's size and modification time stay the same.
_checksums: dict[str, tuple[int, int, str]] = {}
_checksums_lock = threading.Lock()


def sha256_of(path: str | Path) -> str:
    stat = os.stat(path)
    key = os.path.realpath(path)
    with _checksums_lock:
        cached = _checksums.get(key)
    if cached and cached[:2] == (stat.st_size, stat.st_mtime_ns):
        return cached[2]
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(CHUNK_BYTES), b""):
            digest.update(block)
    with _checksums_lock:
        _checksums[key] = (stat.st_size, stat.st_mtime_ns, digest.hexdigest())
    return digest.hexdigest()


def list_files(directory: str | Path) -> list[tuple[str, int]]:
    """(relative "/"-separated path, size) of every regular file under `directory` (a link to a
    file counts, as in a Hugging Face cache snapshot; linked folders are not entered), sorted."""
    root = Path(directory)
    found = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [d for d in subfolders if not os.path.islink(os.path.join(folder, d))]
        for name in names:
            path = Path(folder, name)
            if path.is_file():
                found.append((path.relative_to(root).as_posix(), path.stat().st_size))
    return sorted(found)


def staging_dir(data_root: Path | None) -> Path:
    """Where a controller without a shared filesystem keeps its copies on this worker."""
    if data_root is not None:
        return data_root / "staging"
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache, "sparse-sub", "staging")


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
