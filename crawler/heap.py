"""Giving freed memory back to the system, after a large piece of work in a process that lives on."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc


def give_back() -> None:
    """Collect Python's cycles, then hand the C heap's free pages back (glibc's ``malloc_trim``: glibc keeps
    freed blocks for reuse, so without it a process stays at the size of its largest piece of work).
    Elsewhere than glibc: the collection alone."""
    gc.collect()
    libc = ctypes.util.find_library("c")
    try:
        trim = getattr(ctypes.CDLL(libc or "libc.so.6"), "malloc_trim", None)
    except OSError:
        return
    if trim is not None:
        trim(0)
