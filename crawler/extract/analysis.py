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
Measured (benchmarks/bench_crawl.py --pages 500 --pool-workers 2: pages of sites without a parser, 2 CPUs
shared with other work, ratios to bare trafilatura min / median / max): the whole `newsmon run` 0.24 / 0.34 /
0.45 × with two workers, 0.24 / 0.37 / 0.49 × in-line. The gain needs a free core; on a machine busy with
other work the pool's hand-offs (the page and the result pickled, a process per worker) cost more than it
wins.
"""

from __future__ import annotations

import asyncio
import atexit
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING

from crawler.extract.extraction import Extracted, extract_article
from crawler.extract.language import LangResult, detect_language

if TYPE_CHECKING:
    from crawler.config import Section


def analyse_page(html: str, url: str, section: Section | None = None) -> tuple[Extracted, LangResult]:
    """Extract the article and detect its language; raises ``ExtractionError`` as extract_article does."""
    extracted = extract_article(html, url, section)
    return extracted, detect_language(extracted.paragraphs, extracted.title)


def _warm_up() -> None:
    detect_language(["Loading the language profiles once per worker, before the first page."])


class AnalysisPool:
    """A process pool for ``analyse_page``; ``workers=0`` runs in the calling thread (tests, tiny runs)."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        self._executor = None
        if self.workers > 0:
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers, initializer=_warm_up, mp_context=multiprocessing.get_context("spawn")
            )

    async def analyse(self, html: str, url: str, section: Section | None = None):
        if self._executor is None:
            return analyse_page(html, url, section)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, analyse_page, html, url, section)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


_shared: AnalysisPool | None = None


def shared_pool(workers: int | None = None) -> AnalysisPool:
    """The process-wide pool, started on first use (``workers`` counts only then; 0 = in-line)."""
    global _shared
    if _shared is None:
        _shared = AnalysisPool(workers)
        atexit.register(close_shared_pool)
    return _shared


def close_shared_pool() -> None:
    global _shared
    if _shared is not None:
        _shared.close()
        _shared = None
