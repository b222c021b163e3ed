"""Atomic file output: readers see either the old file or the complete new one, never half."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import precondition


# Marks sparse-sub's own temporary files, so that a sweep removes nothing else.
PARTIAL_MARK = ".sparse-sub-partial."
STALE_SECONDS = 3600  # a temporary file untouched this long belongs to a process that died


def sweep_partials(root: str | Path) -> int:
    """Removes sparse-sub temporary files and folders under root left by a killed process
    (untouched for STALE_SECONDS); returns how many."""
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


def remove_partials_of(path: str | Path) -> None:
    """Removes temporary files an interrupted write of `path` left beside it (a worker killed
    while saving). Only for a target one job owns, such as its training checkpoint."""
    target = Path(path)
    for entry in target.parent.glob(f".{target.name}{PARTIAL_MARK}*.tmp"):
        try:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        except OSError:
            continue


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Outputs get the modes any tool gives under the user's umask (mkstemp/mkdtemp would leave 0600/0700).
UMASK = _umask()
FILE_MODE = 0o666 & ~UMASK
DIR_MODE = 0o777 & ~UMASK
# A directory output holds this file: sparse-sub wrote it, and may replace it with the same kind.
OUTPUT_MARKER = ".sparse-sub-output.json"


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yields a temporary path beside `path`; renames it over `path` only if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}{PARTIAL_MARK}", suffix=".tmp", dir=target.parent)
    os.close(fd)
    os.chmod(tmp, FILE_MODE)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _written_by_us(target: Path, kind: str) -> bool:
    try:
        return json.loads((target / OUTPUT_MARKER).read_text(encoding="utf-8")).get("kind") == kind
    except (OSError, ValueError, AttributeError):
        return False


def check_output_dir(path: str | Path, kind: str, field_name: str, force: bool = False) -> None:
    """Refuses, before any work, an output directory that holds files sparse-sub did not write
    there as this kind of output (a file, or a folder of the user's): they are never removed."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise precondition("OUTPUT_NOT_A_DIRECTORY", f"{field_name}: {path} is a file, not a folder", field_name)
    if target.is_dir() and any(target.iterdir()) and not _written_by_us(target, kind) and not force:
        raise precondition("OUTPUT_NOT_EMPTY", f"{field_name}: {path} already holds files that are not an earlier sparse-sub "
                           f"{kind}; choose a new or empty folder, or force it (its other files are kept)", field_name)


@contextmanager
def atomic_dir(path: str | Path, kind: str = "model directory", field_name: str = "output_dir", force: bool = False) -> Iterator[Path]:
    """Like atomic_path for a directory: built in a sibling temporary dir, then swapped in. An
    existing target is replaced only when empty or an earlier output of the same kind; with
    force, the new files are moved into it and the user's other files stay."""
    target = Path(path)
    check_output_dir(target, kind, field_name, force)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}{PARTIAL_MARK}", suffix=".tmp", dir=target.parent))
    os.chmod(tmp, DIR_MODE)
    try:
        yield tmp
        (tmp / OUTPUT_MARKER).write_text(json.dumps({"kind": kind, "written_by": "sparse-sub"}) + "\n", encoding="utf-8")
        if target.is_dir() and any(target.iterdir()) and not _written_by_us(target, kind):  # forced
            clashes = [entry.name for entry in tmp.iterdir() if (target / entry.name).is_dir()]
            if clashes:  # a folder of the user's where a file goes: never removed
                raise precondition("OUTPUT_NOT_EMPTY", f"{field_name}: {path} holds folders named {', '.join(clashes)}, "
                                   "where files of the output go; nothing was written", field_name)
            for entry in tmp.iterdir():
                os.replace(entry, target / entry.name)
        else:
            if target.is_dir():
                shutil.rmtree(target)  # empty, or our own earlier output of this kind
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
