-- Whether the crawler reaches the network (crawler/lifecycle/offline.py): one row, id 1. A run in which
-- every host failed at the network level is offline; `crawler_offline` fires after hysteresis_runs of them.
CREATE TABLE IF NOT EXISTS connectivity (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    state        TEXT NOT NULL DEFAULT 'online',   -- online | offline (confirmed: crawler_offline fired)
    runs         INTEGER NOT NULL DEFAULT 0,       -- consecutive offline runs up to last_run_id (0: it reached the network)
    since        TEXT,                             -- start of the first of them
    first_run_id INTEGER,
    cause        TEXT,                             -- the last offline run's failures in words
    last_run_id  INTEGER                           -- the last run folded in (a stage rerun folds nothing twice)
);
