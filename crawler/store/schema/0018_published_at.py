"""``published_at`` of every stored item in the one stored form, with ``published_precision``
(``crawler.store.published``): dates alone and moments with an offset were mixed before. The ``articles``
rows follow; each day whose items changed is exported again (its day file rewritten from the rows)."""

from __future__ import annotations

import json

from crawler.store.published import normalised

BATCH = 2000


def migrate(conn) -> None:
    days: set[str] = set()
    last = 0
    while True:
        rows = conn.execute(
            "SELECT seq, id, day, json FROM items WHERE seq > ? ORDER BY seq LIMIT ?", (last, BATCH)
        ).fetchall()
        if not rows:
            break
        last = rows[-1][0]
        changed = []
        for _seq, item_id, day, text in rows:
            try:
                item = json.loads(text)
            except ValueError:
                continue  # a damaged row stays as it is (verify names it)
            if not isinstance(item, dict) or normalised(item) is item:
                continue
            item = normalised(item)
            changed.append(
                (json.dumps(item, ensure_ascii=False, separators=(",", ":")), item.get("published_at"), item_id)
            )
            days.add(day)
        conn.executemany("UPDATE items SET json = ? WHERE id = ?", [(j, i) for j, _p, i in changed])
        conn.executemany("UPDATE articles SET published_at = ? WHERE id = ?", [(p, i) for _j, p, i in changed])
    conn.executemany("INSERT INTO item_changes(item_id, day, fields) VALUES ('', ?, '')", [(d,) for d in sorted(days)])
