-- Core crawl state (foundation). Times are ISO-8601 UTC strings.

-- One row per article ever stored, keyed by canonical URL.
CREATE TABLE IF NOT EXISTS articles (
    canonical_url TEXT PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,        -- the item id (stable: derived from canonical_url)
    source        TEXT NOT NULL,
    section       TEXT NOT NULL,               -- section key "source/section"
    url           TEXT NOT NULL,
    day           TEXT NOT NULL,               -- YYYY-MM-DD of the items.jsonl file holding it
    run_id        INTEGER,                     -- the run that first stored it
    first_seen    TEXT NOT NULL,
    last_fetched  TEXT NOT NULL,
    published_at  TEXT,
    title         TEXT,
    content_hash  TEXT NOT NULL,
    etag          TEXT,
    last_modified TEXT,
    raw_path      TEXT,
    status        TEXT NOT NULL DEFAULT 'ok'   -- ok | deleted
);
CREATE INDEX IF NOT EXISTS articles_section ON articles(section, first_seen);

-- The latest full item (the JSONL object) of every article: digest, search and translation read it here.
CREATE TABLE IF NOT EXISTS items (
    id   TEXT PRIMARY KEY,
    day  TEXT NOT NULL,
    json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS items_day ON items(day);

-- Conditional-GET validators of listing pages and feeds.
CREATE TABLE IF NOT EXISTS http_validators (
    url           TEXT PRIMARY KEY,
    etag          TEXT,
    last_modified TEXT,
    checked_at    TEXT NOT NULL
);

-- One row per cycle.
CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL DEFAULT 'running',   -- running | ok | errors | failed | interrupted
    summary     TEXT                                -- JSON: per-section counts and errors
);

-- What each section's entry point looked like in each run (the section lifecycle reads this).
CREATE TABLE IF NOT EXISTS section_snapshots (
    run_id       INTEGER NOT NULL REFERENCES runs(id),
    section      TEXT NOT NULL,                     -- "source/section"
    checked_at   TEXT NOT NULL,
    url          TEXT NOT NULL,
    http_status  INTEGER,                           -- NULL when no response (DNS, refused, timeout)
    final_url    TEXT,
    error        TEXT,                              -- e.g. "DNSLookupError: ...", "timeout after 30 s"
    page_bytes   INTEGER,
    not_modified INTEGER NOT NULL DEFAULT 0,        -- 1 when answered 304 (links carried from last run)
    links_found  INTEGER NOT NULL DEFAULT 0,
    article_urls TEXT NOT NULL DEFAULT '[]',        -- JSON list, in page order
    fingerprint  TEXT,                              -- sha256 of the sorted URL list (order-insensitive)
    link_rule    TEXT,
    PRIMARY KEY (run_id, section)
);
-- The further pages of multi-page articles (crawler.extract.continuation), merged or missing, keyed by
-- canonical URL: once its article is stored, a further page linked on its own ("…-2.html" in a listing)
-- counts as known and is not fetched (crawler.crawl.store.known_urls).
CREATE TABLE IF NOT EXISTS article_pages (
    canonical_url TEXT PRIMARY KEY,
    article_id    TEXT NOT NULL               -- articles.id of the article it belongs to
);
