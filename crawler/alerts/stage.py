"""Post-crawl stage: events → ``output/alerts.jsonl`` and Apprise channels, never losing one.

Every event is already in the ``events`` table (recorded by crawler.lifecycle.stage / crawler.lifecycle.recheck).
This stage
1. appends the ones not yet written to alerts.jsonl (``events.flush_jsonl``);
2. routes new events: one ``event_deliveries`` row (``pending``) per channel whose filter accepts the type
   and section;
3. per channel, sends ONE message summarising every pending or undelivered event of that channel, retrying
   ``retries`` times with ``retry_delay`` seconds between attempts. Success marks the rows ``delivered``;
   failure marks them ``undelivered`` (logged, redacted) and the next run sends them again.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import sqlite3
import time
import warnings
from dataclasses import dataclass
from typing import Any

from crawler.alerts import redact
from crawler.alerts.message import compose
from crawler.config import Config
from crawler.exceptions import ConfigError
from crawler.items import utc_now
from crawler.lifecycle import events
from crawler.lifecycle.events import EVENT_TYPES
from crawler.store import items as item_store
from crawler.tables import check_value, config_table

log = logging.getLogger(__name__)

# The [alerts] table: key → (types, default, minimum); its [[alerts.channels]] are read by _channel.
ALERTS_SPEC = {
    "retries": ((int,), 2, 0),
    "retry_delay": ((int, float), 5.0, 0),
    "max_events_per_message": ((int,), 50, 1),
    "title": ((str,), "newsmon", None),
}
CHANNEL_KEYS = {
    "name": (str,),
    "url": (str,),
    "url_env": (str,),
    "events": (list,),
    "sections": (list,),
    "enabled": (bool,),
    "digest": (bool,),
}


@dataclass(frozen=True)
class Channel:
    name: str
    url: str
    events: tuple[str, ...] = ()  # empty: every type
    sections: tuple[str, ...] = ()  # fnmatch patterns on "source/section"; empty: all
    digest: bool = False  # also receives the day's digest (crawler.digest.mail)

    def accepts(self, kind: str, section: str | None) -> bool:
        """An event about no section (the crawler offline or back) concerns every section: only the
        ``events`` filter applies to it."""
        if self.events and kind not in self.events:
            return False
        return not self.sections or section is None or any(fnmatch.fnmatchcase(section, p) for p in self.sections)


def settings_of(config: Config) -> tuple[dict[str, Any], list[Channel]]:
    table = config_table(config, "alerts", ALERTS_SPEC, extra=("channels",))
    raw = config.table("alerts").get("channels", [])
    if not isinstance(raw, list):
        raise ConfigError("[alerts] channels: expected an array of tables ([[alerts.channels]])")
    channels = [c for c in (_channel(entry, n) for n, entry in enumerate(raw)) if c is not None]
    names = [c.name for c in channels]
    if len(set(names)) != len(names):
        raise ConfigError(f"[[alerts.channels]]: duplicate channel name in {names}")
    return table, channels


def _channel(entry: Any, n: int) -> Channel | None:
    where = f"[[alerts.channels]] #{n + 1}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a table")
    for key, value in entry.items():
        if key not in CHANNEL_KEYS:
            raise ConfigError(f"{where}.{key}: unknown key (allowed: {', '.join(sorted(CHANNEL_KEYS))})")
        check_value(value, CHANNEL_KEYS[key], None, f"{where}.{key}")
    if entry.get("enabled", True) is False:
        return None
    url = _url_of(entry, where)
    unknown = [t for t in entry.get("events", []) if t not in EVENT_TYPES]
    if unknown:
        raise ConfigError(f"{where}.events: unknown event type(s) {unknown} (known: {', '.join(EVENT_TYPES)})")
    redact.protect(url)
    name = entry.get("name") or f"channel-{n + 1}"
    return Channel(
        name, url, tuple(entry.get("events", ())), tuple(entry.get("sections", ())), entry.get("digest", False)
    )


def _url_of(entry: dict, where: str) -> str:
    if entry.get("url_env"):
        url = os.environ.get(entry["url_env"], "")
        if not url:
            raise ConfigError(f"{where}.url_env: environment variable {entry['url_env']} is not set")
        return url
    if not entry.get("url"):
        raise ConfigError(f"{where}: needs url (an Apprise URL) or url_env (a variable holding one)")
    return entry["url"]


# ---------------------------------------------------------------- the stage
def run_stage(ctx) -> dict:
    """``run_stage(ctx: CycleContext) -> dict``: write, route and deliver events."""
    table, channels = settings_of(ctx.config)
    conn = ctx.db()
    try:
        return process(conn, ctx.output_dir, table, channels)
    finally:
        conn.close()


def process(conn: sqlite3.Connection, output_dir, table: dict, channels: list[Channel]) -> dict:
    written = events.flush_jsonl(conn, output_dir)
    routed = route(conn, channels)
    results = {ch.name: deliver_channel(conn, ch, table) for ch in channels}
    return {"written": written, "routed": routed, "deliveries": results}


def route(conn: sqlite3.Connection, channels: list[Channel]) -> int:
    """Create delivery rows for events not yet routed (channels added later do not get old events)."""
    rows = conn.execute("SELECT id, type, section FROM events WHERE routed = 0 ORDER BY seq").fetchall()
    conn.execute("BEGIN IMMEDIATE")
    try:
        for row in rows:
            for ch in channels:
                if ch.accepts(row["type"], row["section"]):
                    conn.execute(
                        "INSERT OR IGNORE INTO event_deliveries(event_id, channel) VALUES (?, ?)", (row["id"], ch.name)
                    )
            conn.execute("UPDATE events SET routed = 1 WHERE id = ?", (row["id"],))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return len(rows)


def pending_for(conn: sqlite3.Connection, channel: str) -> list[dict]:
    rows = conn.execute(
        "SELECT e.*, d.attempts FROM event_deliveries d JOIN events e ON e.id = d.event_id "
        "WHERE d.channel = ? AND d.status != 'delivered' ORDER BY e.seq",
        (channel,),
    ).fetchall()
    return [{**events.from_row(r), "attempts": r["attempts"]} for r in rows]


def deliver_channel(conn: sqlite3.Connection, ch: Channel, table: dict) -> str:
    pending = pending_for(conn, ch.name)
    if not pending:
        return "nothing to send"
    titles = _titles(conn, pending)
    title, body = compose(pending, titles, table["title"], table["max_events_per_message"])
    attempts, error = send(ch, title, body, table["retries"], table["retry_delay"])
    ids = [(e["id"],) for e in pending]
    now = utc_now()
    if error is None:
        conn.executemany(
            "UPDATE event_deliveries SET status = 'delivered', attempts = attempts + ?, last_attempt = ?, "
            "delivered_at = ?, last_error = NULL WHERE event_id = ? AND channel = ?",
            [(attempts, now, now, i, ch.name) for (i,) in ids],
        )
        log.info("alerts: %d events delivered to %s", len(pending), ch.name)
        return f"delivered {len(pending)}"
    conn.executemany(
        "UPDATE event_deliveries SET status = 'undelivered', attempts = attempts + ?, last_attempt = ?, "
        "last_error = ? WHERE event_id = ? AND channel = ?",
        [(attempts, now, error, i, ch.name) for (i,) in ids],
    )
    log.warning(
        "alerts: delivery to %s (%s) failed after %d attempts: %s; %d events kept for the next run",
        ch.name,
        redact.display(ch.url),
        attempts,
        error,
        len(pending),
    )
    return f"undelivered {len(pending)}: {error}"


def _titles(conn: sqlite3.Connection, pending: list[dict]) -> dict[str, dict]:
    """Current title / title_en of the articles the events mention (translation may have come later)."""
    ids = {e["article_id"] for e in pending if e.get("article_id")}
    ids |= {i.get("id") for e in pending for i in e["details"].get("items", []) if i.get("id")}
    out = {}
    for ident in ids:
        item = item_store.get(conn, ident)
        if item is not None:
            out[ident] = {
                "title": item.get("title"),
                "title_en": item.get("title_en"),
                "source": item.get("source"),
                "story": item.get("story"),
            }
    return out


# ---------------------------------------------------------------- Apprise
_APPRISE = None


def _apprise():
    """Import Apprise and load its plugins once. Its e-mail plugin imports the deprecated ``imghdr``; that
    warning is Apprise's, not ours, and must not break a run with warnings turned into errors."""
    global _APPRISE
    if _APPRISE is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import apprise

            apprise.Apprise().add("json://localhost")  # loads the plugin modules now, warnings muted
        _APPRISE = apprise
    return _APPRISE


class _Capture(logging.Handler):
    """Collects Apprise's own warnings during one attempt, to say why it failed."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(redact.redact(record.getMessage()))


def send(
    ch: Channel, title: str, body: str, retries: int, delay: float, body_format: str | None = None
) -> tuple[int, str | None]:
    """Send one message; returns (attempts made, None on success or the redacted reason of failure).
    ``body_format`` (Apprise's NotifyFormat, e.g. "html") lets Apprise convert for targets that need another."""
    apprise = _apprise()
    error = None
    for attempt in range(1, retries + 2):
        error = _attempt(apprise, ch, title, body, body_format)
        if error is None:
            return attempt, None
        log.info("alerts: attempt %d to %s failed: %s", attempt, ch.name, error)
        if attempt <= retries and delay:
            time.sleep(delay)
    # The reason goes to the state DB and the command's output: masked here whatever produced it.
    return retries + 1, redact.redact(error)


def _attempt(apprise, ch: Channel, title: str, body: str, body_format: str | None = None) -> str | None:
    app = apprise.Apprise()
    try:
        added = app.add(ch.url)
    except Exception as exc:  # a plugin that raises on a malformed URL: its message may quote the URL
        return redact.redact(f"not a valid Apprise URL: {redact.display(ch.url)} ({type(exc).__name__}: {exc})")
    if not added:
        return f"not a valid Apprise URL: {redact.display(ch.url)}"
    capture = _Capture()
    logger = logging.getLogger("apprise")
    logger.addHandler(capture)
    try:
        ok = bool(app.notify(title=title, body=body, body_format=body_format))
    except Exception as exc:  # a plugin bug must not lose the events: they stay undelivered
        return redact.redact(f"{type(exc).__name__}: {exc}")
    finally:
        logger.removeHandler(capture)
    if ok:
        return None
    return redact.redact("; ".join(capture.lines[-2:])) or "the service did not accept the message"
