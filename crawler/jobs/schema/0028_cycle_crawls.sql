-- Distributed cycles (crawler/jobs): what each crawl job of a cycle reported, written by the job's crawl
-- process when its host group is done; the cycle's closing job reads them into the run's summary.
CREATE TABLE IF NOT EXISTS cycle_crawls (
    run_id      INTEGER NOT NULL,               -- runs.id of the cycle
    group_key   TEXT NOT NULL,                  -- the host group's lock name (crawler.jobs.plan.lock_of)
    reports     TEXT NOT NULL,                  -- JSON: section key → SectionReport.as_dict()
    finished_at TEXT NOT NULL,
    PRIMARY KEY (run_id, group_key)
);
