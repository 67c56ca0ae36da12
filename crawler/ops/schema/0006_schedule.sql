-- The scheduler. Times are ISO-8601 UTC strings.

-- One row per scheduled job (sections sharing a schedule share a job). Rewritten from the config on every
-- start; next_run_at survives a restart so a run missed while the scheduler was down still happens
-- (once, if within the misfire grace time).
CREATE TABLE IF NOT EXISTS schedule_jobs (
    job_id      TEXT PRIMARY KEY,                 -- "cron 0 2 * * * Europe/Moscow" or "every 5s"
    sections    TEXT NOT NULL,                    -- JSON list of section keys
    next_run_at TEXT,
    updated_at  TEXT NOT NULL
);

-- One row per scheduled cycle (or missed/skipped run time).
CREATE TABLE IF NOT EXISTS schedule_runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id        TEXT NOT NULL,
    scheduled_for TEXT NOT NULL,
    started_at    TEXT,
    finished_at   TEXT,
    status        TEXT NOT NULL,   -- running | ok | failed | skipped | missed | interrupted
    exit_code     INTEGER,         -- of the `newsmon run` subprocess (negative: killed by that signal)
    run_id        INTEGER,         -- runs.id of the cycle, when it got that far
    scheduler_pid INTEGER NOT NULL,
    detail        TEXT             -- why: the last output lines of a failed cycle, the lock holder, …
);
CREATE INDEX IF NOT EXISTS schedule_runs_job ON schedule_runs(job_id, id);

-- The scheduler process itself (one row per start), so `newsmon status` can tell whether it is up.
CREATE TABLE IF NOT EXISTS scheduler_processes (
    pid        INTEGER NOT NULL,
    host       TEXT NOT NULL,
    started_at TEXT NOT NULL,
    stopped_at TEXT,
    PRIMARY KEY (host, pid, started_at)
);
