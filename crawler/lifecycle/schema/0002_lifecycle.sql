-- Section lifecycle, article re-checks and alerts. Times are ISO-8601 UTC strings.
-- Read by `newsmon status` and the digest: columns documented in docs/lifecycle.md.

-- The current lifecycle state of every section ever observed (crawler/lifecycle/machine.py keeps it).
CREATE TABLE IF NOT EXISTS section_states (
    section        TEXT PRIMARY KEY,              -- "source/section"
    state          TEXT NOT NULL,                 -- new | active | empty | gone | broken | erroring
    since          TEXT,                          -- when the section entered this state
    cause          TEXT,                          -- the last observation in words
    pending_state  TEXT,                          -- a different state seen on the last run(s), not yet confirmed
    pending_count  INTEGER NOT NULL DEFAULT 0,    -- consecutive runs it was seen (hysteresis)
    pending_since  TEXT,
    last_run_id    INTEGER,                       -- the last run that observed the section
    last_checked   TEXT,
    last_links     INTEGER,                       -- article links found on the last run
    last_new_at    TEXT,                          -- last run that brought a new item
    stale_alerted  INTEGER NOT NULL DEFAULT 0,    -- 1 once section_stale fired for this quiet spell
    memory         TEXT NOT NULL DEFAULT '{}'     -- JSON: learnt cadence (intervals), typical page size
);

-- Every event, exactly once (id is derived from run, type, section and article, so a rerun of a stage
-- inserts nothing twice). `written` = appended to output/alerts.jsonl; `routed` = delivery rows created.
CREATE TABLE IF NOT EXISTS events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    type       TEXT NOT NULL,
    at         TEXT NOT NULL,
    run_id     INTEGER,
    section    TEXT,                               -- "source/section"
    source     TEXT,
    article_id TEXT,                               -- item id, for article_* events
    cause      TEXT NOT NULL,
    details    TEXT NOT NULL DEFAULT '{}',         -- JSON
    written    INTEGER NOT NULL DEFAULT 0,
    routed     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS events_at ON events(at);
CREATE INDEX IF NOT EXISTS events_type ON events(type, at);

-- Delivery bookkeeping: one row per event and channel whose filter accepts it.
CREATE TABLE IF NOT EXISTS event_deliveries (
    event_id     TEXT NOT NULL REFERENCES events(id),
    channel      TEXT NOT NULL,                    -- channel name from [[alerts.channels]]
    status       TEXT NOT NULL DEFAULT 'pending',  -- pending | delivered | undelivered
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,                             -- redacted: never holds a secret
    last_attempt TEXT,
    delivered_at TEXT,
    PRIMARY KEY (event_id, channel)
);
CREATE INDEX IF NOT EXISTS event_deliveries_status ON event_deliveries(channel, status);

-- Every version of an edited article (version 1 = as first stored). The items table holds the latest.
CREATE TABLE IF NOT EXISTS article_versions (
    article_id   TEXT NOT NULL,
    version      INTEGER NOT NULL,
    fetched_at   TEXT NOT NULL,
    title        TEXT,
    paragraphs   TEXT NOT NULL,                    -- JSON list
    content_hash TEXT NOT NULL,
    raw_path     TEXT,
    diff         TEXT,                             -- JSON: paragraph diff against the previous version
    PRIMARY KEY (article_id, version)
);

-- The last re-check of each recent article.
CREATE TABLE IF NOT EXISTS article_checks (
    article_id  TEXT PRIMARY KEY,
    checked_at  TEXT NOT NULL,
    http_status INTEGER,
    outcome     TEXT NOT NULL      -- unchanged | not_modified | edited | gone (suspected) | deleted (confirmed) | error
);

-- Articles the last re-check(s) found gone (404/410, redirected away), deletion not confirmed yet: the
-- deletion hysteresis (crawler/lifecycle/recheck.py). The row goes when the article answers normally again or
-- when the deletion is confirmed. A new table, not new article_checks columns: every schema file is applied
-- on every connect (crawler/state.py), and CREATE … IF NOT EXISTS is what upgrades an existing DB.
CREATE TABLE IF NOT EXISTS pending_deletions (
    article_id   TEXT PRIMARY KEY,
    checks       INTEGER NOT NULL,                 -- consecutive re-checks that found it gone
    since        TEXT NOT NULL,                    -- the first of them
    last_checked TEXT NOT NULL,
    cause        TEXT NOT NULL,                    -- the last observation in words
    http_status  INTEGER
);
