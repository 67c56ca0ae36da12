"""The section lifecycle as a pure function: ``step(state, snapshot, settings) -> (state, events)``.

States: ``new`` (never observed), ``active``, ``empty`` (page fine, no article links), ``gone`` (404/410,
redirect to the homepage or elsewhere, DNS failure), ``broken`` (the page is there and sizeable but the link
rule finds nothing), ``erroring`` (5xx, other 4xx, timeouts, refused connections).

Hysteresis: leaving ``active`` (or moving between bad states) needs ``hysteresis_runs`` consecutive runs
that disagree with the current state, so one bad night never alerts. Coming back to ``active`` takes one
run: a page that lists articles again is proof enough. No I/O here: everything arrives in the arguments.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from crawler.lifecycle.events import Event
from crawler.lifecycle.settings import DEFAULTS

BAD_EVENTS = {
    "gone": "section_gone",
    "empty": "section_empty",
    "broken": "section_broken",
    "erroring": "section_erroring",
}
DNS_RE = re.compile(r"dns|name or service not known|nodename nor servname|getaddrinfo|no address", re.I)
HOME_PATHS = {"", "index.html", "index.htm", "index.php", "index.shtml", "en", "ru", "zh", "cn"}
MAX_TITLES = 20


@dataclass(frozen=True)
class Settings:
    """``[lifecycle]`` keys of the state machine; defaults: ``crawler.lifecycle.settings``."""

    hysteresis_runs: int = DEFAULTS["hysteresis_runs"]
    broken_min_bytes: int = DEFAULTS["broken_min_bytes"]  # without history: this big with no links is broken
    broken_ratio: float = DEFAULTS["broken_ratio"]  # with history: ≥ this share of the usual size is broken
    stale_factor: float = DEFAULTS["stale_factor"]  # stale after factor × the median new-item interval
    stale_min_hours: float = DEFAULTS["stale_min_hours"]
    cadence_samples: int = DEFAULTS["cadence_samples"]  # intervals needed before a cadence is trusted
    max_intervals: int = 30


@dataclass(frozen=True)
class Snapshot:
    """One run's look at a section (a ``section_snapshots`` row) plus the items new in that run."""

    section: str
    run_id: int
    at: str  # ISO-8601 UTC
    url: str
    http_status: int | None = 200
    final_url: str | None = None
    error: str | None = None
    page_bytes: int | None = None
    not_modified: bool = False
    links_found: int = 0
    link_rule: str = "all links"
    homepage: str | None = None
    new_items: tuple[dict, ...] = ()  # {"id", "url", "title", "title_en"}
    cadence_hours: float | None = None  # from config; None: learnt


@dataclass(frozen=True)
class SectionState:
    section: str
    state: str = "new"
    since: str | None = None
    cause: str | None = None
    pending_state: str | None = None
    pending_count: int = 0
    pending_since: str | None = None
    last_run_id: int | None = None
    last_checked: str | None = None
    last_links: int | None = None
    last_new_at: str | None = None
    stale_alerted: bool = False
    memory: dict[str, Any] = field(default_factory=dict)  # intervals, typical_bytes, page, ever_active


def step(st: SectionState, snap: Snapshot, cfg: Settings = Settings()) -> tuple[SectionState, list[Event]]:
    """Fold one snapshot into the section's state; return the new state and the events it causes."""
    obs, cause = classify(snap, st, cfg)
    st, events = _transition(st, snap, obs, cause, cfg)
    st = replace(
        st,
        last_run_id=snap.run_id,
        last_checked=snap.at,
        last_links=snap.links_found,
        memory=_remember_page(st.memory, snap, obs, cause),
    )
    if st.state == "active":
        st, more = _activity(st, snap, first_seen=not st.memory.get("ever_active"), cfg=cfg)
        events += more
        st = replace(st, memory={**st.memory, "ever_active": True})
    return st, events


# ---------------------------------------------------------------- observation
def classify(snap: Snapshot, st: SectionState, cfg: Settings) -> tuple[str, str]:
    """What this one snapshot says about the section, and why, in words."""
    if snap.not_modified:  # the same page as the last full answer: the same verdict
        if snap.links_found:
            return "active", f"not modified since the last run ({snap.links_found} article links)"
        obs, cause = st.memory.get("page", ("empty", "not modified, no article links"))
        return obs, f"{cause} (not modified since)"
    if snap.http_status is None:
        err = snap.error or "no response"
        if DNS_RE.search(err):
            return "gone", f"DNS lookup failed: {err}"
        return "erroring", f"no response: {err}"
    if snap.http_status in (404, 410):
        return "gone", f"HTTP {snap.http_status} ({'not found' if snap.http_status == 404 else 'gone'})"
    if snap.http_status >= 400:
        return "erroring", f"HTTP {snap.http_status}" + (f": {snap.error}" if snap.error else "")
    moved = _redirected(snap)
    if moved:
        return moved
    return _by_links(snap, st, cfg)


def _redirected(snap: Snapshot) -> tuple[str, str] | None:
    final = snap.final_url
    if not final or same_place(final, snap.url):
        return None
    if is_homepage(final, snap.homepage):
        return "gone", f"redirected to the homepage {final}"
    if not snap.links_found:
        return "gone", f"redirected elsewhere, to {final}, which lists no articles"
    return None


# How the spider names a section whose CSS selector or XPath cannot be evaluated (spiders/_base.py).
RULE_ERROR = "the link rule cannot be evaluated"


def _by_links(snap: Snapshot, st: SectionState, cfg: Settings) -> tuple[str, str]:
    if snap.error and snap.error.startswith(RULE_ERROR):  # whatever links a valid part of the rule found
        return "broken", f"the page is there ({snap.page_bytes or 0:,} bytes) but {snap.error}"
    if snap.links_found:
        return "active", f"{snap.links_found} article links found"
    size = snap.page_bytes or 0
    if snap.error and "empty page" not in snap.error:  # e.g. "malformed feed: not well-formed XML"
        return "broken", f"the page is there ({size:,} bytes) but unreadable by the {snap.link_rule} rule: {snap.error}"
    typical = st.memory.get("typical_bytes")
    sizeable = size >= cfg.broken_ratio * typical if typical else size >= cfg.broken_min_bytes
    extra = f" ({snap.error})" if snap.error else ""
    if sizeable:
        usual = f", usually {int(typical):,} bytes" if typical else ""
        return "broken", (
            f"the page is there ({size:,} bytes{usual}) but the link rule {snap.link_rule} finds "
            f"no article links: the layout probably changed{extra}"
        )
    return "empty", f"the page answers ({size:,} bytes) but lists no articles{extra}"


def _where(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return (
        parts.netloc.lower().removeprefix("www."),
        parts.path.rstrip("/") + ("?" + parts.query if parts.query else ""),
    )


def same_place(a: str, b: str) -> bool:
    """Same page up to scheme, ``www.`` and a trailing slash."""
    return _where(a) == _where(b)


def site_root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def is_homepage(url: str, homepage: str | None) -> bool:
    if homepage and same_place(url, homepage):
        return True
    parts = urlsplit(url)
    return not parts.query and parts.path.strip("/").lower() in HOME_PATHS


# ---------------------------------------------------------------- transitions
def _transition(
    st: SectionState, snap: Snapshot, obs: str, cause: str, cfg: Settings
) -> tuple[SectionState, list[Event]]:
    if obs == st.state:
        return replace(st, cause=cause, pending_state=None, pending_count=0, pending_since=None), []
    if obs == "active":
        kind = "section_reappeared" if st.memory.get("ever_active") else "section_appeared"
        why = cause if kind == "section_appeared" else f"{cause} again (was {st.state} since {st.since}: {st.cause})"
        details = {"state": "active", "previous_state": st.state, "links_found": snap.links_found, "url": snap.url}
        return _enter(st, snap, "active", cause), [_event(kind, snap, why, details)]
    count = st.pending_count + 1
    since = st.pending_since if st.pending_state else snap.at
    if count < cfg.hysteresis_runs:
        return replace(st, pending_state=obs, pending_count=count, pending_since=since), []
    runs = f"{count} consecutive runs" if count > 1 else "this run"
    why = f"{cause} ({runs}, since {since})"
    details = {
        "state": obs,
        "previous_state": st.state,
        "runs": count,
        "since": since,
        "url": snap.url,
        "http_status": snap.http_status,
        "final_url": snap.final_url,
        "error": snap.error,
        "page_bytes": snap.page_bytes,
        "link_rule": snap.link_rule,
    }
    return _enter(st, snap, obs, cause, since), [_event(BAD_EVENTS[obs], snap, why, details)]


def _enter(st: SectionState, snap: Snapshot, state: str, cause: str, since: str | None = None) -> SectionState:
    return replace(
        st, state=state, since=since or snap.at, cause=cause, pending_state=None, pending_count=0, pending_since=None
    )


def _event(kind: str, snap: Snapshot, cause: str, details: dict) -> Event:
    return Event(type=kind, section=snap.section, at=snap.at, run_id=snap.run_id, cause=cause, details=details)


def _remember_page(memory: dict, snap: Snapshot, obs: str, cause: str) -> dict:
    """The verdict on the last full page (a 304 repeats it) and the usual size of a healthy listing
    (moving average), to tell broken from empty."""
    if snap.not_modified or snap.http_status != 200:
        return memory
    memory = {**memory, "page": [obs, cause]}
    if obs != "active" or not snap.page_bytes:
        return memory
    old = memory.get("typical_bytes")
    typical = snap.page_bytes if not old else 0.7 * old + 0.3 * snap.page_bytes
    return {**memory, "typical_bytes": round(typical)}


# ---------------------------------------------------------------- new items and staleness
def _activity(st: SectionState, snap: Snapshot, first_seen: bool, cfg: Settings) -> tuple[SectionState, list[Event]]:
    if snap.new_items or first_seen:
        return _new_items(st, snap, first_seen, cfg), ([] if first_seen else [_changed(snap)])
    return _stale(st, snap, cfg)


def _new_items(st: SectionState, snap: Snapshot, first_seen: bool, cfg: Settings) -> SectionState:
    intervals = list(st.memory.get("intervals", []))
    if st.last_new_at and not first_seen:
        intervals.append(round(_hours(st.last_new_at, snap.at), 3))
    memory = {**st.memory, "intervals": intervals[-cfg.max_intervals :]}
    return replace(st, last_new_at=snap.at, stale_alerted=False, memory=memory)


def _changed(snap: Snapshot) -> Event:
    items = [
        {"id": i.get("id"), "url": i.get("url"), "title": i.get("title"), "title_en": i.get("title_en")}
        for i in snap.new_items
    ]
    titles = "; ".join(_title(i) for i in items[:3]) + ("; …" if len(items) > 3 else "")
    cause = f"{len(items)} new item{'s' if len(items) != 1 else ''}: {titles}"
    return _event("section_changed", snap, cause, {"count": len(items), "items": items[:MAX_TITLES]})


def _title(item: dict) -> str:
    title, english = item.get("title") or item.get("url") or "?", item.get("title_en")
    return f"{english} ({title})" if english and english != title else title


def _stale(st: SectionState, snap: Snapshot, cfg: Settings) -> tuple[SectionState, list[Event]]:
    if st.stale_alerted or not st.last_new_at:
        return st, []
    limit, basis = stale_limit(st, snap.cadence_hours, cfg)
    quiet = _hours(st.last_new_at, snap.at)
    if limit is None or quiet <= limit:
        return st, []
    cause = f"no new item for {_span(quiet)} (since {st.last_new_at}); {basis}"
    details = {"quiet_hours": round(quiet, 2), "limit_hours": round(limit, 2), "last_new_at": st.last_new_at}
    return replace(st, stale_alerted=True), [_event("section_stale", snap, cause, details)]


def stale_limit(st: SectionState, cadence_hours: float | None, cfg: Settings) -> tuple[float | None, str]:
    """Hours of silence after which the section is stale, and where that figure comes from."""
    if cadence_hours:
        return float(cadence_hours), f"cadence_hours = {cadence_hours:g} in the config"
    intervals = st.memory.get("intervals", [])
    if len(intervals) < cfg.cadence_samples:
        return None, "cadence not learnt yet"
    median = statistics.median(intervals)
    limit = max(cfg.stale_min_hours, cfg.stale_factor * median)
    return limit, (
        f"new items usually come every {_span(median)} (median of the last {len(intervals)} "
        f"intervals), limit {_span(limit)}"
    )


def _hours(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() / 3600


def _span(hours: float) -> str:
    if hours >= 48:
        return f"{hours / 24:.1f} days"
    if hours >= 1:
        return f"{hours:.1f} hours"
    return f"{hours * 60:.0f} minutes"
