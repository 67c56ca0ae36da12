"""A page's CPU work — extraction and language — as one call that can run off the reactor thread.

``analyse_page`` is a plain top-level function over picklable values (decoded HTML, URL, the frozen
``Section``) returning picklable ones (``Extracted``, ``LangResult``), so a pipeline can hand it to a
process pool and await the result instead of blocking the reactor for 10–40 ms per page:

    extracted, lang = await shared_pool().analyse(page.text, page.url, page.section)  # async process_item
    close_shared_pool()                                # when the crawl ends (or at exit: atexit does it)

One pool per process, shared by every spider of a cycle. Workers are started with "spawn" (forking a
process that runs a Twisted/asyncio reactor and threads is unsafe; the main module must be guarded by
``if __name__ == "__main__"`` or be a package's ``__main__``, as ``python -m crawler`` and the
``newsmon`` script are) and load trafilatura and langdetect's profiles once, before their first page.

``[crawler] extraction_workers = "auto"`` (the default) is one worker per core (at most AUTO_MAX_WORKERS; none
on one core), started once the crawl has AUTO_AFTER_PAGES pages to analyse — the pages analysed in-line so far
and the article links the spiders have requested (``expect``) — so a run of a few pages never pays a worker's
start-up (about half a second of CPU each), and a large one starts them with its first page. The workers start
together, and from then on every page goes to them, queued while they load: analysing pages here meanwhile cost
this process a copy of the language profiles of its own and took a core from the workers' start-up (on 2 cores the
whole run was slower). As many workers as cores, not one fewer: the crawl's own
process waits on the network, the disk and its threads' turns at the GIL more than it computes, and on 2 idle
cores 2 workers beat 1 on every mix (docs/operations.md). A number starts that many workers at the first page.
"""

from __future__ import annotations

import asyncio
import atexit
import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

from crawler.exceptions import ExtractionError
from crawler.extract.extracted import Extracted
from crawler.extract.language import LangResult, detect_language

if TYPE_CHECKING:
    from crawler.config import Section


def analyse_page(html: str, url: str, section: Section | None = None) -> tuple[Extracted, LangResult | None]:
    """Extract the article and detect its language; raises ``ExtractionError`` as extract_article does."""
    # Imported here: a crawl whose workers read every page never loads trafilatura in its own process.
    from crawler.extract.extraction import extract_article

    extracted = extract_article(html, url, section)
    try:
        return extracted, detect_language(extracted.paragraphs, extracted.title)
    except Exception:  # the item is kept: the language pipeline detects again, and says why it cannot
        return extracted, None


def _warm_up() -> None:
    import crawler.extract.extraction  # noqa: F401  (trafilatura and the parsers, before the first page)

    detect_language(["Loading the language profiles once per worker, before the first page."])
    atexit.register(_exit_at_once)


def _exit_at_once() -> None:
    """A worker's last step, once the pool has stopped it: out without the interpreter's teardown, which freed
    the heap of hundreds of pages object by object — ~0.2 s a worker that the crawl's end waited for. A worker
    holds nothing to close by then: each task commits and closes its own DB connection."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _ready() -> bool:
    """A task that ends as soon as a worker has started: the pool is ready when it is done."""
    return True


AUTO_AFTER_PAGES = 40
AUTO_MAX_WORKERS = 4


def auto_workers() -> int:
    """``"auto"``: one worker per core this process may run on, at most AUTO_MAX_WORKERS; none on one core."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return 0 if cores < 2 else min(cores, AUTO_MAX_WORKERS)


_expected = 0  # article pages the spiders of this process have requested (``expect``)


def expect(pages: int) -> None:
    """Article pages requested: the analysis to come, which starts the "auto" workers early (module docstring)."""
    global _expected
    _expected += pages


class AnalysisPool:
    """A process pool for ``analyse_page``. ``workers``: a number (0 runs in the calling thread) or ``"auto"``
    (see the module docstring)."""

    def __init__(self, workers: int | str | None = None) -> None:
        self.auto = workers == "auto"
        if workers is None or self.auto:
            self.workers = auto_workers() if self.auto else (os.cpu_count() or 1)
        else:
            self.workers = int(workers)
        self.inline = 0  # pages analysed in the calling thread
        self._executor: ProcessPoolExecutor | None = None
        self._ready: Future | None = None
        if self.workers > 0 and not self.auto:
            self._start()

    def _start(self) -> None:
        self._executor = ProcessPoolExecutor(
            max_workers=self.workers, initializer=_warm_up, mp_context=multiprocessing.get_context("spawn")
        )
        # One task per worker: the pool starts a process per task that finds none idle, so all start at once.
        self._ready = [self._executor.submit(_ready) for _ in range(self.workers)][0]

    def in_line(self) -> bool:
        """Whether the next page is analysed here: no worker wanted, or (auto) none started yet."""
        if self.workers == 0:
            return True
        if not self.auto:
            return False
        if self._executor is None and self.inline + _expected >= AUTO_AFTER_PAGES:
            self._start()
        return self._executor is None

    async def analyse(self, html: str, url: str, section: Section | None = None):
        if self.in_line():
            self.inline += 1
            return analyse_page(html, url, section)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, analyse_page, html, url, section)
        except BrokenProcessPool:
            # A worker died (killed, out of memory, a crash in a C library on some page): this page and the
            # others in flight fail, named; the pages after them go to new workers, not to a broken pool.
            self._restart()
            raise ExtractionError(f"the extraction worker process died while {url} was being read") from None

    def beside(self, fn: Callable[..., object], *args: object) -> Future | None:
        """Run ``fn(*args)`` in a worker, beside the pages (``crawler.crawl.beside``); None while no worker is up."""
        if self._executor is None or self._ready is None or not self._ready.done():
            return None
        return self._executor.submit(fn, *args)

    def _restart(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        self._start()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


_shared: AnalysisPool | None = None


def shared_pool(workers: int | str | None = None) -> AnalysisPool:
    """The process-wide pool, made on first use (``workers`` counts only then; 0 = in-line)."""
    global _shared
    if _shared is None:
        _shared = AnalysisPool(workers)
        atexit.register(close_shared_pool)
    return _shared


def current_pool() -> AnalysisPool | None:
    """The process-wide pool if the crawl has made one (never makes it)."""
    return _shared


def close_shared_pool() -> None:
    """Stop the workers; the crawl that follows (a cycle's next) counts its expected pages anew."""
    global _shared, _expected
    _expected = 0
    if _shared is not None:
        _shared.close()
        _shared = None
