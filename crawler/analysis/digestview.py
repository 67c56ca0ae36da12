"""What the digest shows of the analysis: the items' flags in words, and each watch's recent weeks.

``crawler.digest.data`` calls these; the renderers draw them (the weeks as ``chart.bars``).
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta

from crawler.analysis.flags import digest_flags, notes_of, subjects_of
from crawler.analysis.settings import DEFAULTS, settings_of
from crawler.exceptions import ConfigError
from crawler.items import section_key
from crawler.watch.settings import watches_of

log = logging.getLogger(__name__)

__all__ = ["WatchWeeks", "analysis_notes", "digest_flags", "watch_weeks", "week_starts"]


@dataclass(frozen=True)
class WatchWeeks:
    """A watch's items per week over the weeks ending on the digest's day, oldest first."""

    name: str
    starts: tuple[str, ...]  # each week's first day
    counts: tuple[int, ...]

    @property
    def labels(self) -> list[str]:
        return [f"week from {start}" for start in self.starts]


def analysis_notes(items: list[dict], names: dict[str, str], config) -> dict[str, list[str]]:
    """Item id → what its flags mean (only items with any)."""
    subjects = subjects_of(config) if config is not None else {}
    out = {}
    for item in items:
        key = section_key(item)
        notes = notes_of(item, names.get(key), subjects.get(key, ()))
        if notes:
            out[item["id"]] = notes
    return out


def week_starts(day: str, weeks: int) -> list[str]:
    """First days of the ``weeks`` seven-day weeks ending on ``day``, oldest first."""
    last = date.fromisoformat(day)
    return [(last - timedelta(days=7 * n + 6)).isoformat() for n in reversed(range(weeks))]


def watch_weeks(conn: sqlite3.Connection, day: str, config) -> list[WatchWeeks]:
    """Each watch's hits (their items' crawl days, ``watch_hits``) per week, for the configured watches
    (every watch with hits when no config is given)."""
    weeks = _chart_weeks(config)
    starts = week_starts(day, weeks)
    rows = conn.execute(
        "SELECT watch, day, count(*) FROM watch_hits WHERE day BETWEEN ? AND ? GROUP BY watch, day", (starts[0], day)
    ).fetchall()
    names = _watch_names(config)
    if names is None:
        names = sorted({r[0] for r in rows})
    counts = {name: [0] * weeks for name in names}
    for watch, hit_day, n in rows:
        if watch in counts:
            counts[watch][sum(1 for s in starts if s <= hit_day) - 1] += n
    return [WatchWeeks(name, tuple(starts), tuple(counts[name])) for name in names]


# A bad [analysis] or [[watch]] table fails its own stage with its file:line; the digest is still written.
def _chart_weeks(config) -> int:
    try:
        return settings_of(config).chart_weeks if config is not None else DEFAULTS["chart_weeks"]
    except ConfigError as exc:
        log.warning("digest: watch charts drawn over %d weeks: %s", DEFAULTS["chart_weeks"], exc)
        return DEFAULTS["chart_weeks"]


def _watch_names(config) -> list[str] | None:
    """The configured watches' names; None (every watch with hits) without a config or with a bad one."""
    try:
        return [w.name for w in watches_of(config)] if config is not None else None
    except ConfigError:
        return None
