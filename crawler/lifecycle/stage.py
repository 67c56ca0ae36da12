"""Post-crawl stage: fold this run's ``section_snapshots`` into each section's lifecycle state, judge each
section's extraction health (``healthdb``) and whether its items are still about its ``subject``
(``subjectdb``), re-check recent articles for silent edits and deletions, and
record the resulting events (DB + alerts.jsonl).

First of all it asks whether the run reached the network (``crawler.lifecycle.offline``): a run in which
every host failed at the network level is the crawler's failure, so it folds nothing — no section state,
pending counter, health or subject judgement moves, no article is re-checked — and only the
``connectivity`` row counts it (``crawler_offline`` after ``hysteresis_runs`` such runs).

The state machine itself is the pure ``crawler.lifecycle.machine.step``; this module only reads and writes rows.
The ``[lifecycle]`` table (its keys and their defaults) is ``crawler.lifecycle.settings``.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from dataclasses import asdict, fields

from crawler import state
from crawler.config import Config, Section
from crawler.items import utc_now
from crawler.lifecycle import events, healthdb, offline, subjectdb
from crawler.lifecycle import machine as lifecycle
from crawler.lifecycle.health import HealthSettings
from crawler.lifecycle.machine import SectionState, Settings
from crawler.lifecycle.runitems import RunItems
from crawler.lifecycle.settings import lifecycle_table
from crawler.lifecycle.subject import SubjectSettings

log = logging.getLogger(__name__)

SETTING_KEYS = {f.name for f in fields(Settings)}
HEALTH_KEYS = {f.name for f in fields(HealthSettings)}
SUBJECT_KEYS = {f.name for f in fields(SubjectSettings)}


def settings_of(config: Config) -> Settings:
    table = lifecycle_table(config)
    return Settings(**{k: v for k, v in table.items() if k in SETTING_KEYS})


def health_settings_of(config: Config) -> HealthSettings:
    table = lifecycle_table(config)
    return HealthSettings(**{k: v for k, v in table.items() if k in HEALTH_KEYS})


def subject_settings_of(config: Config) -> SubjectSettings:
    table = lifecycle_table(config)
    return SubjectSettings(**{k: v for k, v in table.items() if k in SUBJECT_KEYS})


def run_stage(ctx) -> dict:
    """``run_stage(ctx: CycleContext) -> dict``: lifecycle, then article re-checks, then alerts.jsonl."""
    from crawler.lifecycle import recheck

    table = lifecycle_table(ctx.config)
    conn = ctx.db()
    try:
        found, emitted = update_connectivity(conn, ctx.config, ctx.run_id, ctx.crawl, settings_of(ctx.config))
        if found is not None:
            return {"offline": found.cause, "sections": {}, "events": emitted}
        items = RunItems(conn)  # read once for the snapshots and the extraction health
        summary = update_sections(conn, ctx.config, ctx.run_id, settings_of(ctx.config), items)
        summary["extraction"] = healthdb.update_health(
            conn, ctx.run_id, ctx.crawl, health_settings_of(ctx.config), items
        )
        summary["subject"] = subjectdb.update_subject(conn, ctx.config, ctx.run_id, subject_settings_of(ctx.config))
        summary["rechecks"] = recheck.recheck_recent(conn, ctx.config, ctx.run_id, ctx.output_dir, table)
        return summary
    finally:
        try:  # whatever happened above, the events already recorded reach alerts.jsonl now
            events.flush_jsonl(conn, ctx.output_dir)
        finally:
            conn.close()


def update_connectivity(
    conn: sqlite3.Connection, config: Config, run_id: int, crawl: dict[str, dict], cfg: Settings
) -> tuple[offline.Verdict | None, list[str]]:
    """Fold the run's verdict into the ``connectivity`` row (once per run) and record its event: the
    verdict (None: the run reached the network) and the types of the events recorded."""
    found = offline.verdict(crawl, {s.key: s.url for s in config.sections})
    old = offline.load(conn)
    if old.last_run_id is not None and old.last_run_id >= run_id:
        return found, []  # already folded (a stage rerun)
    started = conn.execute("SELECT started_at FROM runs WHERE id = ?", (run_id,)).fetchone()
    at = started["started_at"] if started else utc_now()
    new, evs = offline.step(old, run_id, at, found, cfg.hysteresis_runs)
    with state.transaction(conn):
        offline.save(conn, new)
        events.record(conn, evs)
    if found is not None:
        log.warning(
            "every host failed at the network level (%s): section states left as they were%s",
            found.cause,
            "" if new.state == "offline" else f" ({new.runs} of {cfg.hysteresis_runs} runs before crawler_offline)",
        )
    return found, [e.type for e in evs]


def update_sections(
    conn: sqlite3.Connection, config: Config, run_id: int, cfg: Settings, items: RunItems | None = None
) -> dict:
    """Fold every snapshot of ``run_id`` into its section's state. Idempotent for a given run. ``items``: the
    run's items as the stage has read them already."""
    items = items or RunItems(conn)
    by_key = {s.key: s for s in config.sections}
    homepages = {s.key: src.homepage for src in config.sources for s in src.sections}
    rows = conn.execute("SELECT * FROM section_snapshots WHERE run_id = ? ORDER BY section", (run_id,)).fetchall()
    states, emitted = {}, []
    for row in rows:
        section = by_key.get(row["section"])
        old = load_state(conn, row["section"])
        if old.last_run_id is not None and old.last_run_id >= run_id:
            states[row["section"]] = old.state  # already folded (a stage rerun)
            continue
        snap = snapshot_of(conn, row, section, homepages.get(row["section"]), items)
        new, evs = lifecycle.step(old, snap, cfg)
        with state.transaction(conn):
            save_state(conn, new)
            events.record(conn, evs)
        states[row["section"]] = new.state
        emitted += [e.type for e in evs]
    return {"sections": states, "events": emitted}


def snapshot_of(
    conn: sqlite3.Connection, row: sqlite3.Row, section: Section | None, homepage: str | None, items: RunItems
) -> lifecycle.Snapshot:
    patterns = section.ignore_patterns if section else ()
    return lifecycle.Snapshot(
        section=row["section"],
        run_id=row["run_id"],
        at=row["checked_at"],
        url=row["url"],
        http_status=row["http_status"],
        final_url=row["final_url"],
        error=row["error"],
        page_bytes=row["page_bytes"],
        not_modified=bool(row["not_modified"]),
        links_found=row["links_found"],
        link_rule=row["link_rule"] or (section.link_rule() if section else "all links"),
        homepage=homepage or lifecycle.site_root(row["url"]),
        new_items=tuple(
            new_items(conn, items, row["section"], row["run_id"], patterns, json.loads(row["article_urls"] or "[]"))
        ),
        cadence_hours=section.cadence_hours if section else None,
    )


def without_volatile(text: str, patterns: tuple[str, ...]) -> str:
    """``text`` with every ignore pattern removed (timestamps, counters, tracking parameters…)."""
    for pattern in patterns:
        text = re.sub(pattern, "", text)
    return text


def new_items(
    conn: sqlite3.Connection,
    items: RunItems,
    section: str,
    run_id: int,
    patterns: tuple[str, ...],
    listing: list[str] = (),
) -> list[dict]:
    """Items first stored by ``run_id`` in ``section`` in listing order, minus those whose URL, volatile
    parts removed, the section's earlier snapshots already listed (a link that only changed a counter)."""
    listed = earlier_urls(conn, section, run_id, patterns) if patterns else {}
    out = []
    for item in items.of(section, run_id):
        before = listed.get(without_volatile(item.url, patterns)) if patterns else None
        if before and item.url not in before:  # listed before under another counter/timestamp
            continue
        out.append({"id": item.id, "url": item.url, "title": item.title, "title_en": item.title_en})
    position = {url: n for n, url in enumerate(listing)}
    return sorted(out, key=lambda i: position.get(i["url"], len(position)))


def earlier_urls(conn: sqlite3.Connection, section: str, run_id: int, patterns: tuple[str, ...]) -> dict[str, set[str]]:
    """URLs the section's last ten snapshots before ``run_id`` listed, keyed by their non-volatile part."""
    rows = conn.execute(
        "SELECT article_urls FROM section_snapshots WHERE section = ? AND run_id < ? ORDER BY run_id DESC LIMIT 10",
        (section, run_id),
    )
    out: dict[str, set[str]] = {}
    for row in rows:
        for url in json.loads(row["article_urls"] or "[]"):
            out.setdefault(without_volatile(url, patterns), set()).add(url)
    return out


# ---------------------------------------------------------------- section_states rows
def load_state(conn: sqlite3.Connection, section: str) -> SectionState:
    row = conn.execute("SELECT * FROM section_states WHERE section = ?", (section,)).fetchone()
    if row is None:
        return SectionState(section)
    values = dict(row)
    values["memory"] = json.loads(values["memory"] or "{}")
    values["stale_alerted"] = bool(values["stale_alerted"])
    return SectionState(**values)


def save_state(conn: sqlite3.Connection, st: SectionState) -> None:
    values = asdict(st)
    values["memory"] = json.dumps(values["memory"], ensure_ascii=False)
    values["stale_alerted"] = int(values["stale_alerted"])
    cols = list(values)
    conn.execute(
        f"INSERT OR REPLACE INTO section_states({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
        [values[c] for c in cols],
    )


def section_states(conn: sqlite3.Connection) -> list[dict]:
    """Every section's state row, for ``newsmon status`` and the digest."""
    return [dict(r) for r in conn.execute("SELECT * FROM section_states ORDER BY section")]
