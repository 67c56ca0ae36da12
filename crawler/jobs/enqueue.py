"""``newsmon run --distributed``: one cycle put on the queue, then waited for until its run row closes.

The cycle's restore (temp files, runs left ``running``, day files) runs here, as in a local cycle; then one
crawl job per host group (``crawler.jobs.plan``) and the cycle job that closes it. The run row is closed by
the cycle job on a worker; this process reads it every ``WAIT_POLL_SECONDS`` and prints the same summary as a
local run. Stopped while waiting (Ctrl-C, SIGTERM), it leaves the cycle to the workers.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time

from crawler import state
from crawler.config import Config
from crawler.exceptions import NewsmonError
from crawler.jobs.app import make_app
from crawler.jobs.plan import crawl_jobs
from crawler.jobs.queue import database_url, ensure_schema
from crawler.runner import CycleResult, restore, start_run, today

log = logging.getLogger(__name__)
WAIT_POLL_SECONDS = 1.0
NO_WORKER_WARNING_SECONDS = 30.0


def run_distributed(config: Config, source_ids: list[str] | None = None, refetch: bool = False) -> CycleResult:
    from crawler.crawl import settings as scrapy_settings

    selected = config.select(source_ids)
    scrapy_settings.crawler_table(selected)  # a bad [crawler] table fails before a run is opened
    url = database_url()
    ensure_schema(url)
    output_dir, day = config.output_dir, today()
    try:
        run_id = start_run(output_dir)
    except (OSError, sqlite3.Error) as exc:
        raise NewsmonError(f"{output_dir}: cannot open the state database: {exc}") from None
    restore(output_dir, run_id)
    enqueue(url, run_id, day, config, selected, refetch)
    return wait_for_run(config, run_id, day)


def enqueue(url: str, run_id: int, day: str, config: Config, selected: Config, refetch: bool) -> list[int]:
    """The crawl jobs of the cycle and the job that closes it; the crawl jobs' ids."""
    from procrastinate.exceptions import AlreadyEnqueued

    app = make_app(url)
    ids = []
    with app.open():
        for job in crawl_jobs(config.sections, selected.sections):
            task = app.configure_task("newsmon:crawl_group", lock=job.lock, queueing_lock=job.lock)
            try:
                ids.append(
                    task.defer(run_id=run_id, day=day, lock=job.lock, sections=list(job.sections), refetch=refetch)
                )
            except AlreadyEnqueued:  # an earlier cycle's job for these hosts still waits: it crawls them
                log.warning("%s: a crawl job for these hosts is already queued; not queued again", job.lock)
        sections = [s.key for s in selected.sections]
        app.configure_task("newsmon:close_cycle").defer(run_id=run_id, day=day, sections=sections, crawl_jobs=ids)
    log.info("run %s: %d crawl job(s) queued", run_id, len(ids))
    return ids


def wait_for_run(config: Config, run_id: int, day: str) -> CycleResult:
    warn_at = time.monotonic() + NO_WORKER_WARNING_SECONDS
    while True:
        if warn_at and time.monotonic() > warn_at:
            warn_at = 0
            if not workers_alive(database_url()):
                log.warning("run %s waits for a worker: no `newsmon worker` is taking jobs from the queue", run_id)
        conn = state.connect(config.output_dir)
        try:
            row = conn.execute("SELECT status, summary FROM runs WHERE id = ?", (run_id,)).fetchone()
        finally:
            conn.close()
        if row["status"] != "running":
            summary = json.loads(row["summary"] or "{}")
            return CycleResult(
                run_id, day, row["status"], config.output_dir, summary.get("sections", {}), summary.get("stages", {})
            )
        time.sleep(WAIT_POLL_SECONDS)


def workers_alive(url: str) -> int:
    """Workers registered with the queue (each removes itself as it stops; a dead one is pruned)."""
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM procrastinate_workers").fetchone()
    return int(row[0]) if row else 0
