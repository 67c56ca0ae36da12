"""The item store: ``items`` gains ``seq`` (line order, stable across VACUUM), ``lang`` and ``translation_status`` (the
translation queue, indexed); its JSON is stored compact (the day file's line exactly); the change feed
(``item_changes``) and its readers' cursors (``feed_cursors``) replace the triggers that queued work on ``items``
(their queues become feed rows in the search and watch features' own steps, 0011 and 0012)."""

from __future__ import annotations

import json


def migrate(conn) -> None:
    conn.execute("""CREATE TABLE items_v2 (
        seq                INTEGER PRIMARY KEY,     -- insertion order: the order of lines in the day file
        id                 TEXT NOT NULL UNIQUE,
        day                TEXT NOT NULL,           -- YYYY-MM-DD of the items.jsonl holding its line
        lang               TEXT,                    -- = json lang (the translation queue is per language)
        translation_status TEXT,                    -- = json translation.status: pending | failed | done | not_needed
        json               TEXT NOT NULL            -- the item, compact UTF-8 JSON (its line in the day file)
    )""")
    rows = conn.execute("SELECT id, day, json FROM items ORDER BY rowid").fetchall()
    conn.executemany(
        "INSERT INTO items_v2(id, day, lang, translation_status, json) VALUES (?, ?, ?, ?, ?)",
        (_row(r[0], r[1], r[2]) for r in rows),
    )
    conn.execute("DROP TABLE items")  # its triggers (search, watch) go with it: see 0011, 0012
    conn.execute("ALTER TABLE items_v2 RENAME TO items")
    conn.execute("CREATE INDEX items_day ON items(day, seq)")
    conn.execute(
        "CREATE INDEX items_translation ON items(translation_status, lang) "
        "WHERE translation_status IN ('pending', 'failed')"
    )
    conn.execute("""CREATE TABLE item_changes (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        item_id TEXT NOT NULL,                     -- '' for a day to export again without an item change
        day     TEXT NOT NULL,
        fields  TEXT NOT NULL                      -- comma-separated fields changed, '*' for the whole item
    )""")
    conn.execute("""CREATE TABLE feed_cursors (
        consumer TEXT PRIMARY KEY,                  -- export | search | watch | stories (crawler.features)
        seq      INTEGER NOT NULL                   -- the last item_changes.seq it has processed
    )""")
    # Every existing day file is brought in line with the DB once (compact JSON, latest versions).
    conn.executemany(
        "INSERT INTO item_changes(item_id, day, fields) VALUES ('', ?, '')",
        [(r[0],) for r in conn.execute("SELECT DISTINCT day FROM items ORDER BY day")],
    )


def _row(ident: str, day: str, text: str) -> tuple:
    try:
        item = json.loads(text)
    except ValueError:
        return ident, day, None, None, text  # kept as found: named by every reader, never lost
    if not isinstance(item, dict):
        return ident, day, None, None, text
    translation = item.get("translation")
    status = (
        translation.get("status")
        if isinstance(translation, dict)
        else ("pending" if item.get("lang") in ("zh", "ru") else None)
    )
    return ident, day, item.get("lang"), status, json.dumps(item, ensure_ascii=False, separators=(",", ":"))
