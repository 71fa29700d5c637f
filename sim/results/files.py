"""Writing output files and folders so that a failure never leaves a partial one.

- A file (``write_atomic``, ``write_text``, ``write_json``) is written under a temporary name beside it
  (``.NAME.tmp``), flushed to disk and renamed over the old one: it is the old file or the new one.
- A folder (``replace_folder``) is built in a temporary folder beside it, its files flushed to disk, and
  swapped in with two renames; if anything fails the temporary folder is removed and the old folder, if
  there was one, is put back.

Only a folder that holds a marker file of this tool (``MANIFEST``, or e.g. ``fit.yaml``), or an empty or
absent one, is ever replaced (``check_output_dir``): anything else raises OutputError.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

MANIFEST = "manifest.json"  # every results and sweep folder holds one: what made it
TEMPORARY = ".{name}.tmp"  # a file being written; a folder's cleanup may remove '.*.tmp'


class OutputError(Exception):
    """The output cannot be written where asked; the message is one line for the user."""


def _sync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY if os.name == "posix" else os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; elsewhere the rename itself is all there is)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot sync a folder
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` to write the file under a temporary name beside ``path``, flush it to disk and
    rename it to ``path``: readers, and a crash, see the old file or the new one, never a part."""
    path = Path(path)
    tmp = path.with_name(TEMPORARY.format(name=path.name))
    try:
        write(tmp)
        _sync_file(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _sync_folder(path.parent)
    return path


def write_text(path: Path, text: str) -> Path:
    return write_atomic(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_json(path: Path, data: dict) -> Path:
    return write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def is_replaceable(out: Path, marker: str = MANIFEST) -> bool:
    """Absent, an empty folder, or a folder holding ``marker``."""
    out = Path(out)
    return not out.exists() or (out.is_dir() and (not any(out.iterdir()) or (out / marker).exists()))


def check_output_dir(out: Path, marker: str = MANIFEST) -> None:
    """Refuse to write over anything but an earlier output folder of the same kind (or an empty one)."""
    if not is_replaceable(out, marker):
        raise OutputError(f"{out}: exists and is not a results folder of this tool; choose another --out")


@contextmanager
def replace_folder(out: Path, marker: str = MANIFEST) -> Iterator[Path]:
    """Yield a temporary folder beside ``out`` to write into, then swap it in with renames, so a failure
    at any point leaves either the old folder or the new one, never a partial one."""
    out = Path(out)
    check_output_dir(out, marker)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    try:
        yield tmp
        for f in tmp.rglob("*"):
            if f.is_file():
                _sync_file(f)
        if out.exists():
            out.rename(old)
        tmp.rename(out)
        _sync_folder(out.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not out.exists():
            old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)
