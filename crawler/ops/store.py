"""The scheduler's rows in the state DB (``schema/50-schedule.sql``): jobs, scheduled runs, processes.

Each function opens its own short connection: the scheduler writes from its main thread, the worker
thread and APScheduler's event callbacks, and ``sqlite3`` connections must not cross threads.
"""

from __future__ import annotations

import json
import os
import socket
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from crawler import state
from crawler.items import utc_now
from crawler.ops.lock import pid_alive

RESUMABLE = ("running", "interrupted")


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat()


def parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def save_jobs(output_dir: Path, jobs: list[tuple[str, tuple[str, ...]]]) -> None:
    """Make ``schedule_jobs`` hold exactly these jobs, keeping the stored next run of known ones."""
    with closing(state.connect(output_dir)) as conn, state.transaction(conn):
        ids = [job_id for job_id, _ in jobs]
        conn.execute(f"DELETE FROM schedule_jobs WHERE job_id NOT IN ({','.join('?' * len(ids))})", ids)
        for job_id, sections in jobs:
            conn.execute(
                "INSERT INTO schedule_jobs(job_id, sections, updated_at) VALUES (?,?,?) "
                "ON CONFLICT(job_id) DO UPDATE SET sections=excluded.sections, "
                "updated_at=excluded.updated_at",
                (job_id, json.dumps(list(sections)), utc_now()),
            )


def resume_time(output_dir: Path, job_id: str) -> datetime | None:
    """When a restarted scheduler should next run ``job_id``: an interrupted run again, else as stored."""
    with closing(state.connect(output_dir)) as conn:
        last = conn.execute(
            "SELECT status, scheduled_for FROM schedule_runs WHERE job_id=? ORDER BY id DESC LIMIT 1", (job_id,)
        ).fetchone()
        if last and last["status"] in RESUMABLE:
            return parse(last["scheduled_for"])
        row = conn.execute("SELECT next_run_at FROM schedule_jobs WHERE job_id=?", (job_id,)).fetchone()
        return parse(row["next_run_at"]) if row else None


def set_next_run(output_dir: Path, job_id: str, when: datetime | None) -> None:
    with closing(state.connect(output_dir)) as conn:
        conn.execute(
            "UPDATE schedule_jobs SET next_run_at=?, updated_at=? WHERE job_id=?",
            (iso(when) if when else None, utc_now(), job_id),
        )


def start_run(output_dir: Path, job_id: str, scheduled_for: datetime) -> int:
    with closing(state.connect(output_dir)) as conn:
        cur = conn.execute(
            "INSERT INTO schedule_runs(job_id, scheduled_for, started_at, status, "
            "scheduler_pid) VALUES (?,?,?,'running',?)",
            (job_id, iso(scheduled_for), utc_now(), os.getpid()),
        )
        assert cur.lastrowid is not None  # an INSERT into a rowid table always sets it
        return cur.lastrowid


def finish_run(
    output_dir: Path, row_id: int, status: str, exit_code: int | None, run_id: int | None, detail: str | None
) -> None:
    with closing(state.connect(output_dir)) as conn:
        conn.execute(
            "UPDATE schedule_runs SET finished_at=?, status=?, exit_code=?, run_id=?, detail=? WHERE id=?",
            (utc_now(), status, exit_code, run_id, detail, row_id),
        )


def record_missed(output_dir: Path, job_id: str, scheduled_for: datetime, detail: str) -> None:
    with closing(state.connect(output_dir)) as conn:
        conn.execute(
            "INSERT INTO schedule_runs(job_id, scheduled_for, finished_at, status, scheduler_pid, "
            "detail) VALUES (?,?,?,'missed',?,?)",
            (job_id, iso(scheduled_for), utc_now(), os.getpid(), detail),
        )


def last_run_id(output_dir: Path) -> int:
    with closing(state.connect(output_dir)) as conn:
        return int(conn.execute("SELECT coalesce(max(id), 0) FROM runs").fetchone()[0])


def run_status(output_dir: Path, run_id: int) -> str | None:
    with closing(state.connect(output_dir)) as conn:
        row = conn.execute("SELECT status FROM runs WHERE id=?", (run_id,)).fetchone()
        return row["status"] if row else None


def process_started(output_dir: Path) -> str:
    """Record this scheduler process; rows 'running' under a dead scheduler become 'interrupted'."""
    started, host = utc_now(), socket.gethostname()
    with closing(state.connect(output_dir)) as conn, state.transaction(conn):
        for row in conn.execute("SELECT id, scheduler_pid FROM schedule_runs WHERE status='running'").fetchall():
            if row["scheduler_pid"] != os.getpid() and not pid_alive(row["scheduler_pid"]):
                conn.execute(
                    "UPDATE schedule_runs SET status='interrupted', detail=? WHERE id=?",
                    ("the scheduler stopped before this cycle finished", row["id"]),
                )
        conn.execute("UPDATE scheduler_processes SET stopped_at=? WHERE host=? AND stopped_at IS NULL", (started, host))
        conn.execute(
            "INSERT INTO scheduler_processes(pid, host, started_at) VALUES (?,?,?)", (os.getpid(), host, started)
        )
    return started


def process_stopped(output_dir: Path, started: str) -> None:
    with closing(state.connect(output_dir)) as conn:
        conn.execute(
            "UPDATE scheduler_processes SET stopped_at=? WHERE pid=? AND host=? AND started_at=?",
            (utc_now(), os.getpid(), socket.gethostname(), started),
        )
