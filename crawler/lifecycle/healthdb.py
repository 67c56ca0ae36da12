"""Extraction health rows: measure each section of a run from the items it stored and the crawl report,
judge it against the section's history (``crawler.lifecycle.health``), keep ``section_health`` and
``extraction_states`` (``schema/35-health.sql``), record the events. Called by the lifecycle stage; read by
``newsmon status`` (``degraded_sections``) and the digest (``degraded_in_runs``).
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import asdict, fields

from crawler import state
from crawler.lifecycle import events, judged
from crawler.lifecycle.health import HealthSettings, HealthState, RunHealth, Verdict, judge, measure, step
from crawler.lifecycle.runitems import RunItems

log = logging.getLogger(__name__)

RUN_FIELDS = [f.name for f in fields(RunHealth)]


def update_health(
    conn: sqlite3.Connection, run_id: int, crawl: dict[str, dict], cfg: HealthSettings, items: RunItems | None = None
) -> dict:
    """Measure and judge every section the run looked at (its ``section_snapshots``). Idempotent for a run.
    ``items``: the run's items as the stage has read them already."""
    items = items or RunItems(conn)
    rows = conn.execute(
        "SELECT section, checked_at FROM section_snapshots WHERE run_id = ? ORDER BY section", (run_id,)
    ).fetchall()
    states, emitted = {}, []
    for row in rows:
        old = load_state(conn, row["section"])
        if old.last_run_id is not None and old.last_run_id >= run_id:
            states[row["section"]] = old.state  # already judged (a stage rerun)
            continue
        run = measure_run(items, row["section"], run_id, row["checked_at"], crawl.get(row["section"]) or {}, cfg)
        verdict = judge(run, history(conn, row["section"], run_id, cfg.health_runs), cfg)
        new, evs = step(old, run, verdict, cfg)
        with state.transaction(conn):
            save_run(conn, run, verdict, new.state)
            save_state(conn, new)
            events.record(conn, evs)
        log.debug("%s extraction: %s (%s)", row["section"], verdict.state or "not judged", verdict.cause)
        states[row["section"]] = new.state
        emitted += [e.type for e in evs]
    return {"sections": states, "events": emitted}


def measure_run(items: RunItems, section: str, run_id: int, at: str, report: dict, cfg: HealthSettings) -> RunHealth:
    """The items ``run_id`` stored in ``section`` and its crawl report's pages that yielded no article."""
    failed = int(report.get("unextracted") or 0)
    pages = int(report.get("fetched") or 0) + failed
    return measure(
        section,
        run_id,
        at,
        [(item.text_chars, item.dated) for item in items.of(section, run_id) if item.stored],
        pages,
        failed,
        report.get("unextracted_error"),
        cfg,
    )


def history(conn: sqlite3.Connection, section: str, run_id: int, limit: int) -> list[RunHealth]:
    """The section's last ``limit`` runs before ``run_id`` that had items and looked healthy (newest first):
    a run judged degraded, or stored while the section was degraded, is no yardstick."""
    rows = conn.execute(
        "SELECT section, run_id, checked_at AS at, items, median_chars, dated, short, pages, "
        "failed, failure FROM section_health WHERE section = ? AND run_id < ? AND items > 0 "
        "AND verdict IS NOT 'degraded' AND state = 'ok' ORDER BY run_id DESC LIMIT ?",
        (section, run_id, limit),
    ).fetchall()
    return [RunHealth(**{k: r[k] for k in RUN_FIELDS}) for r in rows]


def save_run(conn: sqlite3.Connection, run: RunHealth, verdict: Verdict, state_after: str) -> None:
    judged.save_run(conn, "section_health", asdict(run), verdict.state, verdict.cause, state_after)


def load_state(conn: sqlite3.Connection, section: str) -> HealthState:
    return judged.load_state(conn, "extraction_states", section, HealthState)


def save_state(conn: sqlite3.Connection, st: HealthState) -> None:
    judged.save_state(conn, "extraction_states", st)


# ---------------------------------------------------------------- readers (status, digest)
def degraded_sections(conn: sqlite3.Connection) -> dict[str, dict]:
    """Section key → {since, cause} of every section whose extraction is degraded now."""
    return judged.bad_now(conn, "extraction_states", "degraded")


def degraded_in_runs(conn: sqlite3.Connection, run_ids: set[int]) -> dict[str, str]:
    """Section key → why its extraction was degraded after the last of ``run_ids`` that judged it."""
    return judged.bad_in_runs(conn, "section_health", "degraded", run_ids)
