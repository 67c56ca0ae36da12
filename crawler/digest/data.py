"""What one day's digest shows, gathered from the stored data (state DB, items.jsonl, alerts.jsonl).

``load_day`` is the only reader: the digest stage calls it with the live crawl report, ``newsmon digest``
without one, so a rebuilt digest says the same as the one written after the run (the live one can add
article-fetch failures that only the crawl report knows).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from crawler import jsonl
from crawler.analysis.digestview import analysis_notes, digest_flags, watch_weeks
from crawler.config import Config
from crawler.items import section_key
from crawler.lifecycle.sectionstate import TURNS, HeldState, section_states
from crawler.lifecycle.versiondiff import VersionDiff, event_diff, patterns_of
from crawler.store import dayfiles
from crawler.store import items as item_store
from crawler.stories.view import day_copies
from crawler.wording import plural

log = logging.getLogger(__name__)

# The lifecycle's bad states (crawler/lifecycle/machine.py) in the digest's words; an active section reads OK,
# QUIET or PARTIAL from the day's crawl, or STALE, DEGRADED, OFF-SUBJECT from the lifecycle's other judgements.
HELD_STATES = {"gone": "GONE", "broken": "BROKEN", "empty": "EMPTY", "erroring": "FAILED"}
# The events that turn a section's state; the bad ones in the digest's words (for a section not judged yet).
SECTION_TURNS = TURNS["section"]
TURN_STATES = {f"section_{state}": word for state, word in HELD_STATES.items()}
# Alerts: what may hide news first, then what changed published text, then good news.
ALERT_ORDER = {
    t: i
    for i, t in enumerate(
        (
            "crawler_offline",
            "section_gone",
            "section_broken",
            "section_erroring",
            "section_empty",
            "section_stale",
            "section_extraction_degraded",
            "section_off_subject",
            "article_deleted",
            "article_edited",
            "section_changed",
            "crawler_online",
            "section_reappeared",
            "section_extraction_recovered",
            "section_on_subject",
            "section_appeared",
        )
    )
}
# States that mean "you may be missing news here": listed first, and counted in the headline.
TROUBLE = ("FAILED", "BROKEN", "GONE", "EMPTY", "STALE", "DEGRADED", "OFF-SUBJECT", "PARTIAL")
# The order of the section list: trouble first, sections not crawled that day last.
STATE_ORDER = (*TROUBLE, "OK", "QUIET", "NOT-CRAWLED")


@dataclass
class SectionStatus:
    key: str
    state: str  # OK | QUIET | PARTIAL | DEGRADED | OFF-SUBJECT | EMPTY | BROKEN | GONE | STALE | FAILED | NOT-CRAWLED
    detail: str
    items: int = 0


@dataclass
class DayData:
    day: str
    items: list[dict]
    alerts: list[dict]
    sections: list[SectionStatus]
    runs: list[dict]
    flags: dict[str, list[str]] = field(default_factory=dict)  # item id → flags
    names: dict[str, str] = field(default_factory=dict)  # source id / section key → display name
    order: list[str] = field(default_factory=list)  # section keys in configured order
    problems: list[str] = field(default_factory=list)  # stored data that could not be read
    copies: dict[str, list[dict]] = field(default_factory=dict)  # shown item id → its story's other items
    watched: list[tuple[dict, dict]] = field(default_factory=list)  # (item, its hit) per watch hit of the day
    notes: dict[str, list[str]] = field(default_factory=dict)  # item id → its flags in words (analysis)
    watch_weeks: list = field(default_factory=list)  # [WatchWeeks]: each watch's recent weeks
    edits: dict[str, VersionDiff] = field(default_factory=dict)  # article_edited event id → what it changed
    served_at: str = ""  # [feeds] base_url: the output dir's URL, or ""

    @property
    def trouble(self) -> list[SectionStatus]:
        return [s for s in self.sections if s.state in TROUBLE]


def local_day(stamp: str | None) -> str | None:
    """The local calendar day of an ISO timestamp (naive stamps are UTC)."""
    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone().date().isoformat()


def load_day(
    conn: sqlite3.Connection,
    output_dir: Path,
    day: str,
    config: Config | None = None,
    *,
    crawl: dict | None = None,
    run_id: int | None = None,
) -> DayData:
    runs = runs_of_day(conn, day, run_id)
    run_ids = {r["id"] for r in runs}
    problems: list[str] = []
    items = items_of_day(conn, output_dir, day, problems)
    alerts = alerts_of_day(conn, output_dir, day, run_ids)
    day_ids = {item.get("id") for item in items}  # their watch hits have their own block ("Watched")
    alerts = [
        e for e in alerts if not (e.get("type") in ("watch_matched", "article_held") and e.get("article_id") in day_ids)
    ]  # shown on the item itself
    crawl = crawl if crawl is not None else _stored_crawl(runs)
    data = DayData(day, items, alerts, [], runs, problems=problems)
    _names(data, config)
    data.sections = section_statuses(conn, data, crawl, run_ids, config)
    data.flags = {item["id"]: item_flags(item, alerts) for item in items}
    data.copies = day_copies(items)  # a story is shown once, its copies as "also:" lines
    data.watched = watch_hits(items)
    data.notes = analysis_notes(items, data.names, config)
    data.watch_weeks = watch_weeks(conn, day, config)
    data.edits = edit_diffs(conn, alerts, config)
    data.served_at = served_at(config)
    return data


def served_at(config: Config | None) -> str:
    """Where the output directory is served (``[feeds] base_url``): the diff pages are linked by their full
    address then, so the links work in a mailed digest too. "" (links relative to the digest file) when unset
    or invalid (the feeds stage reports a bad value)."""
    from crawler.exceptions import ConfigError
    from crawler.feeds.settings import settings_of

    try:
        return settings_of(config).base_url if config is not None else ""
    except ConfigError:
        return ""


def edit_diffs(conn: sqlite3.Connection, alerts: list[dict], config: Config | None) -> dict[str, VersionDiff]:
    """Each ``article_edited`` alert's diff (its versions as kept, else its own details)."""
    out = {}
    for event in alerts:
        if event.get("type") == "article_edited" and event.get("id"):
            diff = event_diff(conn, event, patterns_of(config, event.get("section")))
            if diff is not None:
                out[event["id"]] = diff
    return out


# ---------------------------------------------------------------- runs, items, alerts


def _utc_window(day: str) -> tuple[str, str]:
    """UTC timestamps bracketing the local ``day`` in any time zone (then filtered by ``local_day``)."""
    d = date.fromisoformat(day)
    return (d - timedelta(days=1)).isoformat(), (d + timedelta(days=2)).isoformat()


def runs_of_day(conn: sqlite3.Connection, day: str, run_id: int | None = None) -> list[dict]:
    lo, hi = _utc_window(day)
    rows = conn.execute(
        "SELECT * FROM runs WHERE (started_at >= ? AND started_at < ?) OR id = ? ORDER BY id",
        (lo, hi, run_id if run_id is not None else -1),
    ).fetchall()
    return [dict(r) for r in rows if r["id"] == run_id or local_day(r["started_at"]) == day]


def items_of_day(conn: sqlite3.Connection, output_dir: Path, day: str, problems: list[str] | None = None) -> list[dict]:
    """The latest version of every item of the day: the items table, plus any line only in its day file
    (items.jsonl, or items.jsonl.gz for an earlier day; the lines of items the table holds are not parsed). What
    cannot be read is named in ``problems`` (and left where it is)."""
    problems = problems if problems is not None else []
    items: dict[str, dict] = {}
    for row in conn.execute("SELECT id, json FROM items WHERE day = ?", (day,)):
        item = item_store.loads(row["json"])
        if item is None:
            problems.append(f"item {row['id']}: unreadable row in the items table (not a JSON object)")
        else:
            items[row["id"]] = item
    for path in dayfiles.day_files(Path(output_dir), day):
        for number, obj in _jsonl_lines(path, problems, skip=items.keys()):
            if not isinstance(obj, dict) or not obj.get("id"):
                problems.append(f"{day}/{path.name} line {number}: not an item (no id)")
            elif obj["id"] not in items:
                items[obj["id"]] = obj
    for problem in problems:
        log.warning("digest %s: %s", day, problem)
    return list(items.values())


def _jsonl_lines(path: Path, problems: list[str], skip: Collection[str] = ()):
    """(line number, object) of every complete line but those of the ids in ``skip``; a line that is not JSON is
    named, not fatal."""
    try:
        data = dayfiles.read_day_file(path)
    except FileNotFoundError:
        return
    except (OSError, dayfiles.DamagedDayFile) as exc:
        problems.append(f"{path.parent.name}/{path.name}: unreadable ({exc})")
        return
    for number, raw in enumerate(data.splitlines(keepends=True), 1):
        if not raw.endswith(b"\n") or not raw.strip() or dayfiles.line_id(raw) in skip:
            continue
        try:
            yield number, json.loads(raw)
        except ValueError as exc:
            problems.append(f"{path.parent.name}/{path.name} line {number}: not JSON ({exc})")


def _table_exists(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def alerts_of_day(conn: sqlite3.Connection, output_dir: Path, day: str, run_ids: set[int]) -> list[dict]:
    """Events of the day's runs or dated that day: the ``events`` table, else ``alerts.jsonl``."""
    if _table_exists(conn, "events") and conn.execute("SELECT 1 FROM events LIMIT 1").fetchone():
        lo, hi = _utc_window(day)
        marks = ",".join("?" * len(run_ids))
        rows = conn.execute(
            f"SELECT * FROM events WHERE (at >= ? AND at < ?) OR run_id IN ({marks}) ORDER BY at",
            [lo, hi, *sorted(run_ids)],
        )
        events = [_event_row(r) for r in rows]
    else:
        events = list(jsonl.read(Path(output_dir) / "alerts.jsonl"))
    picked = [e for e in events if e.get("run_id") in run_ids or local_day(e.get("at")) == day]
    return sorted(
        picked,
        key=lambda e: (ALERT_ORDER.get(e.get("type"), len(ALERT_ORDER)), e.get("at") or "", e.get("section") or ""),
    )


def _event_row(row: sqlite3.Row) -> dict:
    event = dict(row)
    try:
        event["details"] = json.loads(event.get("details") or "{}")
    except ValueError:
        event["details"] = {"raw": event.get("details")}
    return event


def _stored_crawl(runs: list[dict]) -> dict:
    """The per-section crawl reports the day's runs stored in their summary (``{"sections": {key: …}}``)."""
    crawl: dict = {}
    for run in runs:
        try:
            summary = json.loads(run.get("summary") or "{}")
        except ValueError:
            continue
        report = summary.get("sections") if isinstance(summary, dict) else None
        if isinstance(report, dict):
            crawl.update({k: v for k, v in report.items() if isinstance(v, dict)})
    return crawl


# ---------------------------------------------------------------- names and flags


def _names(data: DayData, config: Config | None) -> None:
    if config is None:
        return
    for source in config.sources:
        data.names[source.id] = source.name
        for sec in source.sections:
            data.names[sec.key] = sec.name
            data.order.append(sec.key)


def item_flags(item: dict, alerts: list[dict]) -> list[str]:
    flags = []
    mine = {e.get("type") for e in alerts if e.get("article_id") == item.get("id")}
    section_events = {e.get("type") for e in alerts if e.get("section") == section_key(item)}
    if int(item.get("version") or 1) > 1 or "article_edited" in mine:
        flags.append("EDITED")
    if "article_deleted" in mine:
        flags.append("DELETED")
    status = (item.get("translation") or {}).get("status")
    if status in ("pending", "failed"):
        flags.append(f"TRANSLATION-{status.upper()}")
    if "section_appeared" in section_events:
        flags.append("NEW-SECTION")
    if "section_reappeared" in section_events:
        flags.append("SECTION-REAPPEARED")
    if len(set(item.get("paragraph_langs") or [])) > 1:
        flags.append("MIXED-LANG")
    flags += [f"watch:{hit.get('name')}" for hit in _hits(item)]  # grep "watch:Sanctions" digest.txt
    flags += digest_flags(item)  # HELD 3 DAYS, OFF-SUBJECT
    return flags


def watch_hits(items: list[dict]) -> list[tuple[dict, dict]]:
    """(item, hit) for every watch hit of the items (their ``watch`` field), by watch name then section."""
    pairs = [(item, hit) for item in items for hit in _hits(item)]
    return sorted(pairs, key=lambda p: (str(p[1].get("name")), section_key(p[0]), p[0].get("id") or ""))


def _hits(item: dict) -> list[dict]:
    hits = item.get("watch")
    return [h for h in hits if isinstance(h, dict) and h.get("name")] if isinstance(hits, list) else []


def alert_extra(event: dict) -> str:
    """What an event's details add to its cause, in words (an edited title: before → after)."""
    details = event.get("details") or {}
    before, after = details.get("title_before"), details.get("title_after")
    if event.get("type") == "article_edited" and before and after and before != after:
        return f"title: «{before}» → «{after}»"
    if event.get("type") == "article_deleted" and details.get("title"):
        return f"was: «{details['title']}»"
    return ""


# ---------------------------------------------------------------- section statuses


def section_statuses(
    conn: sqlite3.Connection, data: DayData, crawl: dict, run_ids: set[int], config: Config | None
) -> list[SectionStatus]:
    """One status per section. Its state is the one the lifecycle holds after the day's last run
    (``crawler.lifecycle.sectionstate``, as ``newsmon status`` reads it); the day's events and snapshots
    say why. A section the lifecycle has not judged yet is judged from the day alone."""
    snapshots = _last_snapshots(conn, run_ids)
    counts: dict[str, int] = {}
    for item in data.items:
        counts[section_key(item)] = counts.get(section_key(item), 0) + 1
    turns, stale = _day_events(data.alerts)
    held = section_states(conn, upto_run=max(run_ids)) if run_ids else {}
    bad = [key for key, e in turns.items() if e["type"] in TURN_STATES]
    keys = list(dict.fromkeys([*data.order, *snapshots, *crawl, *counts, *bad, *stale]))
    out = []
    last_ok: dict[str, str] | None = None
    for key in keys:
        day = _day_status(key, snapshots.get(key), crawl.get(key), counts.get(key, 0))
        lifecycle = held.get(key)
        if lifecycle is not None and lifecycle.judged:
            status = _held_status(day, lifecycle, turns.get(key), stale.get(key))
        else:
            status = _inferred_status(day, turns.get(key), stale.get(key), lifecycle)
        if status is None:
            last_ok = _last_successes(conn) if last_ok is None else last_ok
            status = _not_crawled(key, last_ok.get(key), lifecycle)
        out.append(status)
    rank = {s: i for i, s in enumerate(STATE_ORDER)}
    out.sort(key=lambda s: (rank.get(s.state, 0), _position(data.order, s.key)))
    return out


def _position(order: list[str], key: str) -> tuple[int, str]:
    return (order.index(key), key) if key in order else (len(order), key)


def _last_snapshots(conn: sqlite3.Connection, run_ids: set[int]) -> dict[str, dict]:
    if not run_ids:
        return {}
    marks = ",".join("?" * len(run_ids))
    rows = conn.execute(
        f"SELECT * FROM section_snapshots WHERE run_id IN ({marks}) ORDER BY run_id", sorted(run_ids)
    ).fetchall()
    return {r["section"]: dict(r) for r in rows}


def _day_events(alerts: list[dict]) -> tuple[dict[str, dict], dict[str, dict]]:
    """Section key → its last state turn of the day (gone, back, …), and → its section_stale event when no
    new item came after it. ``alerts`` is in display order, so the turns are put back in time order."""
    turns: dict[str, dict] = {}
    stale: dict[str, dict] = {}
    for e in sorted(alerts, key=lambda e: (e.get("at") or "", e.get("seq") or 0)):
        key, kind = e.get("section"), e.get("type")
        if not key:
            continue
        if kind in SECTION_TURNS:
            turns[key] = e
        elif kind == "section_stale":
            stale[key] = e
        elif kind == "section_changed":
            stale.pop(key, None)
    return turns, stale


def _day_status(key: str, snap: dict | None, report: dict | None, items: int) -> SectionStatus | None:
    """What the day's snapshots and crawl report show, lifecycle aside (None: not crawled that day)."""
    if snap is None and report is None:
        return SectionStatus(key, "OK", f"{items} new", items) if items else None
    report = report or {}
    links = snap["links_found"] if snap else int(report.get("links_found") or 0)
    failure = _failure(snap, report)
    if failure:
        return SectionStatus(key, "FAILED", failure, items)
    if links == 0 and not (snap and snap.get("not_modified")):
        rule = f" by {snap['link_rule']}" if snap and snap.get("link_rule") else ""
        return SectionStatus(key, "EMPTY", f"0 article links found{rule} at {snap['url'] if snap else key}", items)
    failed = int(report.get("failed") or 0) - (1 if report.get("entry_error") else 0)
    if failed > 0:
        first = next((e for e in report.get("errors") or [] if e != report.get("entry_error")), "?")
        return SectionStatus(
            key, "PARTIAL", f"{plural(links, 'link')}, {items} new, {plural(failed, 'article')} failed: {first}", items
        )
    if items == 0:
        return SectionStatus(key, "QUIET", f"{plural(links, 'link')}, no new article", items)
    return SectionStatus(key, "OK", f"{plural(links, 'link')}, {items} new", items)


def _held_status(
    day: SectionStatus | None, held: HeldState, turn: dict | None, stale: dict | None
) -> SectionStatus | None:
    """The lifecycle's state in the digest's words; the day's turn event, else the lifecycle, gives the cause."""
    if day is None:
        return None
    if held.state in HELD_STATES:
        cause = turn.get("cause") if turn and (turn.get("details") or {}).get("state") == held.state else None
        return SectionStatus(
            day.key, HELD_STATES[held.state], cause or f"{held.state} since {held.since}: {held.cause}", day.items
        )
    if held.stale:
        cause = stale.get("cause") if stale else f"no new item since {held.last_new_at}"
        return SectionStatus(day.key, "STALE", f"{cause}; {day.detail}", day.items)
    detail = day.detail
    if held.pending_state and day.state in ("FAILED", "EMPTY"):
        # one bad run is no verdict (the lifecycle's hysteresis): the section is still active, and says why
        detail = (
            f"last run: {detail} (seen {plural(held.pending_count, 'run')} in a row; {held.pending_state} "
            "if it persists)"
        )
    elif turn and turn.get("type") == "section_reappeared":
        detail = f"back: {turn.get('cause')}; {detail}"
    state = day.state if day.state in ("OK", "QUIET", "PARTIAL") else "OK" if day.items else "QUIET"
    return _judgements(SectionStatus(day.key, state, detail, day.items), held)


def _inferred_status(
    day: SectionStatus | None, turn: dict | None, stale: dict | None, held: HeldState | None
) -> SectionStatus | None:
    """A section the lifecycle has not judged (a first failing run, a store without lifecycle rows): the day's
    failure first, then its last bad turn or staleness, then what the snapshots show."""
    bad = turn if turn and turn.get("type") in TURN_STATES else None
    event = bad or stale
    if day is None or (event and day.state != "FAILED"):
        if event is None:
            return None
        return SectionStatus(
            event["section"],
            TURN_STATES.get(event["type"], "STALE"),
            event.get("cause") or event["type"],
            day.items if day else 0,
        )
    return _judgements(day, held)


def _judgements(status: SectionStatus, held: HeldState | None) -> SectionStatus:
    """A section that answers but is judged bad by the lifecycle: DEGRADED when its articles no longer
    extract (crawler/lifecycle/health.py), OFF-SUBJECT when its items stopped being about its subject
    (crawler/lifecycle/subject.py). It looks fine, but its items, or their absence, must not read as the
    news of the day. A state already in trouble is kept."""
    if held is None or status.state not in ("OK", "QUIET", "PARTIAL"):
        return status
    if held.degraded:
        return SectionStatus(
            status.key, "DEGRADED", f"extraction degraded: {held.degraded.cause}; {status.detail}", status.items
        )
    if held.off_subject:
        return SectionStatus(
            status.key, "OFF-SUBJECT", f"off subject: {held.off_subject.cause}; {status.detail}", status.items
        )
    return status


def _not_crawled(key: str, last_success: str | None, held: HeldState | None) -> SectionStatus:
    words = (
        f"not crawled this day (last success {last_success})"
        if last_success
        else "not crawled this day (never succeeded)"
    )
    if held is not None and held.state in HELD_STATES:
        words += f"; {held.state} since {held.since}"
    return SectionStatus(key, "NOT-CRAWLED", words)


def _failure(snap: dict | None, report: dict) -> str | None:
    """Why the section's entry page could not be read, or None."""
    if snap is not None:
        where = snap.get("final_url") or snap.get("url")
        if snap.get("error"):
            return f"{snap['error']} ({where})"
        if snap.get("http_status") is None and not snap.get("not_modified"):
            return f"no response ({where})"
        if snap.get("http_status") and snap["http_status"] >= 400:
            return f"HTTP {snap['http_status']} ({where})"
    if report.get("entry_error"):
        return str(report["entry_error"])
    errors = report.get("errors") or []
    if snap is None and errors and not report.get("links_found") and not report.get("fetched"):
        return str(errors[0])
    return None


def _last_successes(conn: sqlite3.Connection) -> dict[str, str]:
    """Section key → when its entry page last answered."""
    rows = conn.execute(
        "SELECT section, max(checked_at) FROM section_snapshots "
        "WHERE error IS NULL AND http_status < 400 GROUP BY section"
    )
    return {r[0]: r[1] for r in rows}


def summary_counts(data: DayData) -> dict[str, Any]:
    return {
        "items": len(data.items),
        "alerts": len(data.alerts),
        "sections": len(data.sections),
        "trouble": [f"{s.state} {s.key}" for s in data.trouble],
    }


# ---------------------------------------------------------------- what both renderings share


def grouped(data: DayData) -> list[tuple[str, list[dict]]]:
    """Items by section, sections in configured order (others alphabetically), newest item first.
    A copy of a story shown in full elsewhere is left out (it is listed under that item)."""
    groups: dict[str, list[dict]] = {}
    copies = {copy["id"] for group in data.copies.values() for copy in group}
    for item in data.items:
        if item["id"] not in copies:
            groups.setdefault(section_key(item), []).append(item)
    for items in groups.values():
        items.sort(key=lambda i: (i.get("published_at") or "", i.get("title") or ""), reverse=True)
        items.sort(key=lambda i: not i.get("published_at"))  # undated last, stable otherwise
    return sorted(groups.items(), key=lambda kv: _position(data.order, kv[0]))


def item_date(item: dict, day: str) -> str:
    published = item.get("published_at") or ""
    return published[:10] if len(published) >= 10 and published[4] == "-" else day


def paragraph_pairs(item: dict, limit: int | None) -> list[tuple[str, str | None]]:
    """(original, English) for the first ``limit`` paragraphs (all when None); English is None if missing."""
    originals = item.get("paragraphs") or [p for p in (item.get("text") or "").split("\n\n") if p]
    if item.get("lang") == "en":
        english = list(originals)
    else:
        english = item.get("paragraphs_en") or (
            [p for p in item["text_en"].split("\n\n")] if item.get("text_en") else []
        )
    chosen = originals if limit is None else originals[:limit]
    return [(p, english[i] if i < len(english) else None) for i, p in enumerate(chosen)]
