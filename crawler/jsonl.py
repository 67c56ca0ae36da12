"""Append-only JSONL that a reader never sees half-written, even if the process is killed.

Appends are one ``os.write`` of a whole line on an ``O_APPEND`` descriptor followed by ``fsync``; a
torn tail left by a kill (possible only if the kernel wrote part of the line) is cut back to the last
newline when the file is next opened. Rewrites (the translation stage updating items in place) write a
temporary file and ``os.replace`` it, so readers see either the old file or the new one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Iterable, Iterator


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


def ids_in(path: str | Path) -> set[str]:
    return {obj["id"] for obj in read(path) if "id" in obj}


class JsonlAppender:
    """Appends items to one file, never the same ``id`` twice."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        repair_tail(self.path)
        self.ids = ids_in(self.path)

    def append(self, obj: dict) -> bool:
        """Write ``obj`` as one line unless its id is already in the file. Durable on return."""
        if obj.get("id") in self.ids:
            return False
        line = (dumps(obj) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        self.ids.add(obj.get("id"))
        return True


def rewrite(path: str | Path, update: Callable[[dict], dict | None]) -> int:
    """Replace each line by ``update(obj)`` (None keeps it) atomically. Returns lines changed."""
    path = Path(path)
    repair_tail(path)
    changed, lines = 0, []
    for obj in read(path):
        new = update(obj)
        if new is not None:
            changed += 1
            obj = new
        lines.append(dumps(obj) + "\n")
    if changed:
        write_atomic(path, "".join(lines).encode("utf-8"))
    return changed


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write a whole file so that readers see the old or the new content, never a mix."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def append_lines(path: str | Path, objs: Iterable[dict]) -> None:
    """Append objects without id bookkeeping (alerts, logs)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    repair_tail(path)
    data = "".join(dumps(o) + "\n" for o in objs).encode("utf-8")
    if not data:
        return
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
