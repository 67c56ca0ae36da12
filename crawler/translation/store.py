"""Pending items in the state DB, and writing their translation back to the DB row and the JSONL line.

Order of writes, per day: first the day's ``items.jsonl`` is rewritten atomically (temp + rename, through
``crawler.jsonl.rewrite``), then the ``items`` rows are updated in one transaction. A kill between the two
leaves the rows ``pending``: the next run translates them again (from the memory, without the model) and
rewrites the same lines — never a second line. Only the translation fields of a line are replaced, and only
on the line of the same id and content hash: the line of an article's first version stays as it was when a
later (edited) version, which lives in the ``items`` row only, is translated.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

from crawler import jsonl, state
from crawler.items import TRANSLATION_FIELDS

log = logging.getLogger(__name__)

_SELECT = """
SELECT id, day, json FROM items
WHERE json_extract(json, '$.translation.status') IN ({statuses})
   OR (json_extract(json, '$.translation') IS NULL AND json_extract(json, '$.lang') IN ({langs}))
ORDER BY day, id
"""


def pending_items(conn: sqlite3.Connection, statuses: tuple[str, ...], langs: tuple[str, ...]
                  ) -> list[tuple[str, dict]]:
    """``(day, item)`` for every item whose translation status is one of ``statuses``."""
    sql = _SELECT.format(statuses=",".join("?" * len(statuses)), langs=",".join("?" * len(langs)))
    out = []
    for row in conn.execute(sql, (*statuses, *langs)):
        try:
            out.append((row["day"], json.loads(row["json"])))
        except ValueError as exc:
            log.warning("items row %s holds no valid JSON (%s); skipped", row["id"], exc)
    return out


def count_by_status(conn: sqlite3.Connection) -> dict[str, int]:
    rows = conn.execute("SELECT json_extract(json, '$.translation.status') AS s, count(*) AS n "
                        "FROM items GROUP BY s")
    return {row["s"] or "none": row["n"] for row in rows}


def save(conn: sqlite3.Connection, output_dir: Path, day: str, updates: dict[str, tuple[str, dict]]) -> int:
    """Write ``updates`` (item id → (content_hash, translation fields)) of one day. Returns lines changed."""
    path = Path(output_dir) / day / "items.jsonl"

    def update(obj: dict) -> dict | None:
        hit = updates.get(obj.get("id"))
        if hit is None or obj.get("content_hash") != hit[0]:
            return None
        return {**obj, **hit[1]}

    changed = jsonl.rewrite(path, update) if path.exists() else 0
    if changed < len(updates):   # e.g. an edited version (issue 4): its line keeps the first version
        log.info("%s: %s of %s translated items have no line of that version there; DB rows updated",
                 path, len(updates) - changed, len(updates))
    with state.transaction(conn):
        for item_id, (content_hash, fields) in updates.items():
            _update_row(conn, item_id, content_hash, fields)
    return changed


def _update_row(conn: sqlite3.Connection, item_id: str, content_hash: str, fields: dict) -> None:
    row = conn.execute("SELECT json FROM items WHERE id=?", (item_id,)).fetchone()
    if row is None:
        return
    item = json.loads(row["json"])
    if item.get("content_hash") != content_hash:
        log.info("item %s changed while being translated; its new version stays pending", item_id)
        return
    item.update({k: fields[k] for k in TRANSLATION_FIELDS})
    conn.execute("UPDATE items SET json=? WHERE id=?", (jsonl.dumps(item), item_id))
