"""Each stored item's text once: rows written before keep ``text`` beside the ``paragraphs`` it joins (and
``text_en`` beside ``paragraphs_en``); they are rewritten in the stored form (``crawler.store.items.row_json``),
which leaves them out and names them. The items and their day-file lines are unchanged, so nothing is exported
again and no change-feed row is written. SQLite reuses the freed pages for new rows; ``VACUUM`` returns them."""

from __future__ import annotations

from crawler.store import items as item_store

BATCH = 2000


def migrate(conn) -> None:
    last = 0
    while True:
        rows = conn.execute(
            "SELECT seq, id, json FROM items WHERE seq > ? ORDER BY seq LIMIT ?", (last, BATCH)
        ).fetchall()
        if not rows:
            break
        last = rows[-1][0]
        compact = []
        for _seq, item_id, text in rows:
            item = item_store.loads(text)
            if item is None:
                continue  # a damaged row stays as it is (verify names it)
            stored = item_store.row_json(item)
            if stored != text:
                compact.append((stored, item_id))
        conn.executemany("UPDATE items SET json = ? WHERE id = ?", compact)
