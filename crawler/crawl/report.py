"""Per-section counts of one crawl, filled by the spider and pipelines, read by the runner.

``as_dict()`` is what lands in ``CycleContext.crawl[section_key]`` and in the run summary:
``{links_found, new, fetched, landed, failed, unextracted, unextracted_error, seconds, errors, entry_error,
skipped, skipped_reasons, skips}``.

Every page a section meets ends counted: fetched (an item, or the same item again), failed (it was requested and
did not become an item: each one a line in ``errors``) or skipped (it was not requested, for a reason: each a line
in ``skips``, its reason counted in ``skipped_reasons``). Each of those lines is also one warning in the log.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class SectionReport:
    key: str
    links_found: int = 0  # article links the entry point yielded (after the link rule)
    new: int = 0  # of which not yet stored (or all of them with --refetch)
    fetched: int = 0  # articles fetched and extracted in this run
    landed: int = 0  # of which written as new lines to items.jsonl
    failed: int = 0  # articles (or the entry point) that failed
    unextracted: int = 0  # of which answered with no article in them (crawler/lifecycle/health.py)
    unextracted_error: str | None = None  # why the first of those failed, naming its URL
    errors: list[str] = field(default_factory=list)
    skipped: int = 0  # pages (links) not requested, each for a reason
    skipped_reasons: dict[str, int] = field(default_factory=dict)  # reason (SKIP_REASONS) → pages
    skips: list[str] = field(default_factory=list)  # one line per skip (or per group of them), as logged
    entry_error: str | None = None  # the entry point itself failed: the section yielded nothing
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0

    def entry_failed(self, message: str, *, quiet: bool = False) -> None:
        """``quiet``: the cause is said once for the whole run (storing stopped): the summary lists it."""
        self.entry_error = message
        self.failed += 1
        self._error(message, quiet)

    def article_failed(self, url: str, message: str, *, quiet: bool = False) -> None:
        self.failed += 1
        self._error(f"{short(url)}: {message}", quiet)

    def extraction_failed(self, url: str, message: str) -> None:
        """An article page that answered but yielded no article (a new template, a bot wall)."""
        self.unextracted += 1
        self.article_failed(url, message)
        self.unextracted_error = self.unextracted_error or (message if url in message else f"{message} ({url})")

    def link_skipped(self, url: str, reason: str, detail: str) -> None:
        """A link not requested: ``reason`` is one of ``SKIP_REASONS``, ``detail`` says why in words."""
        self.links_skipped([url], reason, detail)

    def links_skipped(self, urls: list[str], reason: str, detail: str) -> None:
        """Links not requested for one reason: one line naming how many and the first few (a listing of
        100,000 links is one warning, not 99,000)."""
        if not urls:
            return
        self.skipped += len(urls)
        self.skipped_reasons[reason] = self.skipped_reasons.get(reason, 0) + len(urls)
        if len(urls) == 1:
            message = f"{short(urls[0])}: not followed: {detail}"
        else:
            first = ", ".join(short(u) for u in urls[:SKIPS_NAMED])
            more = " …" if len(urls) > SKIPS_NAMED else ""
            message = f"{len(urls):,} links not followed: {detail}: {first}{more}"
        self.skips.append(message)
        log.warning("%s: %s", self.key, message)

    def _error(self, message: str, quiet: bool = False) -> None:
        """One clear warning line per problem, named by its section."""
        self.errors.append(message)
        (log.info if quiet else log.warning)("%s: %s", self.key, message)

    def finish(self) -> None:
        self.seconds = round(time.monotonic() - self.started, 2)
        # Progress as each section ends: a plain line in the log file (and on the console with -v).
        log.info(
            "%s done: %d links, %d new, %d fetched, %d failed, %d skipped, %.1f s",
            self.key,
            self.links_found,
            self.new,
            self.fetched,
            self.failed,
            self.skipped,
            self.seconds,
        )

    def as_dict(self) -> dict:
        return {
            "links_found": self.links_found,
            "new": self.new,
            "fetched": self.fetched,
            "landed": self.landed,
            "failed": self.failed,
            "seconds": self.seconds,
            "errors": list(self.errors),
            "entry_error": self.entry_error,
            "unextracted": self.unextracted,
            "unextracted_error": self.unextracted_error,
            "skipped": self.skipped,
            "skipped_reasons": dict(self.skipped_reasons),
            "skips": list(self.skips),
        }


# Why a link was not requested (the keys of ``skipped_reasons``).
SKIP_REASONS = {
    "max_links": "beyond the section's max_links",
    "max_pages": "a sitemap beyond the section's max_pages",
    "off-site": "a link to another site than the section's",
    "not-http": "not an http(s) link (mailto:, javascript: …)",
    "too-long": "a URL longer than Scrapy's URLLENGTH_LIMIT",
    "duplicate": "the same page as another link of the crawl (Scrapy's duplicate filter)",
    "sitemap-loop": "a sitemap an index lists again (a loop, or listed twice)",
}
SKIPS_NAMED = 3  # links named in the line of a group of skips
URL_SHOWN = 120  # characters of a URL a line shows (a 10,000-character link is hostile to a log too)


def short(url: str) -> str:
    """``url``, or its first characters and its length when it is longer than a log line should be."""
    return url if len(url) <= URL_SHOWN else f"{url[:URL_SHOWN]}… ({len(url):,} characters)"


def status_of(report: dict) -> str:
    """A section's status in the run summary, from its ``as_dict()``: ``error`` (the entry point failed),
    ``partial`` (a page failed or was skipped: never ``ok`` with pages missing) or ``ok``. A report written
    before ``skipped`` existed has none."""
    return "error" if report["entry_error"] else ("partial" if report["failed"] or report.get("skipped") else "ok")
