"""Per-section counts of one crawl, filled by the spider and pipelines, read by the runner.

``as_dict()`` is what lands in ``CycleContext.crawl[section_key]`` and in the run summary:
``{links_found, new, fetched, landed, failed, unextracted, unextracted_error, seconds, errors, entry_error}``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class SectionReport:
    key: str
    links_found: int = 0        # article links the entry point yielded (after the link rule)
    new: int = 0                # of which not yet stored (or all of them with --refetch)
    fetched: int = 0            # articles fetched and extracted in this run
    landed: int = 0             # of which written as new lines to items.jsonl
    failed: int = 0             # articles (or the entry point) that failed
    unextracted: int = 0        # of which answered with no article in them (crawler/lifecycle/health.py)
    unextracted_error: str | None = None    # why the first of those failed, naming its URL
    errors: list[str] = field(default_factory=list)
    entry_error: str | None = None     # the entry point itself failed: the section yielded nothing
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0

    def entry_failed(self, message: str, *, quiet: bool = False) -> None:
        """``quiet``: the cause is said once for the whole run (storing stopped): the summary lists it."""
        self.entry_error = message
        self.failed += 1
        self._error(message, quiet)

    def article_failed(self, url: str, message: str, *, quiet: bool = False) -> None:
        self.failed += 1
        self._error(f"{url}: {message}", quiet)

    def extraction_failed(self, url: str, message: str) -> None:
        """An article page that answered but yielded no article (a new template, a bot wall)."""
        self.unextracted += 1
        self.article_failed(url, message)
        self.unextracted_error = self.unextracted_error or (message if url in message else f"{message} ({url})")

    def _error(self, message: str, quiet: bool = False) -> None:
        """One clear warning line per problem, named by its section."""
        self.errors.append(message)
        (log.info if quiet else log.warning)("%s: %s", self.key, message)

    def finish(self) -> None:
        self.seconds = round(time.monotonic() - self.started, 2)
        # Progress as each section ends: a plain line in the log file (and on the console with -v).
        log.info("%s done: %d links, %d new, %d fetched, %d failed, %.1f s", self.key, self.links_found,
                 self.new, self.fetched, self.failed, self.seconds)

    def as_dict(self) -> dict:
        return {"links_found": self.links_found, "new": self.new, "fetched": self.fetched,
                "landed": self.landed,
                "failed": self.failed, "seconds": self.seconds, "errors": list(self.errors),
                "entry_error": self.entry_error,
                "unextracted": self.unextracted, "unextracted_error": self.unextracted_error}
