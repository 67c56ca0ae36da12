"""The cycle lock across real processes: held, named, waited for, released by the kernel on SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.exceptions import LockHeld
from crawler.lock import CycleLock, current_holder, lock_path

ROOT = Path(__file__).resolve().parent.parent
HOLD = """
import sys, time
from crawler.lock import CycleLock
with CycleLock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold(output: Path, seconds: float) -> subprocess.Popen:
    """A separate process holding the lock of ``output`` for ``seconds``; returns once it holds it."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(output), str(seconds)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def finish(proc: subprocess.Popen) -> None:
    proc.wait()
    proc.stdout.close()


def test_second_holder_is_refused_with_the_holders_pid(tmp_path):
    proc = hold(tmp_path, 30)
    try:
        with pytest.raises(LockHeld) as err:
            CycleLock(tmp_path).acquire()
        assert f"pid {proc.pid}" in str(err.value) and "--wait" in str(err.value)
        assert current_holder(tmp_path).pid == proc.pid
    finally:
        proc.kill()
        finish(proc)


def test_wait_blocks_until_the_holder_exits(tmp_path):
    proc = hold(tmp_path, 1.0)
    started = time.monotonic()
    with CycleLock(tmp_path, wait=True):
        waited = time.monotonic() - started
        assert current_holder(tmp_path).pid == os.getpid()
    assert waited >= 0.5                        # we got it only once the holder let go
    assert current_holder(tmp_path) is None     # released: the record is cleared
    finish(proc)


def test_sigkilled_holder_leaves_no_stale_lock(tmp_path):
    proc = hold(tmp_path, 60)
    os.kill(proc.pid, signal.SIGKILL)
    finish(proc)
    assert lock_path(tmp_path).read_text()      # the dead holder's record is still there …
    assert current_holder(tmp_path) is None     # … but names no live process
    with CycleLock(tmp_path):                   # and the kernel released the lock itself
        pass
