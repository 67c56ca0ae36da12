-- Extraction health of sections (crawler/lifecycle/health.py, healthdb.py). Times are ISO-8601 UTC strings.
-- New tables rather than new section_snapshots/section_states columns: every schema file is applied on every
-- connect (crawler/state.py), and CREATE … IF NOT EXISTS is what upgrades an existing DB.

-- What each run extracted in each section: the items it stored and the article pages it could not read.
CREATE TABLE IF NOT EXISTS section_health (
    run_id       INTEGER NOT NULL,
    section      TEXT NOT NULL,                   -- "source/section"
    checked_at   TEXT NOT NULL,
    items        INTEGER NOT NULL DEFAULT 0,      -- items the run stored
    median_chars INTEGER,                         -- their median text length (characters); NULL without items
    dated        INTEGER NOT NULL DEFAULT 0,      -- of which with a publication date
    short        INTEGER NOT NULL DEFAULT 0,      -- of which shorter than [lifecycle] short_text_chars
    pages        INTEGER NOT NULL DEFAULT 0,      -- article pages that answered (an article extracted or not)
    failed       INTEGER NOT NULL DEFAULT 0,      -- of which yielded no article (new template, bot wall …)
    failure      TEXT,                            -- the first of those, in words
    verdict      TEXT,                            -- ok | degraded | NULL (not judged: no history, too few pages)
    cause        TEXT,                            -- the verdict in words
    state        TEXT NOT NULL DEFAULT 'ok',      -- the section's extraction state after this run: ok | degraded
    PRIMARY KEY (run_id, section)
);
CREATE INDEX IF NOT EXISTS section_health_section ON section_health(section, run_id);

-- The current extraction state of every section judged at least once (with hysteresis, as section_states).
CREATE TABLE IF NOT EXISTS extraction_states (
    section       TEXT PRIMARY KEY,
    state         TEXT NOT NULL DEFAULT 'ok',     -- ok | degraded
    since         TEXT,
    cause         TEXT,                           -- the last verdict in words
    pending_count INTEGER NOT NULL DEFAULT 0,     -- consecutive judged runs found degraded, not yet confirmed
    pending_since TEXT,
    last_run_id   INTEGER
);

-- The items a run first stored in a section: read every run by the health measure, the subject measure
-- (37-subject.sql) and the lifecycle's new items; articles_section alone walks the section's whole history.
CREATE INDEX IF NOT EXISTS articles_run ON articles(run_id, section);
