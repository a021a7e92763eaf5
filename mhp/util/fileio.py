"""Atomic file writing: a reader never sees a half-written file, and a failed write leaves the old one."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from mhp.errors import DiskFullError, MhpError

DISK_FULL = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file size limit exceeded",
}


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is fsynced and renamed over ``path``.

    On any exception the temporary file is removed and ``path`` is untouched; running out of space (while
    writing, at the fsync or at the rename) raises :class:`DiskFullError` naming ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        if exc.errno in DISK_FULL:
            raise disk_full_error(path, exc) from None
        raise
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600; the result gets a normal file's mode
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError as exc:
        if exc.errno in DISK_FULL:
            raise disk_full_error(path, exc) from None
        raise
    finally:
        tmp.unlink(missing_ok=True)


def disk_full_cause(exc: BaseException) -> OSError | None:
    """The out-of-space OSError behind ``exc`` (itself, or the one a :class:`DiskFullError` wraps), else None."""
    if isinstance(exc, DiskFullError):
        return exc.error
    return exc if isinstance(exc, OSError) and exc.errno in DISK_FULL else None


def disk_full_error(path: Path, exc: OSError) -> DiskFullError:
    """The one-line error for a write to ``path`` that ran out of space: what happened, the fix, what is left."""
    left = f"the previous {path.name} is intact" if path.exists() else f"no {path.name} was written"
    limit = "raise the limit (ulimit -f), " if exc.errno == errno.EFBIG else ""
    return DiskFullError(
        f"{DISK_FULL[exc.errno]} writing {path}; {limit}free space or choose another output folder ({left})", exc
    )


def remove_stale_temps(folder: Path, names: Iterable[str]) -> list[Path]:
    """Delete the temporary files that :func:`atomic_path` left beside ``names`` in a process killed mid-write.

    Only for folders that one process writes at a time (a training run, a locked export folder).
    """
    stale = [tmp for name in names for tmp in Path(folder).glob(f".{glob.escape(name)}.*.tmp") if tmp.is_file()]
    for tmp in stale:
        tmp.unlink(missing_ok=True)
    return stale


def replace_path(source: Path, target: Path) -> None:
    """Move ``source`` over ``target`` on the same filesystem: a file atomically; a folder (``.mlpackage``) is
    swapped in, the old one moved aside first (a kill between the two renames leaves no ``target``)."""
    if not source.is_dir():
        os.replace(source, target)
        _fsync_dir(target.parent)
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    try:
        if target.exists():
            target.rename(aside / target.name)
        source.rename(target)
        _fsync_dir(target.parent)
    finally:
        shutil.rmtree(aside, ignore_errors=True)


def acquire_lock(path: Path, busy: str) -> IO[str]:
    """Open and exclusively lock ``path`` (created if needed) without waiting; ``busy`` is the error when another
    process holds it. Closing the returned file, or the process ending however it ends, releases the lock."""
    lock = open(path, "a")  # noqa: SIM115 - the caller holds it open for as long as it owns the folder
    try:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise MhpError(busy) from None
    return lock


def writable_folder(path: str | Path, flag: str = "--out") -> Path:
    """``path`` created if needed and proven writable (a temporary file made and removed), before any work."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise MhpError(f"cannot write to {flag} {path} ({exc.strerror}); choose a writable folder") from None
    return path


def writable_file(path: str | Path, flag: str) -> Path:
    """``path``'s folder proven writable (see :func:`writable_folder`), so a result is not lost after the work."""
    path = Path(path)
    if path.is_dir():
        raise MhpError(f"{flag} {path} is a folder; give a file name")
    writable_folder(path.parent, flag)
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through :func:`atomic_path`; returns ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def write_json(path: str | Path, content: Any, *, indent: int | None = 1) -> Path:
    """Write ``content`` as JSON (``indent`` spaces a level; None: one line) through :func:`atomic_path`."""
    return write_text_atomic(path, json.dumps(content, indent=indent) + "\n")


def path_size(path: Path) -> int:
    """Bytes of a file, or of every file under a folder (a CoreML ``.mlpackage``)."""
    path = Path(path)
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size


def is_file(path: Path) -> bool:
    """``path.is_file()``, False also for names the system refuses (too long, NUL bytes)."""
    try:
        return Path(path).is_file()
    except (OSError, ValueError):
        return False


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(directory: Path) -> None:
    """Persist a rename (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_json_file(path: Path, *, fix: str) -> Any:
    """Parse a JSON file; unreadable or invalid content is one MhpError naming the file and ``fix``."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # ValueError: invalid JSON or UTF-8, or an integer of over 4300 digits
        raise MhpError(f"{path} is not valid JSON ({exc}); {fix}") from None
    except RecursionError:
        raise MhpError(f"{path} is nested too deeply to be a mhp file; {fix}") from None
