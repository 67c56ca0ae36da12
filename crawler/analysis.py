"""A page's CPU work — extraction and language — as one call that can run off the reactor thread.

``analyse_page`` is a plain top-level function over picklable values (decoded HTML, URL, the frozen
``Section``) returning picklable ones (``Extracted``, ``LangResult``), so a pipeline can hand it to a
process pool and await the result instead of blocking the reactor for 20–50 ms per page:

    pool = AnalysisPool(workers=2)                     # once, in open_spider
    extracted, lang = await pool.analyse(response.text, response.url, section)   # async process_item
    pool.close()                                       # in close_spider

Workers are started with "spawn" (forking a process that runs a Twisted/asyncio reactor and threads is
unsafe) and warm up trafilatura and langdetect's profiles once, before the first page.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING

from crawler.extraction import Extracted, extract_article
from crawler.language import LangResult, detect_language

if TYPE_CHECKING:
    from crawler.config import Section


def analyse_page(html: str, url: str, section: "Section | None" = None) -> tuple[Extracted, LangResult]:
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
            self._executor = ProcessPoolExecutor(max_workers=self.workers, initializer=_warm_up,
                                                 mp_context=multiprocessing.get_context("spawn"))

    async def analyse(self, html: str, url: str, section: "Section | None" = None):
        if self._executor is None:
            return analyse_page(html, url, section)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, analyse_page, html, url, section)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
