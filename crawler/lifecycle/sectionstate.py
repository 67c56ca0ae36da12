"""What the lifecycle holds for each section, read in one place.

``section_states(conn)`` joins the three judgements the lifecycle stage keeps — the section itself
(``section_states``, folded by ``machine.step``), its extraction (``extraction_states``) and its subject
(``subject_states``) — into one ``HeldState`` per section. ``newsmon status`` and the digest both read it,
so they cannot disagree about a section.

``upto_run`` gives the states as they stood after that run: a digest rebuilt for an earlier day must say
what that day's runs found. A row that no later run has touched still holds; a section judged again since
is replayed from its events, which record every turn with the new state, its start and its cause.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, replace

# The events that turn each judgement; their details carry the state turned to (and, for a bad one, since).
TURNS = {
    "section": (
        "section_appeared",
        "section_reappeared",
        "section_gone",
        "section_empty",
        "section_broken",
        "section_erroring",
    ),
    "extraction": ("section_extraction_degraded", "section_extraction_recovered"),
    "subject": ("section_off_subject", "section_on_subject"),
}
# A section is stale from its section_stale event until its next new item (a section_changed event).
STALENESS = ("section_stale", "section_changed")
TABLES = {"extraction": "extraction_states", "subject": "subject_states"}


@dataclass(frozen=True)
class Judgement:
    """One good/bad judgement of a section: extraction ok | degraded, subject on | off."""

    state: str
    since: str | None = None
    cause: str | None = None


@dataclass(frozen=True)
class HeldState:
    section: str
    state: str = "new"  # new (nothing confirmed yet) | active | empty | gone | broken | erroring
    since: str | None = None
    cause: str | None = None  # the last observation in words
    pending_state: str | None = None  # another state seen on the last run(s), not confirmed yet (hysteresis)
    pending_count: int = 0
    stale: bool = False  # no new item for longer than usual, and none since
    last_new_at: str | None = None
    last_run_id: int | None = None
    last_checked: str | None = None
    extraction: Judgement | None = None  # None: not judged (as of ``upto_run``: never turned by then)
    subject: Judgement | None = None

    @property
    def judged(self) -> bool:
        """The lifecycle has confirmed a state (a section only seen failing so far is still ``new``)."""
        return self.state != "new"

    @property
    def degraded(self) -> Judgement | None:
        return self.extraction if self.extraction and self.extraction.state == "degraded" else None

    @property
    def off_subject(self) -> Judgement | None:
        return self.subject if self.subject and self.subject.state == "off" else None


def section_states(conn: sqlite3.Connection, upto_run: int | None = None) -> dict[str, HeldState]:
    """Section key → what the lifecycle holds for it now, or after run ``upto_run``."""
    held = {r["section"]: _held(r) for r in conn.execute("SELECT * FROM section_states")}
    for name, table in TABLES.items():
        for row in conn.execute(f"SELECT section, state, since, cause, last_run_id FROM {table}"):
            st = held.get(row["section"]) or HeldState(row["section"])
            held[row["section"]] = replace(
                st,
                **{name: Judgement(row["state"], row["since"], row["cause"])},
                last_run_id=max(st.last_run_id or 0, row["last_run_id"] or 0) or None,
            )
    if upto_run is None:
        return held
    later = [key for key, st in held.items() if (st.last_run_id or 0) > upto_run]
    return {**held, **_replayed(conn, later, upto_run)} if later else held


def _held(row: sqlite3.Row) -> HeldState:
    return HeldState(
        section=row["section"],
        state=row["state"],
        since=row["since"],
        cause=row["cause"],
        pending_state=row["pending_state"],
        pending_count=row["pending_count"] or 0,
        stale=bool(row["stale_alerted"]),
        last_new_at=row["last_new_at"],
        last_run_id=row["last_run_id"],
        last_checked=row["last_checked"],
    )


def _replayed(conn: sqlite3.Connection, sections: list[str], upto_run: int) -> dict[str, HeldState]:
    """The states of ``sections`` after ``upto_run``, from their turn events up to that run. What the
    events do not record (a pending state, when the section was last checked) is left empty."""
    kinds = {t: name for name, types in TURNS.items() for t in types}
    types = [*kinds, *STALENESS]
    rows = conn.execute(
        f"SELECT type, section, at, cause, details FROM events WHERE run_id <= ? "
        f"AND section IN ({','.join('?' * len(sections))}) "
        f"AND type IN ({','.join('?' * len(types))}) ORDER BY seq",
        [upto_run, *sections, *types],
    )
    out = {key: HeldState(key) for key in sections}
    for row in rows:
        st, details = out[row["section"]], _details(row["details"])
        if row["type"] in STALENESS:
            out[row["section"]] = replace(
                st,
                stale=row["type"] == "section_stale",
                last_new_at=row["at"] if row["type"] == "section_changed" else st.last_new_at,
            )
            continue
        since = details.get("since") or row["at"]
        if kinds[row["type"]] == "section":
            out[row["section"]] = replace(st, state=details.get("state", "active"), since=since, cause=row["cause"])
        else:  # the verdict alone ("observed"), as the states tables keep it; the event adds the run count
            judgement = Judgement(details.get("state"), since, details.get("observed") or row["cause"])
            out[row["section"]] = replace(st, **{kinds[row["type"]]: judgement})
    return out


def _details(text: str | None) -> dict:
    try:
        details = json.loads(text or "{}")
    except ValueError:
        return {}
    return details if isinstance(details, dict) else {}
