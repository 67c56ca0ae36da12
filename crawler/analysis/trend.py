"""How a phrase travels: matching items counted per period and outlet, its first use and its spread.

An item matches when any of the phrases (``crawler.phrases``: the syntax of watches and subjects) occurs in
its original or English title or text, so "interests of our peoples" counts a Chinese article through its
translation and "两国人民" counts it in the original. An item counts once, on its publication day (the crawl
day when it has none). Reads ``items`` only.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date, timedelta

from crawler.exceptions import NewsmonError
from crawler.items import section_key
from crawler.phrases import Phrase, PhraseError, fold, parse
from crawler.store.items import loads, row_text, sql_json
from crawler.wording import plural

BY = ("day", "week", "month")
FIELDS = ("title", "text", "title_en", "text_en")
# A day column: the publication date when known, else the crawl day.
ITEM_DATE = f"coalesce(substr({sql_json()} ->> '$.published_at', 1, 10), day)"


class TrendError(NewsmonError):
    """A phrase or option the trend cannot be counted for (one line)."""


@dataclass(frozen=True)
class Use:
    """One matching item: when, where, what."""

    date: str
    source: str
    section: str
    item_id: str
    url: str | None
    title: str | None


@dataclass
class Trend:
    phrases: list[str]
    by: str
    periods: list[str]  # every period from the first to the last, in order
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # source → period → items
    uses: list[Use] = field(default_factory=list)  # every matching item, oldest first

    @property
    def sources(self) -> list[str]:
        """Outlets in the order the phrase reached them."""
        return list(dict.fromkeys(u.source for u in self.uses))

    def series(self) -> dict[str, list[int]]:
        return {s: [self.counts[s].get(p, 0) for p in self.periods] for s in self.sources}

    def totals(self) -> list[int]:
        return [sum(self.counts[s].get(p, 0) for s in self.sources) for p in self.periods]

    def firsts(self) -> list[Use]:
        """Each outlet's first use, in order: the spread from one outlet to another."""
        seen: dict[str, Use] = {}
        for use in self.uses:
            seen.setdefault(use.source, use)
        return list(seen.values())


def phrases_of(values: list[str]) -> list[Phrase]:
    try:
        return [parse(v) for v in values]
    except PhraseError as exc:
        raise TrendError(f"phrase {exc}") from None


def period_of(day: str, by: str) -> str:
    """ "2025-09-08" → itself (day), "2025-W37" (ISO week), "2025-09" (month)."""
    if by == "month":
        return day[:7]
    if by == "week":
        year, week, _ = date.fromisoformat(day).isocalendar()
        return f"{year}-W{week:02d}"
    return day


def periods_between(first: str, last: str, by: str) -> list[str]:
    """Every period from the one holding ``first`` to the one holding ``last`` (empty ones included)."""
    out: list[str] = []
    day, end = date.fromisoformat(first), date.fromisoformat(last)
    while day <= end:
        period = period_of(day.isoformat(), by)
        if not out or out[-1] != period:
            out.append(period)
        day += timedelta(days=1)
    return out


def matches(item: dict, phrases: list[Phrase]) -> bool:
    return any(p.search(item[f]) for p in phrases for f in FIELDS if isinstance(item.get(f), str))


def count(
    conn: sqlite3.Connection,
    values: list[str],
    by: str = "week",
    sources: list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Trend:
    """The trend of ``values`` (phrases) over the stored items of ``sources`` (source ids or section keys;
    all when empty) dated ``since``…``until`` (inclusive)."""
    if by not in BY:
        raise TrendError(f"--by {by!r}: expected one of {', '.join(BY)}")
    phrases = phrases_of(values)
    needles = [p.needle for p in phrases]
    uses = []
    for row in _rows(conn, since, until):
        text = row_text(row["json"]) or ""
        if not any(n in fold(text).lower() for n in needles):  # cheap before parsing the JSON
            continue
        item = loads(text)
        if item is None or not _wanted(item, sources) or not matches(item, phrases):
            continue
        uses.append(
            Use(
                row["date"],
                str(item.get("source")),
                section_key(item),
                item["id"],
                item.get("url"),
                item.get("title_en") or item.get("title"),
            )
        )
    uses.sort(key=lambda u: (u.date, u.source, u.item_id))
    trend = Trend([p.text for p in phrases], by, [], uses=uses)
    if uses or (since and until):
        trend.periods = periods_between(since or uses[0].date, until or uses[-1].date, by)
    for use in uses:
        per = trend.counts.setdefault(use.source, {})
        period = period_of(use.date, by)
        per[period] = per.get(period, 0) + 1
    return trend


def _rows(conn: sqlite3.Connection, since: str | None, until: str | None):
    clauses, params = [], []
    for op, value in ((">=", since), ("<=", until)):
        if value:
            clauses.append(f"{ITEM_DATE} {op} ?")
            params.append(value)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    return conn.execute(f"SELECT id, {ITEM_DATE} AS date, json FROM items {where} ORDER BY seq", params)


def _wanted(item: dict, sources: list[str] | None) -> bool:
    return not sources or item.get("source") in sources or section_key(item) in sources


# ---------------------------------------------------------------- in words
def table(trend: Trend) -> list[str]:
    """The counts as a plain-text table: a row per period, a column per outlet, then the total."""
    sources = trend.sources
    head = ["period", *sources, "total"]
    rows = [
        [p, *[str(trend.counts[s].get(p, 0)) for s in sources], str(t)] for p, t in zip(trend.periods, trend.totals())
    ]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    return [line(head), *[line(r) for r in rows]]


def spread(trend: Trend) -> list[str]:
    """'first use: 2025-09-02 kremlin …', then each further outlet with its delay after the first."""
    firsts = trend.firsts()
    if not firsts:
        return []
    start = date.fromisoformat(firsts[0].date)
    out = [f"first use: {_use(firsts[0])}"]
    for use in firsts[1:]:
        days = (date.fromisoformat(use.date) - start).days
        out.append(f"  then (+{plural(days, 'day')}): {_use(use)}")
    return out


def _use(use: Use) -> str:
    return f"{use.date} {use.section} “{use.title or '(untitled)'}” {use.url or ''}".rstrip()
