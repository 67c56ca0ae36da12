"""JSON Lines for the append-only logs (``alerts.jsonl``): one object per line, UTF-8 without escapes.

Appends are one ``os.write`` of whole lines on an ``O_APPEND`` descriptor followed by ``fsync``; a write
that comes back short is cut back, and a torn tail left by a kill is cut back to the last newline when the
file is next appended to (the events are in the state DB: ``events.flush_jsonl`` writes the missing ones
again). The day files of items are not written here: they are an export of the item store
(``crawler.store.dayfiles``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path


def dumps(obj: dict) -> str:
    """One line, UTF-8, no ``\\u`` escapes."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def repair_tail(path: Path) -> bool:
    """Cut a torn last line (no trailing newline). Returns True if something was cut."""
    if not path.exists() or path.stat().st_size == 0:
        return False
    with open(path, "rb+") as fh:
        fh.seek(-1, os.SEEK_END)
        if fh.read(1) == b"\n":
            return False
        fh.seek(0)
        data = fh.read()
        fh.truncate(data.rfind(b"\n") + 1)
        return True


def read(path: str | Path) -> Iterator[dict]:
    """Every complete line of ``path`` as a dict (a torn tail is skipped, not an error)."""
    path = Path(path)
    if not path.exists():
        return
    with open(path, "rb") as fh:
        for raw in fh:
            if raw.endswith(b"\n") and raw.strip():
                yield json.loads(raw)


def ids_in_tail(path: str | Path, max_bytes: int) -> set[str]:
    """The ids of the complete lines within the last ``max_bytes`` of ``path``."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, size - max_bytes))
            data = fh.read()
    except FileNotFoundError:
        return set()
    if size > max_bytes:
        data = data[data.find(b"\n") + 1 :]  # the first line may be cut: skip it
    ids = set()
    for raw in data.splitlines(keepends=True):
        if raw.endswith(b"\n") and raw.strip():
            try:
                obj = json.loads(raw)
            except ValueError:
                continue
            if isinstance(obj, dict) and "id" in obj:
                ids.add(obj["id"])
    return ids


def append_lines(path: str | Path, objs: Iterable[dict]) -> None:
    """Append objects as whole lines, durably; on a short write or an error nothing partial stays."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    repair_tail(path)
    data = "".join(dumps(o) + "\n" for o in objs).encode("utf-8")
    if not data:
        return
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        start = os.fstat(fd).st_size
        try:
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(28, "No space left on device (short write)", str(path))
            os.fsync(fd)
        except OSError:
            os.ftruncate(fd, start)
            raise
    finally:
        os.close(fd)
