-- Whether sections' items are still about their configured `subject` (crawler/lifecycle/subject.py,
-- subjectdb.py). New tables, as 35-health.sql: every schema file is applied on every connect (crawler/state.py),
-- and CREATE … IF NOT EXISTS is what upgrades an existing DB. Only sections with a `subject` get rows.

-- Per run and section: how many of the run's new items mention the section's subject.
CREATE TABLE IF NOT EXISTS section_subject (
    run_id       INTEGER NOT NULL,
    section      TEXT NOT NULL,                   -- "source/section"
    checked_at   TEXT NOT NULL,
    items        INTEGER NOT NULL DEFAULT 0,      -- new items the run stored in the section
    on_subject   INTEGER NOT NULL DEFAULT 0,      -- of which mention a subject phrase (original or English)
    examples     TEXT,                            -- JSON list: titles of the first items that do not
    verdict      TEXT,                            -- on | off | NULL (not judged: too few items)
    cause        TEXT,                            -- the verdict in words
    state        TEXT NOT NULL DEFAULT 'on',      -- the section's subject state after this run: on | off
    PRIMARY KEY (run_id, section)
);
CREATE INDEX IF NOT EXISTS section_subject_section ON section_subject(section, run_id);

-- The current subject state of every section judged at least once (with hysteresis, as extraction_states).
CREATE TABLE IF NOT EXISTS subject_states (
    section       TEXT PRIMARY KEY,
    state         TEXT NOT NULL DEFAULT 'on',     -- on | off
    since         TEXT,
    cause         TEXT,                           -- the last verdict in words
    pending_count INTEGER NOT NULL DEFAULT 0,     -- consecutive judged runs found off subject, not yet confirmed
    pending_since TEXT,
    last_run_id   INTEGER
);
