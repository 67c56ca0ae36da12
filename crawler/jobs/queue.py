"""The job queue: a procrastinate app on the state's PostgreSQL database, and how its workers run.

The queue lives in the same database as the state (``NEWSMON_DATABASE_URL`` or ``[state] url``), in
procrastinate's own tables (``procrastinate_*``), created by procrastinate's schema manager the first time
a cycle is enqueued or a worker starts (``ensure_schema``: once, whoever comes first).

A dead worker's jobs: every worker sends a heartbeat every ``HEARTBEAT_SECONDS``; a worker silent for
``STALLED_AFTER_SECONDS`` is pruned, and its ``doing`` jobs are put back to ``todo`` by the periodic
``retry_stalled`` job (every ``RETRY_STALLED_CRON``) and by a waiting cycle job at each look, so another
worker takes them over.
"""

from __future__ import annotations

from typing import Any

from crawler import state
from crawler.exceptions import NewsmonError

QUEUES = {"crawl": ["crawl"], "translation": ["translation"], "all": ["crawl", "translation"]}
HEARTBEAT_SECONDS = 2.0
STALLED_AFTER_SECONDS = 10.0
RETRY_STALLED_CRON = "* * * * * */5"  # every 5 seconds (procrastinate's sixth column)
POLL_SECONDS = 2.0  # a waiting cycle job looks again after this long


def database_url() -> str:
    """The PostgreSQL URL of the queue (the state's); a one-line error when the state is the SQLite file."""
    url = state.database_url()
    if not url:
        raise NewsmonError(
            "jobs need a PostgreSQL database: set [state] url (or NEWSMON_DATABASE_URL) to "
            "postgresql://user@host/dbname"
        )
    return url


SCHEMA_PRESENT = "SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS present"
SCHEMA_LOCK = "SELECT pg_advisory_xact_lock(hashtext('newsmon procrastinate schema'))"


def ensure_schema(url: str) -> None:
    """Create procrastinate's tables unless they exist: procrastinate's own schema file, applied in one
    transaction under an advisory lock (two workers starting together create it once)."""
    import procrastinate
    import psycopg

    with psycopg.connect(url) as conn:  # one transaction: committed when the block ends
        conn.execute(SCHEMA_LOCK)
        row = conn.execute(SCHEMA_PRESENT).fetchone()
        if row and not row[0]:
            conn.execute(procrastinate.schema.SchemaManager.get_schema())


def worker_options(queue: str, concurrency: int, name: str | None = None) -> dict[str, Any]:
    return {
        "queues": QUEUES[queue],
        "concurrency": concurrency,
        "name": name,
        "wait": True,
        "update_heartbeat_interval": HEARTBEAT_SECONDS,
        "stalled_worker_timeout": STALLED_AFTER_SECONDS,
        "delete_jobs": "successful",
        "install_signal_handlers": True,
    }
