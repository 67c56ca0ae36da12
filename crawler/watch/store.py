"""Watch hits in the state DB and on the items (the ``watch`` field, set through the item store).

Which items to match: the item change feed (``crawler.store.items``, consumer ``watch``), changes of the
title, the text or their translations only — setting the ``watch`` field itself queues nothing. One
transaction per chunk sets the fields, the ``watch_hits`` rows and records the events; the cursor moves once
every chunk is committed, so a kill in between leaves the items to match again: the same hits, and event
ids are stable, so nothing is announced twice.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass, field

from crawler import state
from crawler.items import section_key, utc_now
from crawler.lifecycle import events
from crawler.lifecycle.events import Event
from crawler.store import items as item_store
from crawler.watch.matcher import Hit

log = logging.getLogger(__name__)

FIELD = "watch"  # the item field
CONSUMER = "watch"  # its name on the item change feed
MATCHED_FIELDS = ("title", "text", "title_en", "text_en")


@dataclass
class Stored:
    """An ``items`` row: ``item`` is None when the row holds no valid JSON."""

    id: str
    day: str
    item: dict | None


@dataclass
class Change:
    """The hits of one item, to be written; ``events`` are the announcements of hits new to the item."""

    stored: Stored
    hits: list[Hit]
    events: list[Event] = field(default_factory=list)

    @property
    def value(self) -> list[dict]:
        return [h.as_field() for h in self.hits]


def queued(conn: sqlite3.Connection) -> tuple[list[str], int]:
    """``(ids, up_to)``: items whose matched text changed since the last matching; ``done(up_to)`` after."""
    changed, up_to = item_store.changed_since(conn, CONSUMER, MATCHED_FIELDS)
    return [item_id for item_id, _day in changed], up_to


def done(conn: sqlite3.Connection, up_to: int) -> None:
    item_store.advance(conn, CONSUMER, up_to)


def load(conn: sqlite3.Connection, ids: list[str]) -> list[Stored]:
    """The rows of ``ids`` (those that exist), by day."""
    out = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        sql = f"SELECT id, day, json FROM items WHERE id IN ({','.join('?' * len(chunk))})"
        out += [_stored(row) for row in conn.execute(sql, chunk)]
    return sorted(out, key=lambda s: (s.day, s.id))


def ids_since(conn: sqlite3.Connection, since: str | None) -> list[str]:
    """Every stored item of day ``since`` or later (all when None), oldest day first."""
    rows = conn.execute("SELECT id FROM items WHERE day >= ? ORDER BY day, id", (since or "",))
    return [row[0] for row in rows]


def _stored(row: sqlite3.Row) -> Stored:
    return Stored(row["id"], row["day"], item_store.loads(row["json"]))


def hit_names(conn: sqlite3.Connection, item_id: str) -> dict[str, dict]:
    """Watch name → the stored hit of ``item_id`` (as in the item field)."""
    rows = conn.execute("SELECT * FROM watch_hits WHERE item_id = ?", (item_id,))
    return {r["watch"]: _as_field(r) for r in rows}


def _as_field(row: sqlite3.Row) -> dict:
    """A ``watch_hits`` row as the item field holds it (``Hit.as_field``)."""
    out = {
        "name": row["watch"],
        "phrases": json.loads(row["phrases"]),
        "found": json.loads(row["found"]),
        "in": json.loads(row["fields"]),
    }
    contexts = json.loads(row["contexts"] or "[]")
    if contexts:
        out["contexts"] = contexts
    return out


def save(conn: sqlite3.Connection, changes: list[Change], run_id: int | None) -> int:
    """Write ``changes`` (item field, hit rows, events) in one transaction. Returns new events recorded."""
    now = utc_now()
    added = 0
    with state.transaction(conn):
        for change in changes:
            value = change.value or item_store.REMOVE
            stored = change.stored
            if item_store.update(conn, stored.id, {FIELD: value}, expect_hash=stored.item.get("content_hash")) is None:
                log.info("item %s changed while being matched; it is matched again next time", stored.id)
                continue
            _replace_hits(conn, change, stored.day, now, run_id)
            added += events.record(conn, change.events)
    return added


def _replace_hits(conn: sqlite3.Connection, change: Change, day: str, now: str, run_id: int | None) -> None:
    section = section_key(change.stored.item)
    names = [h.name for h in change.hits]
    conn.execute(
        f"DELETE FROM watch_hits WHERE item_id = ? AND watch NOT IN ({','.join('?' * len(names))})",
        (change.stored.id, *names),
    )
    for hit in change.hits:
        conn.execute(
            "INSERT INTO watch_hits(item_id, watch, day, section, phrases, found, fields, contexts, "
            "first_matched_at, matched_at, run_id) VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(item_id, watch) "
            "DO UPDATE SET day = excluded.day, section = excluded.section, phrases = excluded.phrases, "
            "found = excluded.found, fields = excluded.fields, contexts = excluded.contexts, "
            "matched_at = excluded.matched_at",
            (
                change.stored.id,
                hit.name,
                day,
                section,
                _dumps(hit.phrases),
                _dumps(hit.found),
                _dumps(hit.fields),
                _dumps(hit.contexts),
                now,
                now,
                run_id,
            ),
        )


def _dumps(values) -> str:
    return json.dumps(list(values), ensure_ascii=False)


# ---------------------------------------------------------------- reading (``newsmon watch``, the digest)


def hits(conn: sqlite3.Connection, since: str | None = None, names: list[str] | None = None) -> list[dict]:
    """Stored hits joined with their item, oldest day first: {watch, day, section, phrases, found, in,
    contexts, item}."""
    where, args = ["h.day >= ?"], [since or ""]
    if names:
        where.append(f"h.watch IN ({','.join('?' * len(names))})")
        args += names
    rows = conn.execute(
        f"SELECT h.*, i.json AS item FROM watch_hits h LEFT JOIN items i ON i.id = h.item_id "
        f"WHERE {' AND '.join(where)} ORDER BY h.day, h.section, h.watch, h.item_id",
        args,
    )
    out = []
    for row in rows:
        item = item_store.loads(row["item"]) or {}
        out.append(
            {
                "watch": row["watch"],
                "day": row["day"],
                "section": row["section"],
                "item_id": row["item_id"],
                "phrases": json.loads(row["phrases"]),
                "found": json.loads(row["found"]),
                "in": json.loads(row["fields"]),
                "contexts": json.loads(row["contexts"] or "[]"),
                "first_matched_at": row["first_matched_at"],
                "item": item,
            }
        )
    return out
