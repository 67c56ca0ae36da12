"""Post-crawl stage: each changed item's ``flags`` (crawler/analysis/flags.py), and an ``article_held``
event for each item newly found published late after its dateline.

Which items: the item change feed as consumer ``analysis`` (changes of the fields the flags read), so an
item translated later (its English may mention the subject) or re-extracted is flagged again. A consumer
that has never read (a new or upgraded DB) starts from the tables: the items of the sections with a
``subject`` and those with a dateline. Runs after the lifecycle stage and before alerts, so the run's alerts
carry its ``article_held`` events.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from dataclasses import dataclass

from crawler import state
from crawler.analysis.flags import DATELINE_LAG, flags_of, held_days, subjects_of
from crawler.analysis.settings import AnalysisSettings, settings_of
from crawler.items import section_key, utc_now
from crawler.lifecycle.events import Event, record
from crawler.store import items as item_store

log = logging.getLogger(__name__)

CONSUMER = "analysis"
READS = ("title", "text", "title_en", "text_en", "extras", "published_at")
BATCH = 500
HELD = "article_held"


@dataclass(frozen=True)
class HeldEvent(Event):
    """Recorded once per item ever, whatever the run that finds it (as a watch hit)."""

    @property
    def id(self) -> str:
        return hashlib.sha256(f"{HELD}|{self.article_id}".encode()).hexdigest()[:16]


def run_stage(ctx) -> dict:
    """``run_stage(ctx: CycleContext) -> dict``: flag the changed items, record their events."""
    settings = settings_of(ctx.config)
    conn = ctx.db()
    try:
        return update_flags(conn, subjects_of(ctx.config), settings, run_id=ctx.run_id)
    finally:
        conn.close()


def update_flags(
    conn: sqlite3.Connection,
    subjects: dict[str, tuple[str, ...]],
    settings: AnalysisSettings,
    *,
    run_id: int | None = None,
    at: str | None = None,
) -> dict:
    """Flag what changed since the cursor; ``{items, flagged, held_events}``."""
    if item_store.started(conn, CONSUMER):
        changed, up_to = item_store.changed_since(conn, CONSUMER, READS)
        ids = [item_id for item_id, _day in changed]
    else:
        ids, up_to = catch_up(conn, subjects)
    at = at or utc_now()
    summary = {"items": len(ids), "flagged": 0, "held_events": 0}
    for start in range(0, len(ids), BATCH):
        flagged, events = _batch(conn, ids[start : start + BATCH], subjects, settings, run_id, at)
        summary["flagged"] += flagged
        summary["held_events"] += events
    item_store.advance(conn, CONSUMER, up_to)
    return summary


def catch_up(conn: sqlite3.Connection, subjects: dict[str, tuple[str, ...]]) -> tuple[list[str], int]:
    """The items flags may concern, and the feed position they stand for."""
    up_to = item_store.feed_end(conn)
    keys = list(subjects)
    doc = item_store.sql_json()
    # One-key JSON paths and LIKE only: the same SQL on SQLite and PostgreSQL (crawler/store/dialect.py).
    rows = conn.execute(
        f"SELECT id FROM items WHERE {doc} ->> '$.section_key' IN ({','.join('?' * len(keys))}) "
        f"""OR {doc} ->> '$.extras' LIKE '%"dateline"%' ORDER BY seq""",
        keys,
    )
    return [r[0] for r in rows], up_to


def _batch(
    conn: sqlite3.Connection,
    ids: list[str],
    subjects: dict[str, tuple[str, ...]],
    settings: AnalysisSettings,
    run_id: int | None,
    at: str,
) -> tuple[int, int]:
    stored = item_store.load(conn, ids)
    flagged, events = 0, []
    with state.transaction(conn):
        for item_id in ids:
            _day, item = stored.get(item_id, (None, None))
            if item is None:
                continue
            flags = flags_of(item, subjects.get(section_key(item), ()), settings.dateline_lag_days)
            value = flags if flags else item_store.REMOVE
            item_store.update(conn, item_id, {"flags": value}, expect_hash=item.get("content_hash"))
            flagged += bool(flags)
            if DATELINE_LAG in flags:
                events.append(held_event(item, run_id, at))
        added = record(conn, events)
    return flagged, added


def held_event(item: dict, run_id: int | None, at: str) -> HeldEvent:
    dateline = item["extras"]["dateline"]
    lag = held_days(item)
    cause = (
        f"published {lag} days after its dateline {dateline.get('raw')!s} "
        f"({dateline.get('date')} → {(item.get('published_at') or '')[:10]})"
    )
    details = {
        "url": item.get("url"),
        "title": item.get("title"),
        "title_en": item.get("title_en"),
        "dateline": dateline,
        "published_at": item.get("published_at"),
        "lag_days": lag,
    }
    return HeldEvent(
        type=HELD, section=section_key(item), at=at, run_id=run_id, cause=cause, details=details, article_id=item["id"]
    )
