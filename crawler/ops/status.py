"""``newsmon status``: what ran, what is wrong, what waits — read from the state DB, never written.

``collect(config) -> dict`` gathers the report (also the ``--json`` output); ``report["attention"]`` lists
what needs a human, in words, and the command exits 1 when it is not empty. Sections' states are what the
lifecycle holds (``crawler.lifecycle.sectionstate``, the reader the digest uses too); a section it has never
seen falls back to its latest ``section_snapshots`` row. A section whose extraction is degraded or whose
items are off its ``subject`` needs attention too.

An offline crawler (the last run(s) failed at the network level on every host, ``crawler.lifecycle.offline``)
is one line: not "the last run failed", nor a line per section whose only news is that failure.

It stays fast on a large archive: only small tables, indexed columns and one pass over
``section_snapshots``; the disk figures never walk the raw pages (see ``disk_use``).
"""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from crawler import state
from crawler.config import Config
from crawler.lifecycle import offline
from crawler.lifecycle.sectionstate import HeldState, Judgement, section_states
from crawler.ops.lock import current_holder, pid_alive
from crawler.ops.plan import ScheduleSettings, load_settings
from crawler.store import items as item_store
from crawler.wording import plural

ATTENTION_STATES = {"gone", "broken", "erroring", "empty", "failing"}
BAD_RUN_STATES = {"failed", "crashed"}
BAD_SCHEDULED = {"failed", "missed"}
RECENT_RUNS = 5


def collect(config: Config, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    settings = load_settings(config)
    out = config.output_dir
    report: dict[str, Any] = {
        "output_dir": str(out),
        "checked_at": now.isoformat(timespec="seconds"),
        "disk": disk_use(out),
    }
    if not state.exists(out):
        report["attention"] = [f"no state DB in {out}: no cycle has run there yet"]
        return report
    holder = current_holder(out)
    report["cycle_running"] = holder.__dict__ if holder else None
    with closing(state.connect(out)) as conn:
        connectivity = offline.load(conn)
        report["offline"] = connectivity.__dict__ if connectivity.offline else None
        report["runs"] = recent_runs(conn, running=holder is not None, connectivity=connectivity)
        report["scheduler"] = scheduler_info(conn)
        report["sections"] = sections(conn, [s.key for s in config.sections], connectivity)
        report["translations"] = pending_translations(conn)
        report["alerts"] = alerts(conn)
    report["attention"] = attention(report, settings, now)
    return report


def disk_use(out: Path) -> dict[str, Any]:
    """Free space on the output directory's file system (what an operator acts on), and what the state DB
    and the day files take. The raw pages are not counted: summing them means a stat per page, which
    made ``status`` slow on a large archive; ``du -sh output/raw`` tells when it matters."""
    probe = out if out.exists() else Path.cwd()
    usage = shutil.disk_usage(probe)
    return {
        "free_bytes": usage.free,
        "total_bytes": usage.total,
        "state_db_bytes": _sizes(out.glob(f"{state.DB_NAME}*")),
        "day_files_bytes": _sizes(
            f for day in out.glob("[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]") if day.is_dir() for f in day.iterdir()
        ),
    }


def _sizes(paths) -> int:
    total = 0
    for path in paths:
        try:
            total += path.stat().st_size
        except OSError:
            pass  # a temp file renamed away while we look
    return total


def recent_runs(
    conn: sqlite3.Connection, running: bool, connectivity: offline.Connectivity = offline.Connectivity()
) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT id, started_at, finished_at, status, summary FROM runs ORDER BY id DESC LIMIT ?", (RECENT_RUNS,)
    ).fetchall()
    runs = []
    for n, row in enumerate(rows):
        status = row["status"]
        if status == "running" and not (n == 0 and running):
            status = "crashed"  # no process holds the lock: it died without finishing its run row
        elif status == "failed" and _offline_run(row["id"], connectivity):
            status = "offline"  # its failure is the crawler's, said once by the offline line
        runs.append(
            {
                "id": row["id"],
                "started_at": row["started_at"],
                "finished_at": row["finished_at"],
                "status": status,
                "errors": _error_count(row["summary"]),
            }
        )
    return runs


def _error_count(summary: str | None) -> int:
    try:
        data = json.loads(summary or "{}")
    except ValueError:
        return 0
    sections = data.get("sections", data.get("crawl", {})) if isinstance(data, dict) else {}
    if not isinstance(sections, dict):
        return 0
    return sum(len(v.get("errors", [])) for v in sections.values() if isinstance(v, dict))


def scheduler_info(conn: sqlite3.Connection) -> dict[str, Any]:
    proc = conn.execute("SELECT * FROM scheduler_processes ORDER BY started_at DESC LIMIT 1").fetchone()
    up = bool(proc and proc["stopped_at"] is None and proc["host"] == socket.gethostname() and pid_alive(proc["pid"]))
    jobs = [dict(r) for r in conn.execute("SELECT job_id, sections, next_run_at FROM schedule_jobs ORDER BY job_id")]
    for job in jobs:
        job["sections"] = json.loads(job["sections"])
        last = conn.execute(
            "SELECT scheduled_for, started_at, finished_at, status, exit_code, detail "
            "FROM schedule_runs WHERE job_id=? ORDER BY id DESC LIMIT 1",
            (job["job_id"],),
        ).fetchone()
        job["last"] = dict(last) if last else None
    since = (datetime.now(UTC) - timedelta(days=7)).isoformat()
    counts = dict(
        conn.execute(
            "SELECT status, count(*) FROM schedule_runs WHERE scheduled_for >= ? GROUP BY status", (since,)
        ).fetchall()
    )
    return {
        "running": up,
        "pid": proc["pid"] if proc else None,
        "started_at": proc["started_at"] if proc else None,
        "stopped_at": proc["stopped_at"] if proc else None,
        "jobs": jobs,
        "last_7_days": counts,
    }


def _offline_run(run_id: int, connectivity: offline.Connectivity) -> bool:
    """``run_id`` belongs to the current offline spell."""
    first, last = connectivity.first_run_id, connectivity.last_run_id
    return connectivity.offline and first is not None and last is not None and first <= run_id <= last


def sections(
    conn: sqlite3.Connection, configured: list[str], connectivity: offline.Connectivity = offline.Connectivity()
) -> list[dict[str, Any]]:
    held = section_states(conn)
    last, ok = _last_snapshots(conn), _last_successes(conn)
    keys = list(dict.fromkeys([*configured, *held]))
    return [_section(key, held.get(key), last.get(key), ok.get(key), connectivity) for key in keys]


def _last_snapshots(conn: sqlite3.Connection) -> dict[str, sqlite3.Row]:
    """Section key → its latest snapshot, in one pass (the table has no index on section; SQLite takes the
    other columns from the row holding ``max(run_id)``)."""
    rows = conn.execute(
        "SELECT section, checked_at, http_status, error, links_found, not_modified, "
        "max(run_id) AS run_id FROM section_snapshots GROUP BY section"
    )
    return {r["section"]: r for r in rows}


def _last_successes(conn: sqlite3.Connection) -> dict[str, str]:
    rows = conn.execute(
        "SELECT section, max(checked_at) FROM section_snapshots WHERE error IS NULL "
        "AND links_found > 0 AND (not_modified=1 OR http_status BETWEEN 200 AND 399) "
        "GROUP BY section"
    )
    return {r[0]: r[1] for r in rows}


def _section(
    key: str,
    held: HeldState | None,
    last,
    last_success: str | None,
    connectivity: offline.Connectivity = offline.Connectivity(),
) -> dict[str, Any]:
    if held is not None:
        st, since, cause = held.state, held.since, held.cause
    elif last is not None and _offline_run(last["run_id"], connectivity):
        # never judged, and only ever tried offline: nothing is known about the section itself yet
        st, since, cause = "offline", last["checked_at"], None
    else:
        st, since, cause = _snapshot_state(last)
    pending = {"state": held.pending_state, "runs": held.pending_count} if held and held.pending_state else None
    stale = {"last_new_at": held.last_new_at} if held and held.stale and held.state == "active" else None
    return {
        "section": key,
        "state": st,
        "since": since,
        "cause": cause,
        "last_success": last_success,
        "last_checked": last["checked_at"] if last else None,
        "pending": pending,
        "stale": stale,
        "extraction": _bad(held.degraded if held else None),
        "subject": _bad(held.off_subject if held else None),
    }


def _bad(judgement: Judgement | None) -> dict | None:
    return {"since": judgement.since, "cause": judgement.cause} if judgement else None


def _snapshot_state(last) -> tuple[str, str | None, str | None]:
    """Without a lifecycle verdict: judge the latest snapshot alone."""
    if last is None:
        return "never checked", None, None
    if last["error"] or (last["http_status"] or 0) >= 400:
        return "failing", last["checked_at"], last["error"] or f"HTTP {last['http_status']}"
    if not last["links_found"] and not last["not_modified"]:
        return "empty", last["checked_at"], "no article links on the entry point"
    return "ok", last["checked_at"], None


def pending_translations(conn: sqlite3.Connection) -> dict[str, int]:
    """Items waiting for a translation, and items whose translation failed: counts on the indexed
    ``items.translation_status`` (``crawler.store.items``), no item JSON read."""
    return {
        status: sum(item_store.count_by_translation_status(conn, [status]).values()) for status in ("pending", "failed")
    }


def alerts(conn: sqlite3.Connection) -> dict[str, int]:
    """Alert deliveries: undelivered = a delivery failed (the alerts stage retries it next run)."""
    row = conn.execute("SELECT sum(status='undelivered'), sum(status='pending') FROM event_deliveries").fetchone()
    return {"undelivered": row[0] or 0, "pending": row[1] or 0}


def attention(report: dict[str, Any], settings: ScheduleSettings, now: datetime) -> list[str]:
    out = [offline.status_line(offline.Connectivity(**report["offline"]))] if report.get("offline") else []
    out += _run_attention(report["runs"], settings, now)
    out += _scheduler_attention(report["scheduler"])
    for sec in report["sections"]:
        if sec["state"] in ATTENTION_STATES:
            out.append(
                f"section {sec['section']} is {sec['state']} since {sec['since']}: {sec['cause']} "
                f"(last success: {sec['last_success'] or 'never'})"
            )
        if sec.get("extraction"):
            out.append(
                f"section {sec['section']}: extraction degraded since {sec['extraction']['since']}: "
                f"{sec['extraction']['cause']}"
            )
        if sec.get("subject"):
            out.append(
                f"section {sec['section']}: off subject since {sec['subject']['since']}: {sec['subject']['cause']}"
            )
    if report["alerts"]["undelivered"]:
        out.append(
            f"{report['alerts']['undelivered']} alert deliveries failed (retried at the next run): see `newsmon alerts`"
        )
    if report["disk"]["free_bytes"] < settings.min_free_mb * 1e6:
        out.append(f"only {report['disk']['free_bytes'] / 1e6:.0f} MB free under {report['output_dir']}")
    return out


def _run_attention(runs: list[dict], settings: ScheduleSettings, now: datetime) -> list[str]:
    out = []
    if runs and runs[0]["status"] in BAD_RUN_STATES:
        out.append(f"the last run (#{runs[0]['id']}, {runs[0]['started_at']}) {runs[0]['status']}")
    finished = [r["finished_at"] for r in runs if r["finished_at"]]
    if not finished:
        out.append("no cycle has finished yet")
    elif now - datetime.fromisoformat(max(finished)) > timedelta(hours=settings.stale_after_hours):
        out.append(f"no cycle has finished since {max(finished)} (more than {settings.stale_after_hours:g} h)")
    return out


def _scheduler_attention(info: dict[str, Any]) -> list[str]:
    out = []
    for job in info["jobs"]:
        last = job["last"]
        if last and last["status"] in BAD_SCHEDULED:
            out.append(
                f"the last scheduled cycle of {job['job_id']} {last['status']} "
                f"(scheduled for {last['scheduled_for']}, exit status {last['exit_code']})"
            )
    return out


def render(report: dict[str, Any]) -> str:
    """The report as plain lines for a terminal, cron mail or a log."""
    disk = report["disk"]
    lines = [
        f"newsmon status of {report['output_dir']} at {report['checked_at']}: "
        f"{disk['free_bytes'] / 1e9:.1f} GB free of {disk['total_bytes'] / 1e9:.1f} GB; state DB "
        f"{disk['state_db_bytes'] / 1e6:.1f} MB, day files {disk['day_files_bytes'] / 1e6:.1f} MB"
    ]
    if "runs" in report:
        lines += _render_state(report)
    attn = report["attention"]
    lines.append("attention:" if attn else "all well: nothing needs attention")
    lines += [f"  ! {a}" for a in attn]
    return "\n".join(lines)


def _render_state(report: dict[str, Any]) -> list[str]:
    holder, sched = report["cycle_running"], report["scheduler"]
    lines = [f"cycle: running, pid {holder['pid']} since {holder['started_at']}" if holder else "cycle: idle"]
    lines.append(
        f"scheduler: running, pid {sched['pid']} since {sched['started_at']}"
        if sched["running"]
        else f"scheduler: not running (stopped {sched['stopped_at']})"
        if sched["pid"]
        else "scheduler: never started on this output directory"
    )
    for job in sched["jobs"]:
        last = job["last"] or {}
        lines.append(
            f"  {job['job_id']}: next {job['next_run_at'] or '-'}; last {last.get('status', '-')} "
            f"{last.get('scheduled_for', '')} ({plural(len(job['sections']), 'section')})"
        )
    if sched["last_7_days"]:
        lines.append("  last 7 days: " + ", ".join(f"{n} {s}" for s, n in sorted(sched["last_7_days"].items())))
    lines.append("runs:")
    for r in report["runs"]:
        errors = f" ({plural(r['errors'], 'error')})" if r["errors"] else ""
        lines.append(f"  #{r['id']} {r['started_at']} → {r['finished_at'] or '…'} {r['status']}{errors}")
    if not report["runs"]:
        lines.append("  none")
    lines.append("sections:")
    for s in report["sections"]:
        lines.append(
            f"  {s['section']:<36} {s['state']:<10} last success {s['last_success'] or 'never'}"
            + (f" — {s['cause']}" if s["state"] in ATTENTION_STATES and s["cause"] else "")
        )
        if s.get("pending"):
            runs = "run" if s["pending"]["runs"] == 1 else f"{s['pending']['runs']} runs"
            lines.append(f"  {'':<36} {s['pending']['state']} on the last {runs}, not confirmed yet")
        if s.get("stale"):
            lines.append(f"  {'':<36} stale — no new item since {s['stale']['last_new_at']}")
        if s.get("extraction"):
            lines.append(f"  {'':<36} extraction degraded — {s['extraction']['cause']}")
        if s.get("subject"):
            lines.append(f"  {'':<36} off subject — {s['subject']['cause']}")
    t, a = report["translations"], report["alerts"]
    lines.append(f"translations: {t['pending']} pending, {t['failed']} failed")
    lines.append(f"alerts: {a['undelivered']} undelivered, {a['pending']} pending delivery")
    return lines
