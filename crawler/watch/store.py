"""Watch hits in the state DB and on the items (``items.json`` and the day's ``items.jsonl`` line).

Writes, per day, in the order the translation store uses (crawler/translation/store.py): first the day's
``items.jsonl`` is rewritten atomically (``crawler.jsonl.rewrite``: the ``watch`` field replaced on the line
with the same id **and** content hash, never a second line), then one transaction updates the ``items``
rows, the ``watch_hits`` rows, records the events and takes the items off the ``watch_pending`` queue. A
kill between the two leaves the items queued: the next run computes the same hits and writes the same
lines again; event ids are stable, so nothing is announced twice.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from crawler import jsonl, state
from crawler.items import section_key, utc_now
from crawler.lifecycle import events
from crawler.lifecycle.events import Event
from crawler.watch.matcher import Hit

log = logging.getLogger(__name__)

FIELD = "watch"                       # the item field


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


def queued_ids(conn: sqlite3.Connection) -> list[str]:
    return [row[0] for row in conn.execute("SELECT id FROM watch_pending ORDER BY id")]


def dequeue(conn: sqlite3.Connection, ids: Iterable[str]) -> None:
    conn.executemany("DELETE FROM watch_pending WHERE id = ?", [(i,) for i in ids])


def load(conn: sqlite3.Connection, ids: list[str]) -> list[Stored]:
    """The rows of ``ids`` (those that exist), by day."""
    out = []
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        sql = f"SELECT id, day, json FROM items WHERE id IN ({','.join('?' * len(chunk))})"
        out += [_stored(row) for row in conn.execute(sql, chunk)]
    return sorted(out, key=lambda s: (s.day, s.id))


def ids_since(conn: sqlite3.Connection, since: str | None) -> list[str]:
    """Every stored item of day ``since`` or later (all when None), oldest day first."""
    rows = conn.execute("SELECT id FROM items WHERE day >= ? ORDER BY day, id", (since or "",))
    return [row[0] for row in rows]


def _stored(row: sqlite3.Row) -> Stored:
    try:
        item = json.loads(row["json"])
    except ValueError:
        item = None
    return Stored(row["id"], row["day"], item if isinstance(item, dict) else None)


def hit_names(conn: sqlite3.Connection, item_id: str) -> dict[str, dict]:
    """Watch name → the stored hit of ``item_id`` (as in the item field)."""
    rows = conn.execute("SELECT * FROM watch_hits WHERE item_id = ?", (item_id,))
    return {r["watch"]: {"name": r["watch"], "phrases": json.loads(r["phrases"]), "found": json.loads(r["found"]),
                         "in": json.loads(r["fields"])} for r in rows}


def save_day(conn: sqlite3.Connection, output_dir: Path, day: str, changes: list[Change],
             run_id: int | None) -> int:
    """Write the changes of one day (line, then rows, hits, events, queue). Returns new events recorded."""
    by_id = {c.stored.id: c for c in changes}
    path = Path(output_dir) / day / "items.jsonl"

    def update(obj: dict) -> dict | None:
        change = by_id.get(obj.get("id"))
        if change is None or obj.get("content_hash") != change.stored.item.get("content_hash"):
            return None            # an edited article's line keeps the first version (and its own hits)
        return with_watch(obj, change.value)

    if path.exists():
        jsonl.rewrite(path, update)
    now = utc_now()
    with state.transaction(conn):
        added = 0
        for change in changes:
            if _update_row(conn, change):
                _replace_hits(conn, change, day, now, run_id)
                added += events.record(conn, change.events)
                dequeue(conn, [change.stored.id])
    return added


def with_watch(obj: dict, value: list[dict]) -> dict:
    """``obj`` with its ``watch`` field set (removed when no watch matches)."""
    out = {k: v for k, v in obj.items() if k != FIELD}
    if value:
        out[FIELD] = value
    return out


def _update_row(conn: sqlite3.Connection, change: Change) -> bool:
    """Set the field on the row, unless the item changed since it was matched (then it is queued again)."""
    row = conn.execute("SELECT json FROM items WHERE id = ?", (change.stored.id,)).fetchone()
    try:
        current = json.loads(row["json"]) if row else None
    except ValueError:
        current = None
    if not isinstance(current, dict) or current.get("content_hash") != change.stored.item.get("content_hash"):
        log.info("item %s changed while being matched; it stays queued", change.stored.id)
        return False
    if current.get(FIELD, []) != change.value:
        conn.execute("UPDATE items SET json = ? WHERE id = ?", (jsonl.dumps(with_watch(current, change.value)),
                                                                change.stored.id))
    return True


def _replace_hits(conn: sqlite3.Connection, change: Change, day: str, now: str, run_id: int | None) -> None:
    section = section_key(change.stored.item)
    names = [h.name for h in change.hits]
    conn.execute(f"DELETE FROM watch_hits WHERE item_id = ? AND watch NOT IN ({','.join('?' * len(names))})",
                 (change.stored.id, *names))
    for hit in change.hits:
        conn.execute(
            "INSERT INTO watch_hits(item_id, watch, day, section, phrases, found, fields, first_matched_at, "
            "matched_at, run_id) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(item_id, watch) DO UPDATE SET "
            "day = excluded.day, section = excluded.section, phrases = excluded.phrases, found = excluded.found, "
            "fields = excluded.fields, matched_at = excluded.matched_at",
            (change.stored.id, hit.name, day, section, _dumps(hit.phrases), _dumps(hit.found), _dumps(hit.fields),
             now, now, run_id))


def _dumps(values) -> str:
    return json.dumps(list(values), ensure_ascii=False)


# ---------------------------------------------------------------- reading (``newsmon watch``, the digest)

def hits(conn: sqlite3.Connection, since: str | None = None, names: list[str] | None = None) -> list[dict]:
    """Stored hits joined with their item, oldest day first: {watch, day, section, phrases, found, in, item}."""
    where, args = ["h.day >= ?"], [since or ""]
    if names:
        where.append(f"h.watch IN ({','.join('?' * len(names))})")
        args += names
    rows = conn.execute(f"SELECT h.*, i.json AS item FROM watch_hits h LEFT JOIN items i ON i.id = h.item_id "
                        f"WHERE {' AND '.join(where)} ORDER BY h.day, h.section, h.watch, h.item_id", args)
    out = []
    for row in rows:
        try:
            item = json.loads(row["item"]) if row["item"] else {}
        except ValueError:
            item = {}
        out.append({"watch": row["watch"], "day": row["day"], "section": row["section"], "item_id": row["item_id"],
                    "phrases": json.loads(row["phrases"]), "found": json.loads(row["found"]),
                    "in": json.loads(row["fields"]), "first_matched_at": row["first_matched_at"], "item": item})
    return out
