"""Stage work beside the crawl: while the crawl lands items, an extraction worker brings what follows the item
change feed — stories, the search index (``Feature.beside_crawl``) — up to date with what has landed, so the
stages after the crawl have only the last items left.

Why: the post-crawl stages run one after another, on one core, once the crawl is over; during the crawl the
extraction workers are often idle (the site parsers' pages cost them little). Each task is a stage's own
incremental work on the change feed, what it would do after the crawl done earlier and in pieces, so a task
that fails or is cut short costs nothing: the stage after the crawl does what is left. One task at a time,
every ``INTERVAL_SECONDS`` when items have landed since the last; none while no worker is up (in-line
extraction: no spare core to use). The crawl waits for the task in flight before the stages run (``finish``).

The crawl's own process meanwhile imports the post-crawl stages' modules, one per tick once the workers are up
(``load_stages``): a quarter of a second of imports on the one core the stages have after the crawl, moved to
the crawl, where the workers read the pages queued for them while the reactor imports. In the reactor's own
thread, not another: an import from a second thread could meet one of the crawl's halfway.
"""

from __future__ import annotations

import importlib
import logging
import sqlite3
from concurrent.futures import Future, wait
from pathlib import Path
from typing import Any

from crawler import heap, state
from crawler.extract import analysis
from crawler.features import beside_crawl, post_crawl_stages
from crawler.store import items as item_store

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 1.0


def run_beside_crawl(output_dir: Path, config: Any, url: str | None) -> list[tuple[str, int, str]]:
    """In a worker: every feature's beside-crawl work, in stage order, on the state DB at ``url`` (the main
    process's choice: a worker has no config of its own loaded). Returns the warnings it logged, as
    (logger, level, message), for the run's own log."""
    said = _Said()
    logging.getLogger("crawler").addHandler(said)
    conn = state.connect(output_dir, url)
    try:
        for dotted in beside_crawl():
            module, name = dotted.rsplit(".", 1)
            getattr(importlib.import_module(module), name)(conn, output_dir, config)
    finally:
        conn.close()
        logging.getLogger("crawler").removeHandler(said)
        heap.trim()  # the task's items and arrays (freed, no cycles): the worker goes back to reading pages
    return said.records


class _Said(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))


class BesideCrawl:
    """Hands ``run_beside_crawl`` to a worker (``tick``, from the reactor) and waits for it (``finish``); loads
    the post-crawl stages' modules meanwhile."""

    def __init__(self, output_dir: Path, config: Any):
        self.output_dir, self.config = output_dir, config
        self.url = state.database_url()
        self.tasks = self.failed = 0
        self._in_flight: Future | None = None
        self._conn = state.connect(output_dir, self.url)  # the reactor's, to see what has landed
        self._landed = self._last_change()  # the feed position the last task started from
        self.stages_to_load = post_crawl_stages()
        self.stages_loaded = 0

    def tick(self) -> None:
        self._hand_over()
        if self.tasks and self.stages_to_load:  # the workers are up: they have taken a task
            self._load_next_stage()

    def _hand_over(self) -> None:
        """The next task to a worker, once the one in flight is done and items have landed since it started."""
        if self._in_flight is not None:
            if not self._in_flight.done():
                return
            self._settle(self._in_flight)
        pool = analysis.current_pool()
        try:
            landed = self._last_change()
        except sqlite3.Error as exc:  # the DB busy or full: the stages after the crawl do the work
            log.debug("beside the crawl: what has landed is not known (%s)", exc)
            return
        if pool is None or landed == self._landed:
            return
        self._in_flight = pool.beside(run_beside_crawl, self.output_dir, self.config, self.url)
        if self._in_flight is not None:
            self._landed = landed
            self.tasks += 1

    def _load_next_stage(self) -> None:
        """Import one post-crawl stage's module. One that fails to import is left to the stage runner, which
        reports it as that stage's failure."""
        dotted = self.stages_to_load.pop(0)
        try:
            importlib.import_module(dotted.rsplit(".", 1)[0])
        except Exception as exc:
            log.debug("stage module of %s not loaded beside the crawl: %s", dotted, exc)
        else:
            self.stages_loaded += 1

    def finish(self) -> dict:
        """Wait for the task in flight (the stages must not run beside it); what was done, for the summary."""
        self._conn.close()
        if self._in_flight is not None:
            wait([self._in_flight])
            self._settle(self._in_flight)
        return {"tasks": self.tasks, "failed": self.failed, "stages_loaded": self.stages_loaded}

    def _settle(self, future: Future) -> None:
        """A task's end, said here (in the reactor's thread, in order): its warnings, or why it failed."""
        self._in_flight = None
        if future.cancelled():  # still queued when the workers stopped
            return
        exc = future.exception()
        if exc is not None:
            self.failed += 1
            log.warning("stage work beside the crawl failed (the stages do it): %s: %s", type(exc).__name__, exc)
            return
        for name, level, message in future.result():
            logging.getLogger(name).log(level, "%s", message)

    def _last_change(self) -> int:
        return item_store.feed_end(self._conn)
