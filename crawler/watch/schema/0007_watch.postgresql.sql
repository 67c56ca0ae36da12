-- Watch phrases on PostgreSQL: the tables of the SQLite step without its triggers on items (the next steps
-- replace them with the item change feed; a PostgreSQL database starts at the newest schema).

-- The current hits: one row per item and watch that matches it. The item's `watch` field (items.json and
-- its items.jsonl line) says the same; this table is what `newsmon watch` lists and the digest counts.
CREATE TABLE IF NOT EXISTS watch_hits (
    item_id     TEXT NOT NULL,                  -- items.id
    watch       TEXT NOT NULL,                  -- [[watch]] name
    day         TEXT NOT NULL,                  -- the item's items.jsonl day
    section     TEXT NOT NULL,                  -- "source/section"
    phrases     TEXT NOT NULL,                  -- JSON list: the watch's phrases that matched, as configured
    found       TEXT NOT NULL,                  -- JSON list: what the text says ("Путина", "习近平")
    fields      TEXT NOT NULL,                  -- JSON list: title | text | title_en | text_en
    first_matched_at TEXT NOT NULL,
    matched_at  TEXT NOT NULL,                  -- the last time the match was computed with a change
    run_id      INTEGER,                        -- the run that first matched it (NULL: `newsmon watch`)
    PRIMARY KEY (item_id, watch)
);
CREATE INDEX IF NOT EXISTS watch_hits_day ON watch_hits(day);
CREATE INDEX IF NOT EXISTS watch_hits_watch ON watch_hits(watch, day);

-- The queue of items to (re-)match, emptied into the item change feed by step 0012.
CREATE TABLE IF NOT EXISTS watch_pending (
    id TEXT PRIMARY KEY
);
