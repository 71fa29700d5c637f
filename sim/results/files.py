"""Writing output files and folders so that a failure never leaves a partial one.

- A file (``write_atomic``, ``write_text``, ``write_json``) is written under a temporary name beside it
  (``.NAME.tmp``), flushed to disk and renamed over the old one: it is the old file or the new one.
- A folder (``replace_folder``) is built in a temporary folder beside it (``.NAME.PID.*.tmp``), its files
  flushed to disk, and swapped in with two renames (the old one to ``.NAME.old-PID`` first); if anything
  fails the temporary folder is removed and the old folder, if there was one, is put back. What a killed
  process left (its temporary folder; the old folder between the two renames) is cleaned up, or put back,
  on the next write to the same place, once that process is gone. Folders are created with the user's
  umask, like files.

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
    """Refuse, before any work, to write over anything but an earlier output folder of the same kind (or
    an empty one), or where the folder cannot be created or written."""
    out = Path(out)
    check_writable(out)
    if not is_replaceable(out, marker):
        raise OutputError(f"{cut_path(out)}: exists and is not a results folder of this tool; {ANOTHER}")


def check_output_file(path: Path, overwrite: bool = True) -> None:
    """Refuse, before any work, a file that cannot be written there: a folder or a device in its place, an
    existing file when ``overwrite`` is false, or a place that cannot be created or written."""
    path = Path(path)
    check_writable(path)
    if path.exists() or path.is_symlink():
        if not path.is_file():
            raise OutputError(f"{cut_path(path)}: exists and is not a regular file; {ANOTHER}")
        if not overwrite:
            raise OutputError(f"{cut_path(path)}: exists; {ANOTHER} (nothing written)")


def cut_path(path: Path) -> str:
    from sim.common.errors import cut

    return cut(str(path))


def check_writable(path: Path) -> None:
    """OutputError (one line) unless ``path`` can be created as a file or folder: every name short enough, no
    file in the way of a folder on the path, and the nearest existing folder writable (tried, not guessed:
    permissions alone do not tell for the root user or for special file systems such as /proc)."""
    path = Path(path)
    for part in path.parts:
        if len(os.fsencode(part)) > NAME_MAX:
            raise OutputError(f"{cut_path(path)}: a name on this path is longer than {NAME_MAX} bytes; {ANOTHER}")
    parent = path.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    refused = f"{cut_path(path)}: cannot be written ({cut_path(parent)} is not a writable folder); {ANOTHER}"
    if not parent.is_dir():
        raise OutputError(refused)
    try:
        fd, probe = tempfile.mkstemp(prefix=".sim-write-check.", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError:
        raise OutputError(refused) from None


NAME_MAX = 255  # bytes in one file or folder name (Linux, macOS and Windows file systems)
ANOTHER = "choose another --out"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def recover(out: Path) -> None:
    """Undo what a killed writer of ``out`` left beside it: put back the previous folder it had moved aside
    (when ``out`` is missing), and remove its temporary folders. A live writer's are left alone."""
    out = Path(out)
    if not out.parent.is_dir():
        return
    for debris in sorted(out.parent.glob(f".{out.name}.*")):
        tail = debris.name[len(out.name) + 2 :]
        pid_text = tail.removeprefix("old-") if tail.startswith("old-") else tail.split(".", 1)[0]
        if not pid_text.isdigit() or _alive(int(pid_text)) or not debris.is_dir():
            continue
        if tail.startswith("old-") and not out.exists():
            debris.rename(out)
        elif tail.startswith("old-") or debris.name.endswith(".tmp"):
            shutil.rmtree(debris, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def replace_folder(out: Path, marker: str = MANIFEST) -> Iterator[Path]:
    """Yield a temporary folder beside ``out`` to write into, then swap it in with renames, so a failure
    at any point leaves either the old folder or the new one, never a partial one."""
    out = Path(out)
    check_output_dir(out, marker)
    out.parent.mkdir(parents=True, exist_ok=True)
    recover(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}.", suffix=".tmp", dir=out.parent))
    tmp.chmod(0o777 & ~_umask())  # mkdtemp makes it private; results are shared like any folder
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
