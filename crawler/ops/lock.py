"""The cycle lock: never two cycles at once on one output directory, across processes.

``fcntl.flock`` on ``<output>/newsmon.lock``: the kernel releases it when the holder exits, however it
exits (a SIGKILL included), so a crash never leaves a stale lock. While held, the file records who holds
it (pid, start time, command line) for the messages of a second cycle and for ``newsmon status``; the
record is cleared on release. The lock file itself is never deleted (deleting a flock file is racy).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from crawler.exceptions import LockHeld
from crawler.items import utc_now

log = logging.getLogger(__name__)

LOCK_NAME = "newsmon.lock"  # held by a cycle (`newsmon run`)
SCHEDULER_LOCK_NAME = "newsmon-scheduler.lock"  # held by `newsmon schedule` (one scheduler per output dir)
LOCK_BUSY_EXIT = 75  # exit status of `newsmon run --no-wait` finding the lock held (EX_TEMPFAIL)


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) the lock."""

    pid: int
    started_at: str
    command: str
    host: str

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}, since {self.started_at}: {self.command}"


def lock_path(output_dir: str | Path, name: str = LOCK_NAME) -> Path:
    return Path(output_dir) / name


class CycleLock:
    """``with CycleLock(output_dir, wait=False): …`` — raises ``LockHeld`` naming the holder."""

    def __init__(self, output_dir: str | Path, *, wait: bool = False, name: str = LOCK_NAME, what: str = "cycle"):
        self.path = lock_path(output_dir, name)
        self.wait = wait
        self.what = what
        self._fd: int | None = None

    def acquire(self) -> CycleLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            self._take(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        _write_record(fd)
        return self

    def _take(self, fd: int) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        holder = read_holder(self.path)
        who = holder.describe() if holder else "another process"
        if not self.wait:
            hint = "; run with --wait to wait for it" if self.what == "cycle" else ""
            raise LockHeld(f"another {self.what} is running on {self.path.parent} ({who}){hint}")
        log.warning("waiting for the %s lock on %s, held by %s", self.what, self.path.parent, who)
        fcntl.flock(fd, fcntl.LOCK_EX)
        log.warning("%s lock acquired after waiting", self.what)

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> CycleLock:
        return self if self._fd is not None else self.acquire()  # `with lock.acquire():` works too

    def __exit__(self, *exc) -> None:
        self.release()


def _write_record(fd: int) -> None:
    record = {
        "pid": os.getpid(),
        "started_at": utc_now(),
        "host": socket.gethostname(),
        "command": " ".join(["newsmon", *sys.argv[1:]]),
    }
    data = json.dumps(record).encode("utf-8")
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)


def read_holder(path: str | Path) -> Holder | None:
    """The recorded holder, or None when the record is empty or unreadable."""
    try:
        raw = Path(path).read_text(encoding="utf-8")
        rec = json.loads(raw) if raw.strip() else None
        if not isinstance(rec, dict):
            return None
        return Holder(int(rec["pid"]), str(rec["started_at"]), str(rec["command"]), str(rec["host"]))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def current_holder(output_dir: str | Path, name: str = LOCK_NAME) -> Holder | None:
    """The live holder of the lock of ``output_dir``, or None when no cycle runs.

    Reads the record only (never takes the lock, so it cannot make a starting cycle fail); a record
    left by a process that no longer exists on this host counts as not held.
    """
    holder = read_holder(lock_path(output_dir, name))
    if holder is None or holder.host != socket.gethostname():
        return holder
    return holder if pid_alive(holder.pid) else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
