"""A section judged run by run on one good/bad question — extraction ok/degraded (``health.py``), subject
on/off (``subject.py``) — with the lifecycle's hysteresis, and the rows that keep it.

``fold`` turns one run's verdict into the section's new state and, when the state turns, a ``Turn`` (the
event's cause and details). The bad value takes ``runs_needed`` judged runs in a row (a run that was not
judged neither counts nor breaks the row); the good value takes one, as a section's return does. The
``*_in_runs`` / ``*_now`` readers serve ``newsmon status`` and the digest for every such judgement.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass, replace


@dataclass(frozen=True)
class JudgedState:
    """A section's current state under one judgement (a row of ``extraction_states`` / ``subject_states``)."""

    section: str
    state: str
    since: str | None = None
    cause: str | None = None  # the last verdict in words
    pending_count: int = 0  # consecutive judged runs that found it bad, not yet confirmed
    pending_since: str | None = None
    last_run_id: int | None = None


@dataclass(frozen=True)
class Turn:
    """The state turned: to ``to``, because ``cause`` (in words, for the event), with ``details``."""

    to: str
    cause: str
    details: dict


def fold(
    st: JudgedState,
    run_id: int,
    at: str,
    verdict: str | None,
    cause: str,
    *,
    good: str,
    runs_needed: int,
    bad_words: str,
) -> tuple[JudgedState, Turn | None]:
    """One run's verdict (``None``: not judged) folded into ``st``. ``bad_words`` names the bad state in a
    recovery's cause ("extraction degraded since …")."""
    st = replace(st, last_run_id=run_id)
    if verdict is None:
        return st, None
    if verdict == st.state:
        return replace(st, cause=cause, pending_count=0, pending_since=None), None
    if verdict == good:
        back = replace(st, state=good, since=at, cause=cause, pending_count=0, pending_since=None)
        return back, Turn(
            good, f"{cause} ({bad_words} since {st.since}: {st.cause})", {"state": good, f"{st.state}_since": st.since}
        )
    count, since = st.pending_count + 1, st.pending_since or at
    if count < runs_needed:
        return replace(st, pending_count=count, pending_since=since), None
    runs = f"{count} consecutive runs" if count > 1 else "this run"
    down = replace(st, state=verdict, since=since, cause=cause, pending_count=0, pending_since=None)
    return down, Turn(verdict, f"{cause} ({runs}, since {since})", {"state": verdict, "runs": count, "since": since})


# ---------------------------------------------------------------- rows
def upsert(conn: sqlite3.Connection, table: str, values: dict) -> None:
    cols = list(values)
    conn.execute(
        f"INSERT OR REPLACE INTO {table}({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
        [values[c] for c in cols],
    )


def save_run(
    conn: sqlite3.Connection, table: str, measured: dict, verdict: str | None, cause: str, state_after: str
) -> None:
    """One run's row: what it measured (with ``at`` stored as ``checked_at``), its verdict and the state after."""
    values = {**measured, "verdict": verdict, "cause": cause, "state": state_after}
    values["checked_at"] = values.pop("at")
    upsert(conn, table, values)


def load_state(conn: sqlite3.Connection, table: str, section: str, cls: type[JudgedState]) -> JudgedState:
    row = conn.execute(f"SELECT * FROM {table} WHERE section = ?", (section,)).fetchone()
    return cls(**dict(row)) if row else cls(section)


def save_state(conn: sqlite3.Connection, table: str, st: JudgedState) -> None:
    upsert(conn, table, asdict(st))


def bad_now(conn: sqlite3.Connection, states_table: str, bad: str) -> dict[str, dict]:
    """Section key → {since, cause} of every section in the bad state now."""
    rows = conn.execute(f"SELECT section, since, cause FROM {states_table} WHERE state = ?", (bad,))
    return {r["section"]: {"since": r["since"], "cause": r["cause"]} for r in rows}


def bad_in_runs(conn: sqlite3.Connection, runs_table: str, bad: str, run_ids: set[int]) -> dict[str, str]:
    """Section key → why it was in the bad state after the last of ``run_ids`` that judged it (a rebuilt
    digest says what the day's runs found, not what holds today)."""
    if not run_ids:
        return {}
    marks = ",".join("?" * len(run_ids))
    last = conn.execute(
        f"SELECT section, max(run_id) AS run_id, state FROM {runs_table} WHERE run_id IN ({marks}) GROUP BY section",
        sorted(run_ids),
    ).fetchall()
    out = {}
    for row in (r for r in last if r["state"] == bad):
        found = conn.execute(
            f"SELECT cause FROM {runs_table} WHERE section = ? AND run_id <= ? "
            "AND verdict = ? ORDER BY run_id DESC LIMIT 1",
            (row["section"], row["run_id"], bad),
        ).fetchone()
        out[row["section"]] = found["cause"] if found else "no cause recorded"
    return out
