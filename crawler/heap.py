"""Giving freed memory back to the system, after a large piece of work in a process that lives on."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc


def give_back() -> None:
    """Collect Python's cycles, then ``trim``: for work that leaves reference cycles behind (a model, a crawl)."""
    gc.collect()
    trim()


def trim() -> None:
    """Hand the C heap's free pages back (glibc's ``malloc_trim``: glibc keeps freed blocks for reuse, so
    without it a process stays at the size of its largest piece of work); under a millisecond, where a full
    collection of a process with trafilatura loaded takes ~70 ms. Elsewhere than glibc: nothing to do."""
    libc = ctypes.util.find_library("c")
    try:
        malloc_trim = getattr(ctypes.CDLL(libc or "libc.so.6"), "malloc_trim", None)
    except OSError:
        return
    if malloc_trim is not None:
        malloc_trim(0)
