"""Article re-checks: silent edits and deletions of recently stored articles.

Articles first stored in the last ``recheck_days`` (and not by this run) are fetched again with a
conditional GET using their stored validators, through ``crawler.lifecycle.fetch.PoliteFetcher`` with the
crawl's own politeness (``crawler.crawl.politeness``: what the crawl may fetch, a re-check may); the hosts
side by side, each host's articles one after the other (``crawler.lifecycle.hostpool``, ``recheck_workers``).
All reading and writing of the state DB stays on the calling thread. Then:

* 304, or the same title and paragraphs once the section's ignore patterns are applied → unchanged. Both
  sides are read by the same extractor: an item stored by another one (``item["extractor"]``: an older
  trafilatura or site parser) is compared as its stored raw pages read now (``as_read_now``);
* 404/410, or a redirect to the homepage or to a page that is not the same article → the article looks
  *gone*. One such answer is only a suspicion (a CMS hiccup, a transient 404): it is kept in
  ``pending_deletions`` and ``article_deleted`` fires only when ``recheck_gone_checks`` consecutive re-checks
  (default: ``hysteresis_runs``, as for sections) found it gone (``articles.status = 'deleted'``; it is not
  re-checked again). A normal answer in between clears the suspicion; an inconclusive one (below) neither
  counts nor clears. A suspected article stays due even past ``recheck_days``, until confirmed or cleared.
* changed title or text → ``article_edited`` with a paragraph diff. Every version is kept in
  ``article_versions`` (version 1 = as first stored) with its raw page; the ``items`` row becomes the new
  version (``version`` + 1, translation reset to pending for zh/ru), and so does its day-file line at the
  run's export; the edit is reported in alerts.jsonl, unless it changed fewer than ``min_edit_chars``
  characters and no number but a time of day (a comma, a time stamp): then only the version is kept.
* 5xx, timeouts, robots: nothing is concluded (``article_checks.outcome = 'error'``).
* an incomplete multi-page article: its missing pages are fetched again after page 1 and merged when they
  arrive (``crawler.lifecycle.completion``; outcome ``completed`` or ``incomplete``, no event).

Each host waits the largest ``download_delay`` of the sections whose articles are on it (``host_delays``).
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from crawler import state
from crawler.config import Config, Section
from crawler.crawl.politeness import politeness_of
from crawler.exceptions import ExtractionError
from crawler.extract.continuation import PAGES, with_stored_further_pages
from crawler.items import utc_now
from crawler.lifecycle import events
from crawler.lifecycle.completion import PageRetry, complete, missing_pages
from crawler.lifecycle.events import Event
from crawler.lifecycle.fetch import Fetched, PoliteFetcher, decode
from crawler.lifecycle.hostpool import Job, fetch_all
from crawler.lifecycle.machine import is_homepage, same_place, site_root
from crawler.lifecycle.textdiff import comparable, edit_size, numbers_changed, paragraph_diff, same_content, summarize
from crawler.lifecycle.versions import keep_version, next_version
from crawler.store import items as item_store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    """What one answer says about an article, before the deletion hysteresis is applied."""

    outcome: str  # not_modified | unchanged | edited | gone | error
    event: Event | None = None  # the article_edited event
    gone_cause: str | None = None  # why it looks gone, in words (outcome "gone")


@dataclass(frozen=True)
class RecheckRun:
    """This run's re-check parameters: what processing one answer needs besides the DB connection."""

    run_id: int
    output_dir: Path
    sections: dict[str, Section]
    gone_checks: int  # consecutive "gone" re-checks that confirm a deletion
    min_edit_chars: int = 0  # a smaller edit is kept as a version without its article_edited event


def recheck_recent(conn: sqlite3.Connection, config: Config, run_id: int, output_dir: Path, table: dict) -> dict:
    """Re-check due articles; returns outcome counts. Events are recorded in the DB as they are found."""
    if not table["recheck_max"] or not table["recheck_days"]:
        return {}
    due = due_articles(conn, run_id, table)
    if not due:
        return {}
    run = RecheckRun(
        run_id, Path(output_dir), {s.key: s for s in config.sections}, gone_checks_of(table), table["min_edit_chars"]
    )
    bounds = page_retry_of(config)
    jobs = [
        Job(
            row["url"],
            row["etag"],
            row["last_modified"],
            tag=row,
            further=missing_pages(item_store.get(conn, row["id"]), bounds),  # unreadable: reported when judged
            proxy=getattr(run.sections.get(row["section"]), "proxy", None),
        )
        for row in due
    ]  # as crawled
    politeness = politeness_of(config)  # the crawl's: UA, delay, timeout, robots.txt, largest page
    delays = host_delays(due, run.sections, politeness.delay)
    limits = page_limits(jobs, run.sections)
    counts: dict[str, int] = {}
    for done, got in fetch_all(jobs, lambda: PoliteFetcher(politeness, delays, limits), table["recheck_workers"]):
        outcome = apply_safely(conn, done.tag, got, run)
        counts[outcome] = counts.get(outcome, 0) + 1
    log.info("re-checked %d articles: %s", len(due), counts)
    return counts


def gone_checks_of(table: dict) -> int:
    """``recheck_gone_checks``, unset: the sections' ``hysteresis_runs`` (one bad night never alerts)."""
    return table["recheck_gone_checks"] or table["hysteresis_runs"]


def host_delays(rows: list[sqlite3.Row], sections: dict[str, Section], default: float) -> dict[str, float]:
    """Each host's delay between re-check requests: the largest ``download_delay`` of the sections whose
    articles are on it (a section or its source may override ``[crawler] download_delay``), as the crawl
    would wait for the strictest of them."""
    delays: dict[str, float] = {}
    for row in rows:
        section = sections.get(row["section"])
        own = section.download_delay if section is not None and section.download_delay is not None else default
        host = urlsplit(row["url"]).netloc.lower()
        delays[host] = max(delays.get(host, 0.0), float(own))
    return delays


def page_limits(jobs: list[Job], sections: dict[str, Section]) -> dict[str, int]:
    """URL → the largest page accepted for it: its section's ``max_page_bytes`` where the section (or its source)
    sets one, for the page and its further pages, as the crawl accepts them (others: the politeness default)."""
    limits: dict[str, int] = {}
    for job in jobs:
        section = sections.get(job.tag["section"])
        if section is not None and section.max_page_bytes:
            limits.update({url: section.max_page_bytes for url in (job.url, *job.further)})
    return limits


def page_retry_of(config: Config) -> PageRetry:
    from crawler.crawl.settings import for_config

    settings = for_config(config)
    return PageRetry(settings["NEWSMON_MAX_FURTHER_PAGES"], settings["NEWSMON_FURTHER_PAGE_RETRIES"])


def due_articles(conn: sqlite3.Connection, run_id: int, table: dict) -> list[sqlite3.Row]:
    """Articles to re-check now: recent ones, and older ones under a deletion suspicion (first, so that a
    full ``recheck_max`` never starves a confirmation), each no earlier than ``recheck_interval_hours``
    after it was last fetched — by its first fetch (``first_seen``) or its last re-check, whichever came
    later: an article stored by the previous run minutes ago is as fresh as one re-checked minutes ago, so
    a rerun on an unchanged site requests no article at all.
    A suspicion itself older than ``recheck_days`` no longer makes an article due: a host that errors night
    after night (neither confirming nor clearing) must not keep its suspects due for ever; the suspicion
    stays recorded, unconcluded."""
    now = datetime.now(UTC)
    since = (now - timedelta(days=table["recheck_days"])).replace(microsecond=0).isoformat()
    fetched_before = (now - timedelta(hours=table["recheck_interval_hours"])).replace(microsecond=0).isoformat()
    # SQLite's two-argument max() is the later of the two ISO-8601 UTC strings (same format, so they order
    # as times); a check row's time is written by this module, first_seen by the crawl, both by utc_now().
    return conn.execute(
        "SELECT a.*, c.checked_at AS last_check FROM articles a "
        "LEFT JOIN article_checks c ON c.article_id = a.id LEFT JOIN pending_deletions p ON p.article_id = a.id "
        "WHERE a.status = 'ok' AND (a.first_seen >= ? OR p.since >= ?) "
        "AND (a.run_id IS NULL OR a.run_id != ?) AND max(a.first_seen, COALESCE(c.checked_at, '')) <= ? "
        "ORDER BY p.article_id IS NULL, c.checked_at IS NOT NULL, c.checked_at, a.first_seen LIMIT ?",
        (since, since, run_id, fetched_before, table["recheck_max"]),
    ).fetchall()


def apply_safely(conn: sqlite3.Connection, row: sqlite3.Row, got: Fetched, run: RecheckRun) -> str:
    try:
        return apply_answer(conn, row, got, run)
    except Exception as exc:  # one odd page never stops the re-checks of the others
        log.error("re-check of %s failed: %s: %s", row["url"], type(exc).__name__, exc, exc_info=True)
        return "error"


def apply_answer(conn: sqlite3.Connection, row: sqlite3.Row, got: Fetched, run: RecheckRun) -> str:
    """Judge one answer and record it (check row, suspicion, events) in one transaction; the outcome."""
    item = stored_item(conn, row)
    verdict = (
        Verdict("error")
        if item is None
        else judge(conn, got, row, item, run.sections.get(row["section"]), run.run_id, run.output_dir)
    )
    if got.further and verdict.outcome in ("not_modified", "unchanged", "edited"):
        verdict = with_missing_pages(conn, row, got, verdict, run)
    verdict = without_trivial_edit(verdict, run.min_edit_chars)
    now = utc_now()
    with state.transaction(conn):
        outcome, event = verdict.outcome, verdict.event
        if outcome == "gone":
            outcome, event = seen_gone(conn, row, item, verdict.gone_cause, got, now, run)
        elif outcome != "error":
            clear_suspicion(conn, row)
        conn.execute(
            "INSERT OR REPLACE INTO article_checks(article_id, checked_at, http_status, outcome) VALUES (?, ?, ?, ?)",
            (row["id"], now, got.status, outcome),
        )
        if event is not None:
            events.record(conn, [event])
    return outcome


def without_trivial_edit(verdict: Verdict, min_edit_chars: int) -> Verdict:
    """An edit smaller than ``min_edit_chars`` that changed no number but a time of day (a comma, a time stamp):
    its version is kept, its event dropped."""
    event = verdict.event
    if (
        event is None
        or event.details.get("numbers_changed")
        or event.details.get("changed_chars", min_edit_chars) >= min_edit_chars
    ):
        return verdict
    log.info(
        "re-check of %s: %s (%d characters, under min_edit_chars): version %s kept, no alert",
        event.details.get("url"),
        event.cause,
        event.details["changed_chars"],
        event.details.get("version"),
    )
    return Verdict(verdict.outcome)


def with_missing_pages(conn, row, got: Fetched, verdict: Verdict, run: RecheckRun) -> Verdict:
    """Merge the missing pages fetched after page 1 (``crawler.lifecycle.completion``): outcome ``completed``
    or ``incomplete``; an edit found on page 1 (already kept) stays the outcome, its event unchanged."""
    item = stored_item(conn, row)  # read again: an edit of page 1 is now the latest version
    if item is None:
        return verdict
    outcome = complete(conn, row, item, got.further, run.sections.get(row["section"]), run.output_dir)
    return verdict if verdict.outcome == "edited" else Verdict(outcome)


def stored_item(conn, row) -> dict | None:
    """The article's latest item; None (one log line; the check counts as an error) when its JSON is bad."""
    item_row = conn.execute("SELECT json FROM items WHERE id = ?", (row["id"],)).fetchone()
    if item_row is None:
        return {"id": row["id"], "title": row["title"], "paragraphs": []}
    item = item_store.loads(item_row["json"])
    if item is None:
        log.error("re-check of %s skipped: its stored item is not valid JSON", row["url"])
    return item


def seen_gone(conn, row, item: dict, cause: str, got: Fetched, now: str, run: RecheckRun) -> tuple[str, Event | None]:
    """One more consecutive "gone" answer: a suspicion (outcome ``gone``) until ``gone_checks`` of them,
    then the deletion (outcome ``deleted`` and its event)."""
    pending = conn.execute("SELECT checks, since FROM pending_deletions WHERE article_id = ?", (row["id"],)).fetchone()
    checks, since = (pending["checks"] + 1, pending["since"]) if pending else (1, now)
    if checks < run.gone_checks:
        suspect(conn, row, checks, since, now, cause, got.status)
        log.info(
            "re-check of %s: %s; deletion suspected (%d of %d re-checks)", row["url"], cause, checks, run.gone_checks
        )
        return "gone", None
    conn.execute("DELETE FROM pending_deletions WHERE article_id = ?", (row["id"],))
    seen = f"{checks} consecutive re-checks, since {since}" if checks > 1 else f"re-checked {since}"
    details = {"checks": checks, "gone_since": since, "http_status": got.status, "final_url": got.final_url}
    return "deleted", deleted(conn, row, item, run.run_id, f"{cause} ({seen})", details)


def suspect(conn, row, checks: int, since: str, now: str, cause: str, http_status: int | None) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO pending_deletions(article_id, checks, since, last_checked, cause, http_status) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (row["id"], checks, since, now, cause, http_status),
    )


def clear_suspicion(conn, row) -> None:
    cleared = conn.execute("DELETE FROM pending_deletions WHERE article_id = ?", (row["id"],)).rowcount
    if cleared:
        log.info("re-check of %s: the article answers again; deletion suspicion cleared", row["url"])


def judge(conn, got: Fetched, row, item: dict, section: Section | None, run_id: int, output_dir: Path) -> Verdict:
    if got.status == 304:
        return Verdict("not_modified")
    if got.status in (404, 410):
        return Verdict("gone", gone_cause=f"HTTP {got.status}: the article page is gone")
    if got.status != 200:
        log.info("re-check of %s inconclusive: %s", row["url"], got.error or f"HTTP {got.status}")
        return Verdict("error")
    final = got.final_url or row["url"]
    moved = not same_place(final, row["url"])
    if moved and is_homepage(final, site_root(row["url"])):
        return Verdict("gone", gone_cause=f"redirected to the homepage {final}")
    extracted = _extract(got, section)
    patterns = section.ignore_patterns if section else ()
    if extracted is None:
        return Verdict("gone", gone_cause=f"redirected away to {final}") if moved else Verdict("error")
    before = as_read_now(item, extracted, section, output_dir)
    if moved and not same_article(before, extracted, patterns):
        return Verdict("gone", gone_cause=f"redirected away to {final}")
    extracted = with_stored_further_pages(before, extracted)  # a multi-page article: page 1 + the rest as stored
    if same_content(
        before.get("title"), before.get("paragraphs") or [], extracted.title, extracted.paragraphs, patterns
    ):
        _touch(conn, row, got)
        return Verdict("unchanged")
    return Verdict("edited", edited(conn, row, item, before, got, extracted, patterns, run_id, output_dir))


def as_read_now(item: dict, fresh, section: Section | None, output_dir: Path) -> dict:
    """The stored article as the extractor that just read the live page (``fresh.extractor``) reads it.

    An item records the extractor that produced its paragraphs (``item["extractor"]``; an item without one
    counts as read by another). The same extractor: the item as stored. Another one (trafilatura upgraded, a
    parser's version bumped, the page now read by another parser): the stored raw pages extracted again now,
    so that the comparison sees only what the site changed — an upgrade is never an ``article_edited``. Raw
    pages missing or no longer extractable: the item as stored, and one log line saying why."""
    if item.get("extractor") == fresh.extractor:
        return item
    from crawler.extract.stored import extract_stored

    try:
        again = extract_stored(output_dir, item, section)
    except ExtractionError as exc:
        log.warning(
            "re-check of %s compares with the stored text, which another extractor produced: the stored "
            "page cannot be extracted again (%s)",
            item.get("url"),
            exc,
        )
        return item
    extras = dict(item.get("extras") or {})
    if PAGES in again.extras:  # the further pages' paragraph counts as read now
        extras[PAGES] = again.extras[PAGES]
    return dict(item, title=again.title, paragraphs=list(again.paragraphs), extras=extras)


def same_article(item: dict, extracted, patterns: tuple[str, ...]) -> bool:
    """Is the page a redirect led to still this article? Same title, or at least half of its text in
    identical paragraphs (a news URL whose slug follows an edited title redirects to the new slug: an
    edit, not a deletion). Weighted by length, so shared boilerplate lines do not make two stories one."""
    if _norm_title(extracted.title) == _norm_title(item.get("title")):
        return True
    old = {comparable(p, patterns) for p in item.get("paragraphs") or []} - {""}
    new = {comparable(p, patterns) for p in extracted.paragraphs}
    total = sum(len(p) for p in old)
    return bool(total) and sum(len(p) for p in old & new) >= total / 2


def _norm_title(title: str | None) -> str:
    return " ".join((title or "").split()).casefold()


def _extract(got: Fetched, section: Section | None):
    from crawler.extract.extraction import extract_article

    html, encoding = decode(got)
    try:
        extracted = extract_article(html, got.final_url or got.url, section)
    except ExtractionError as exc:
        log.info("re-check of %s: %s", got.url, exc)
        return None
    extracted.extras = {**(extracted.extras or {}), "raw_encoding": encoding}
    return extracted


def _touch(conn, row, got: Fetched) -> None:
    item_store.article_fetched(
        conn, row["id"], utc_now(), etag=got.headers.get("ETag"), last_modified=got.headers.get("Last-Modified")
    )


def deleted(conn, row, item: dict, run_id: int, cause: str, seen: dict) -> Event:
    item_store.article_deleted(conn, row["id"], utc_now())
    details = {
        "url": row["url"],
        "title": item.get("title") or row["title"],
        "title_en": item.get("title_en"),
        "first_seen": row["first_seen"],
        "published_at": row["published_at"],
        **seen,
    }
    return Event("article_deleted", row["section"], utc_now(), run_id, cause, details, article_id=row["id"])


def edited(
    conn, row, item: dict, before: dict, got: Fetched, extracted, patterns, run_id: int, output_dir: Path
) -> Event:
    """Keep the edit as a new version. ``before`` is ``item`` as the current extractor reads it
    (``as_read_now``): the diff and the new version start from it, so they hold only the site's change;
    ``item`` itself is what is kept as the first version."""
    from crawler.crawl.store import save_raw

    ops = paragraph_diff(list(before.get("paragraphs") or []), list(extracted.paragraphs), patterns)
    title_changed = _norm_title(before.get("title")) != _norm_title(extracted.title)
    new_item = next_version(before, extracted.title, extracted.paragraphs)
    version = new_item["version"]
    raw_path = f"raw/{row['source']}/{row['id']}.v{version}.html.gz"
    save_raw(output_dir, raw_path, got.body)
    now = utc_now()
    new_item.update(
        {
            "raw_path": raw_path,
            "raw_encoding": (extracted.extras or {}).get("raw_encoding"),
            "extractor": extracted.extractor,
            "fetched_at": now,
            "edited_at": now,
        }
    )
    diff = {"title_before": before.get("title"), "title_after": extracted.title, "paragraphs": ops}
    with state.transaction(conn):
        keep_version(conn, row, item, new_item, now, diff)
        item_store.article_fetched(
            conn,
            row["id"],
            now,
            etag=got.headers.get("ETag"),
            last_modified=got.headers.get("Last-Modified"),
            raw_path=raw_path,
        )
    details = {
        "url": row["url"],
        "title": extracted.title,
        "title_en": item.get("title_en"),
        "version": version,
        "previous_version": version - 1,
        **diff,
        "changed_chars": edit_size(
            before.get("title"),
            list(before.get("paragraphs") or []),
            extracted.title,
            list(extracted.paragraphs),
            patterns,
        ),
        "numbers_changed": numbers_changed(
            before.get("title"),
            list(before.get("paragraphs") or []),
            extracted.title,
            list(extracted.paragraphs),
            patterns,
        ),
    }
    cause = summarize(ops, title_changed)
    if got.final_url and not same_place(got.final_url, row["url"]):
        details["moved_to"] = got.final_url
        cause += f"; moved to {got.final_url}"
    return Event("article_edited", row["section"], now, run_id, cause, details, article_id=row["id"])
