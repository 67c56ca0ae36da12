"""Post-crawl stage: match the watch phrases in new and changed items; announce new hits as events.

Placed right after translation in ``crawler.runner.POST_CRAWL_STAGES``, so the cycle's items are matched in
their original and, where the model is installed, in English.

Which items: those whose title, text or translation changed since the last matching, read from the item
change feed (``crawler.watch.store.queued``): every writer of items goes through the item store, which
records each change. An item still pending
translation is matched on its original now, and again once ``newsmon translate --pending`` has translated
it — by the next cycle's stage, or by ``newsmon watch``, which matches the queue before listing. Why a queue
rather than calling the matcher from ``translate --pending``: every writer of ``items`` (the crawl,
translation, re-extraction, an edit found by a re-check, features to come) gets its items re-matched
without knowing watches exist; and a crash between writing an item and matching it loses nothing (the
feed cursor moves only after the matches are committed).

Announcing: one ``watch_matched`` event per item and watch, with an id made of the two only (not of the
run), so ``events.record`` never inserts it twice: an item matched once is not announced again on later
runs, after an edit, after its translation, or by ``newsmon watch --rematch``.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from crawler.items import english_title, section_key, utc_now
from crawler.lifecycle.events import Event
from crawler.phrases import in_words
from crawler.progress import Progress
from crawler.watch import store
from crawler.watch.matcher import Hit, Matcher
from crawler.watch.settings import watches_of

log = logging.getLogger(__name__)

EVENT_TYPE = "watch_matched"
CHUNK = 500  # items matched, then written, at a time (bounds memory and day rewrites)
TITLE_CHARS = 160


def run_stage(ctx) -> dict:
    """``run_stage(ctx: CycleContext) -> dict``: match the queued items."""
    matcher = Matcher(watches_of(ctx.config))
    conn = ctx.db()
    try:
        return match_queued(conn, ctx.output_dir, matcher, run_id=ctx.run_id)
    finally:
        conn.close()


def match_queued(
    conn: sqlite3.Connection,
    output_dir: str | Path,
    matcher: Matcher,
    *,
    run_id: int | None = None,
    progress: Progress | None = None,
) -> dict:
    """Match every queued item (and empty the queue). With no watch configured the queue is only emptied:
    items stored meanwhile are matched by ``newsmon watch --rematch`` once watches are added."""
    ids, up_to = store.queued(conn)
    if not matcher:
        store.done(conn, up_to)
        return {"watches": 0, "items": len(ids)}
    summary = match_ids(conn, output_dir, matcher, ids, run_id=run_id, progress=progress)
    store.done(conn, up_to)
    return summary


def match_ids(
    conn: sqlite3.Connection,
    output_dir: str | Path,
    matcher: Matcher,
    ids: list[str],
    *,
    run_id: int | None,
    progress: Progress | None = None,
) -> dict:
    started = time.monotonic()
    summary = {
        "watches": len(matcher.watches),
        "items": len(ids),
        "changed": 0,
        "hits": 0,
        "new_hits": 0,
        "unreadable": 0,
        "days": [],
    }
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        _chunk(conn, Path(output_dir), matcher, store.load(conn, chunk), run_id, summary)
        if progress is not None:
            progress.advance(len(chunk))
    summary["seconds"] = round(time.monotonic() - started, 3)
    if summary["new_hits"]:
        log.info("watch: %s new hit(s) in %s item(s)", summary["new_hits"], summary["items"])
    return summary


def _chunk(conn, output_dir: Path, matcher: Matcher, rows: list[store.Stored], run_id, summary) -> None:
    """Match ``rows`` and write what changed (one transaction)."""
    changes = []
    for stored in rows:
        if stored.item is None:  # a damaged row: named once, never stops the others
            log.warning("watch: items row %s holds no valid JSON; not matched", stored.id)
            summary["unreadable"] += 1
            continue
        hits = matcher.match(stored.item)
        summary["hits"] += len(hits)
        change = _change(conn, stored, hits, run_id)
        if change is not None:
            changes.append(change)
    if changes:
        summary["new_hits"] += store.save(conn, changes, run_id)
        summary["changed"] += len(changes)
        summary["days"] = sorted(set(summary["days"]) | {c.stored.day for c in changes})


def _change(conn, stored: store.Stored, hits: list[Hit], run_id) -> store.Change | None:
    """What to write for one item, or None when its field and its hit rows already say this."""
    before = store.hit_names(conn, stored.id)
    value = [h.as_field() for h in hits]
    if stored.item.get(store.FIELD, []) == value and before == {h.name: h.as_field() for h in hits}:
        return None
    fresh = [h for h in hits if h.name not in before]
    return store.Change(stored, hits, [announce(stored, h, run_id) for h in fresh])


# ---------------------------------------------------------------- the event


@dataclass(frozen=True)
class WatchEvent(Event):
    """A ``watch_matched`` event: its id is the item and the watch only, so it is recorded once ever."""

    watch: str = ""

    @property
    def id(self) -> str:
        return hashlib.sha256(f"{EVENT_TYPE}|{self.article_id}|{self.watch}".encode()).hexdigest()[:16]


def announce(stored: store.Stored, hit: Hit, run_id: int | None) -> WatchEvent:
    item = stored.item
    details = {
        "watch": hit.name,
        "phrases": list(hit.phrases),
        "found": list(hit.found),
        "in": list(hit.fields),
        "url": item.get("url"),
        "title": item.get("title"),
        "title_en": english_title(item),
        "lang": item.get("lang"),
        "day": stored.day,
    }
    return WatchEvent(
        EVENT_TYPE,
        section_key(item),
        utc_now(),
        run_id,
        cause(hit, item),
        details,
        article_id=stored.id,
        watch=hit.name,
    )


def cause(hit: Hit, item: dict) -> str:
    """In words: 'watch Xi: "习近平", "Xi Jinping" in title, text, text_en — «English» [original: «原文»]'."""
    return f"watch {hit.name}: {in_words(hit.phrases, hit.found)} in {', '.join(hit.fields)} — {titles(item)}"


def titles(item: dict) -> str:
    original = _cut(item.get("title")) or item.get("url") or "(untitled)"
    english = _cut(english_title(item))
    if english and english != original:
        return f"«{english}» [original: «{original}»]"
    return f"«{original}»"


def _cut(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "…"
