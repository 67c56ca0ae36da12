"""Write errors in words: a full disk names the path, the free space and what the write needed."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from pathlib import Path

from crawler.exceptions import NewsmonError

FULL = {errno.ENOSPC, errno.EDQUOT}


class StorageError(NewsmonError):
    """Output could not be written (full disk, read-only file system, I/O error): the run stops storing."""


def human(size: int | float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(size) < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def free_bytes(path: Path) -> int | None:
    """Free space for ``path``'s file system (the nearest existing parent's)."""
    path = Path(path)
    for candidate in (path, *path.parents):
        if candidate.exists():
            try:
                return shutil.disk_usage(candidate).free
            except OSError:
                return None
    return None


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in FULL
    return isinstance(exc, sqlite3.OperationalError) and "full" in str(exc).lower()


def storage_error(exc: BaseException, path: Path, needed: int | None = None) -> StorageError:
    """One line for a failed write of ``needed`` bytes to ``path``."""
    if is_disk_full(exc):
        free = free_bytes(path)
        need = f"; it needed {human(needed)}" if needed else ""
        left = f"{human(free)} free" if free is not None else "free space unknown"
        return StorageError(
            f"disk full: cannot write {path} ({left}{need}); free some space and run again: "
            f"what is stored lands then, exactly once"
        )
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return StorageError(f"cannot write {path}: {reason}")


def write_atomic(path: Path, data: bytes, fsync: bool = True) -> None:
    """Write a whole file so that readers see the old or the new content, never a mix; on any error the
    temp file is removed and a ``StorageError`` names the path and the space needed. ``fsync=False``: the
    caller makes it durable later, a batch of files at a time (the crawl's raw pages)."""
    path = Path(path)
    tmp = temp_name(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        _remove(tmp)
        raise storage_error(exc, path, len(data)) from exc


def temp_name(path: Path) -> Path:
    """``.<name>.<pid>.tmp`` beside ``path`` (same file system, so the rename is atomic); ``sweep`` knows it."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        pass  # left for sweep_temp_files at the next start


def temp_files(output_dir: Path) -> list[Path]:
    """The temp files in the output directory's folders (itself, day folders, raw/<source>/), whoever's."""
    output_dir = Path(output_dir)
    folders = [output_dir]
    for entry in _scan(output_dir):
        if entry.is_dir(follow_symlinks=True) and not entry.name.startswith("."):
            folders.append(Path(entry.path))
    folders += [Path(e.path) for e in _scan(output_dir / "raw") if e.is_dir()]
    return sorted(
        Path(entry.path)
        for folder in folders
        for entry in _scan(folder)
        if entry.name.startswith(".") and entry.name.endswith(".tmp")
    )


def sweep_temp_files(output_dir: Path) -> list[Path]:
    """Remove temp files that killed processes left in the output directory (day folders, raw/<source>/).
    A temp file of a living process (another newsmon command writing right now) is left alone."""
    removed = []
    for path in temp_files(output_dir):
        if not _owner_alive(path.name):
            _remove(path)
            removed.append(path)
    return removed


def _scan(folder: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as it:
            return list(it)
    except OSError:
        return []


def _owner_alive(name: str) -> bool:
    pid = name[: -len(".tmp")].rsplit(".", 1)[-1]
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
