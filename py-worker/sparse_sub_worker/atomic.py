"""Atomic file output: readers see either the old file or the complete new one, never half."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


# Marks sparse-sub's own temporary files, so that a sweep removes nothing else.
PARTIAL_MARK = ".sparse-sub-partial."
STALE_SECONDS = 3600  # a temporary file untouched this long belongs to a process that died


def sweep_partials(root: str | Path) -> int:
    """Removes sparse-sub temporary files and folders under root left by a killed process
    (untouched for STALE_SECONDS); returns how many."""
    import time

    removed = 0
    cutoff = time.time() - STALE_SECONDS
    for entry in sorted(Path(root).rglob(f"*{PARTIAL_MARK}*"), key=lambda p: -len(p.parts)):
        try:
            if entry.is_symlink() or entry.stat().st_mtime > cutoff:
                continue
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            removed += 1
        except OSError:
            continue  # removed meanwhile, or not ours to remove
    return removed


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yields a temporary path beside `path`; renames it over `path` only if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}{PARTIAL_MARK}", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Like atomic_path for a directory: built in a sibling temporary dir, then swapped in."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}{PARTIAL_MARK}", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
