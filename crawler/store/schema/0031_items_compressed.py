"""Items rows compressed: rows written before hold their JSON as text; they are stored as the item store
stores them now (``crawler.store.items.compressed``: the same JSON, Zstandard-compressed). The items and their
day-file lines are unchanged, so nothing is exported again and no change-feed row is written. SQLite reuses
the freed pages for new rows; ``VACUUM`` returns them."""

from __future__ import annotations

from crawler.store import items as item_store

BATCH = 2000


def migrate(conn) -> None:
    last = 0
    while True:
        rows = conn.execute(
            "SELECT seq, id, json FROM items WHERE seq > ? AND typeof(json) = 'text' ORDER BY seq LIMIT ?",
            (last, BATCH),
        ).fetchall()
        if not rows:
            break
        last = rows[-1][0]
        conn.executemany(
            "UPDATE items SET json = ? WHERE id = ?",
            [(item_store.compressed(text), item_id) for _seq, item_id, text in rows],
        )
