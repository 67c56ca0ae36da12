"""Subject rows: measure each section with a ``subject`` from the new items a run stored in it, judge it
(``crawler.lifecycle.subject``), keep ``section_subject`` and ``subject_states`` (``schema/37-subject.sql``),
record the events. Called by the lifecycle stage after extraction health; read by ``newsmon status``
(``off_subject_sections``) and the digest (``off_subject_in_runs``).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import asdict, fields

from crawler import state
from crawler.config import Config
from crawler.lifecycle import events, judged
from crawler.lifecycle.subject import RunSubject, SubjectSettings, SubjectState, Verdict, judge, measure, step
from crawler.store import items as item_store

log = logging.getLogger(__name__)

RUN_FIELDS = [f.name for f in fields(RunSubject)]


def update_subject(conn: sqlite3.Connection, config: Config, run_id: int, cfg: SubjectSettings) -> dict:
    """Judge every section with a ``subject`` that the run looked at (its ``section_snapshots``).
    Idempotent for a run."""
    subjects = {s.key: s.subject for s in config.sections if s.subject}
    rows = conn.execute(
        "SELECT section, checked_at, article_urls FROM section_snapshots WHERE run_id = ? ORDER BY section", (run_id,)
    ).fetchall()
    states, emitted = {}, []
    for row in (r for r in rows if r["section"] in subjects):
        key, phrases = row["section"], subjects[row["section"]]
        old = load_state(conn, key)
        if old.last_run_id is not None and old.last_run_id >= run_id:
            states[key] = old.state  # already judged (a stage rerun)
            continue
        listing = json.loads(row["article_urls"] or "[]")
        run = measure(key, run_id, row["checked_at"], new_items(conn, key, run_id, listing), phrases)
        verdict = judge(run, history(conn, key, run_id, cfg.health_runs), phrases, cfg)
        new, evs = step(old, run, verdict, phrases, cfg)
        with state.transaction(conn):
            save_run(conn, run, verdict, new.state)
            save_state(conn, new)
            events.record(conn, evs)
        log.debug("%s subject: %s (%s)", key, verdict.state or "not judged", verdict.cause)
        states[key] = new.state
        emitted += [e.type for e in evs]
    return {"sections": states, "events": emitted}


def new_items(conn: sqlite3.Connection, section: str, run_id: int, listing: list[str] = ()) -> list[dict]:
    """The items ``run_id`` first stored in ``section`` in listing order (the examples a cause quotes are the
    section's top ones, whatever order the fetches finished in): the fields the subject is looked for in."""
    rows = conn.execute(
        "SELECT a.url, a.title, i.json FROM articles a JOIN items i ON i.id = a.id "
        "WHERE a.section = ? AND a.run_id = ? ORDER BY a.first_seen, a.id",
        (section, run_id),
    )
    position = {url: n for n, url in enumerate(listing)}
    out = []
    for row in sorted(rows, key=lambda r: position.get(r["url"], len(position))):
        # an unreadable row costs its item, not the section's judgement
        item = item_store.loads(row["json"]) or {}
        out.append(
            {
                "title": item.get("title") or row["title"],
                "text": item.get("text"),
                "title_en": item.get("title_en"),
                "text_en": item.get("text_en"),
            }
        )
    return out


def history(conn: sqlite3.Connection, section: str, run_id: int, limit: int) -> list[RunSubject]:
    """The section's last ``limit`` runs before ``run_id`` that had items and were on subject (newest first)."""
    rows = conn.execute(
        "SELECT section, run_id, checked_at AS at, items, on_subject, examples FROM section_subject "
        "WHERE section = ? AND run_id < ? AND items > 0 AND verdict IS NOT 'off' AND state = 'on' "
        "ORDER BY run_id DESC LIMIT ?",
        (section, run_id, limit),
    ).fetchall()
    return [
        RunSubject(**{**{k: r[k] for k in RUN_FIELDS}, "examples": tuple(json.loads(r["examples"] or "[]"))})
        for r in rows
    ]


def save_run(conn: sqlite3.Connection, run: RunSubject, verdict: Verdict, state_after: str) -> None:
    measured = {**asdict(run), "examples": json.dumps(list(run.examples), ensure_ascii=False)}
    judged.save_run(conn, "section_subject", measured, verdict.state, verdict.cause, state_after)


def load_state(conn: sqlite3.Connection, section: str) -> SubjectState:
    return judged.load_state(conn, "subject_states", section, SubjectState)


def save_state(conn: sqlite3.Connection, st: SubjectState) -> None:
    judged.save_state(conn, "subject_states", st)


# ---------------------------------------------------------------- readers (status, digest)
def off_subject_sections(conn: sqlite3.Connection) -> dict[str, dict]:
    """Section key → {since, cause} of every section that is off its subject now."""
    return judged.bad_now(conn, "subject_states", "off")


def off_subject_in_runs(conn: sqlite3.Connection, run_ids: set[int]) -> dict[str, str]:
    """Section key → why it was off subject after the last of ``run_ids`` that judged it."""
    return judged.bad_in_runs(conn, "section_subject", "off", run_ids)
