"""The cycle lock across real processes: held, named, waited for, released by the kernel on SIGKILL."""

from __future__ import annotations

import os
import signal
import time

import pytest

from crawler.exceptions import LockHeld
from crawler.ops.lock import CycleLock, current_holder, lock_path
from tests.schedsite import hold_lock as hold
from tests.schedsite import release


def test_second_holder_is_refused_with_the_holders_pid(tmp_path):
    proc = hold(tmp_path, 30)
    try:
        with pytest.raises(LockHeld) as err:
            CycleLock(tmp_path).acquire()
        assert f"pid {proc.pid}" in str(err.value) and "--wait" in str(err.value)
        assert current_holder(tmp_path).pid == proc.pid
    finally:
        release(proc, kill=True)


def test_wait_blocks_until_the_holder_exits(tmp_path):
    proc = hold(tmp_path, 1.0)
    started = time.monotonic()
    with CycleLock(tmp_path, wait=True):
        waited = time.monotonic() - started
        assert current_holder(tmp_path).pid == os.getpid()
    assert waited >= 0.5  # we got it only once the holder let go
    assert current_holder(tmp_path) is None  # released: the record is cleared
    release(proc)


def test_sigkilled_holder_leaves_no_stale_lock(tmp_path):
    proc = hold(tmp_path, 60)
    os.kill(proc.pid, signal.SIGKILL)
    release(proc)
    assert lock_path(tmp_path).read_text()  # the dead holder's record is still there …
    assert current_holder(tmp_path) is None  # … but names no live process
    with CycleLock(tmp_path):  # and the kernel released the lock itself
        pass
