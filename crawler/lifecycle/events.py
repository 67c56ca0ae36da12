"""Events: what the lifecycle and the article re-checks report, stored once in the DB and alerts.jsonl.

An event's ``id`` is derived from its run, type, section and article, so recording the same finding twice
(a stage rerun after a crash) inserts nothing. ``flush_jsonl`` appends every event not yet in
``output/alerts.jsonl`` and skips ids already there, so a crash between the append and the bookkeeping
never duplicates a line.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler import jsonl

log = logging.getLogger(__name__)

ALERTS_FILE = "alerts.jsonl"
SECTION_TYPES = (
    "section_appeared",
    "section_gone",
    "section_empty",
    "section_reappeared",
    "section_broken",
    "section_erroring",
    "section_changed",
    "section_stale",
    "section_extraction_degraded",
    "section_extraction_recovered",  # lifecycle/health.py
    "section_off_subject",
    "section_on_subject",
)  # lifecycle/subject.py
ARTICLE_TYPES = ("article_edited", "article_deleted", "article_held")  # analysis/stage.py
WATCH_TYPES = ("watch_matched",)  # crawler/watch/stage.py: one per item and watch, ever
CRAWLER_TYPES = ("crawler_offline", "crawler_online")  # lifecycle/offline.py: about no section (section None)
EVENT_TYPES = SECTION_TYPES + ARTICLE_TYPES + WATCH_TYPES + CRAWLER_TYPES


@dataclass(frozen=True)
class Event:
    type: str
    section: str | None  # None: the event is about the crawler itself (CRAWLER_TYPES)
    at: str
    run_id: int | None
    cause: str
    details: dict[str, Any] = field(default_factory=dict)
    article_id: str | None = None

    @property
    def id(self) -> str:
        key = f"{self.run_id}|{self.type}|{self.section or ''}|{self.article_id or ''}"
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]

    @property
    def source(self) -> str | None:
        return self.section.split("/", 1)[0] if self.section else None

    def to_json(self) -> dict[str, Any]:
        """The alerts.jsonl object (schema in docs/lifecycle.md)."""
        return {
            "id": self.id,
            "type": self.type,
            "at": self.at,
            "run_id": self.run_id,
            "section": self.section,
            "source": self.source,
            "article_id": self.article_id,
            "cause": self.cause,
            "details": self.details,
        }


def from_row(row: sqlite3.Row) -> dict[str, Any]:
    """An ``events`` row as the alerts.jsonl object."""
    return {
        "id": row["id"],
        "type": row["type"],
        "at": row["at"],
        "run_id": row["run_id"],
        "section": row["section"],
        "source": row["source"],
        "article_id": row["article_id"],
        "cause": row["cause"],
        "details": json.loads(row["details"] or "{}"),
    }


def record(conn: sqlite3.Connection, events: Iterable[Event]) -> int:
    """Insert events (idempotent). Returns how many were new."""
    added = 0
    for ev in events:
        cur = conn.execute(
            "INSERT OR IGNORE INTO events(id, type, at, run_id, section, source, article_id, cause, details) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            (
                ev.id,
                ev.type,
                ev.at,
                ev.run_id,
                ev.section,
                ev.source,
                ev.article_id,
                ev.cause,
                json.dumps(ev.details, ensure_ascii=False),
            ),
        )
        added += cur.rowcount
        if cur.rowcount:
            log.info("event %s %s: %s", ev.type, ev.section, ev.cause)
    return added


def flush_jsonl(conn: sqlite3.Connection, output_dir: str | Path) -> int:
    """Append every event not yet written to ``output/alerts.jsonl``. Returns lines written."""
    rows = conn.execute("SELECT * FROM events WHERE written = 0 ORDER BY seq").fetchall()
    if not rows:
        return 0
    path = Path(output_dir) / ALERTS_FILE
    objs = [from_row(r) for r in rows]
    # Only a flush killed between its append and its UPDATE leaves written lines of unwritten events, and
    # they are the file's last lines: read that much of its tail, not the whole ever-growing file.
    already = jsonl.ids_in_tail(path, sum(len(jsonl.dumps(o)) + 1 for o in objs) * 4 + 65536)
    objs = [o for o in objs if o["id"] not in already]
    jsonl.append_lines(path, objs)
    conn.executemany("UPDATE events SET written = 1 WHERE id = ?", [(r["id"],) for r in rows])
    return len(objs)
