"""The day's digest sent to every ``[[alerts.channels]]`` entry with ``digest = true``, once per day and channel.

Called by the digest stage after it has written ``output/<day>/digest.html`` (or ``digest.txt`` when
``[digest] html = false``). The HTML digest goes out as an HTML body (an e-mail gets it as its HTML part;
Apprise converts it for targets that take text only), titled ``"<[alerts] title> digest <day>: N items,
M alerts"``. Bookkeeping is the ``digest_deliveries`` table (crawler/schema/65-digest-mail.sql):

* a channel gets the day's digest when it has no delivered copy of that day, or when the day now has more
  items than the copy it got (a later run the same day that brought nothing new sends nothing; new alerts
  alone do not resend, the alert channels carry them);
* a failed send is retried ``[alerts] retries`` times, ``retry_delay`` apart, then marked ``undelivered``
  and sent again by the next run — also a past day's digest, from its file, once the day has turned;
* nothing here raises: a failure is logged (secrets redacted) and reported in the stage summary.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from crawler.alerts import redact
from crawler.alerts import stage as alerts
from crawler.config import Config
from crawler.exceptions import ConfigError
from crawler.items import utc_now

log = logging.getLogger(__name__)


def deliver(conn: sqlite3.Connection, config: Config, output_dir: Path, day: str, summary: dict) -> dict:
    """Send the digest of ``day`` (counts in ``summary``) and any past day's digest left undelivered to the
    digest channels; returns ``{channel: outcome}`` (empty when no channel wants the digest)."""
    try:
        table, channels = alerts.settings_of(config)
    except ConfigError as exc:
        log.error("digest mail: not sent, bad [alerts] config: %s", exc)
        return {"error": str(exc)}
    outcomes = {}
    for ch in (c for c in channels if c.digest):
        for past_day, counts in _undelivered_before(conn, ch.name, day):
            outcomes[f"{ch.name} {past_day}"] = _deliver_one(conn, ch, table, Path(output_dir), past_day, counts)
        outcomes[ch.name] = _deliver_one(conn, ch, table, Path(output_dir), day, summary)
    return outcomes


def _undelivered_before(conn: sqlite3.Connection, channel: str, day: str) -> list[tuple[str, dict]]:
    rows = conn.execute(
        "SELECT day, items, alerts FROM digest_deliveries WHERE channel = ? AND day < ? "
        "AND status != 'delivered' ORDER BY day",
        (channel, day),
    ).fetchall()
    return [(r["day"], {"items": r["items"], "alerts": r["alerts"]}) for r in rows]


def _deliver_one(conn, ch: alerts.Channel, table: dict, output_dir: Path, day: str, counts: dict) -> str:
    items, n_alerts = int(counts.get("items", 0)), int(counts.get("alerts", 0))
    last = conn.execute(
        "SELECT status, items FROM digest_deliveries WHERE day = ? AND channel = ?", (day, ch.name)
    ).fetchone()
    if last and last["status"] == "delivered" and items <= last["items"]:
        return "already sent"
    try:
        body, body_format = _body(output_dir / day)
    except OSError as exc:
        log.error("digest mail: digest of %s unreadable, not sent to %s: %s", day, ch.name, exc)
        return f"not sent: {exc}"
    title = f"{table['title']} digest {day}: {items} items, {n_alerts} alerts"
    attempts, error = alerts.send(ch, title, body, table["retries"], table["retry_delay"], body_format)
    _record(conn, day, ch.name, items, n_alerts, attempts, error)
    if error is None:
        log.info("digest mail: digest %s delivered to %s", day, ch.name)
        return "delivered"
    log.warning(
        "digest mail: digest %s to %s (%s) failed after %d attempts: %s; sent again next run",
        day,
        ch.name,
        redact.display(ch.url),
        attempts,
        error,
    )
    return f"undelivered: {error}"


def _body(folder: Path) -> tuple[str, str]:
    """The HTML digest if written, else the text one, with its Apprise body format."""
    html = folder / "digest.html"
    if html.exists():
        return html.read_text(encoding="utf-8"), "html"
    return (folder / "digest.txt").read_text(encoding="utf-8"), "text"


def _record(conn, day: str, channel: str, items: int, n_alerts: int, attempts: int, error: str | None) -> None:
    now = utc_now()
    error = redact.redact(error) if error else error  # the DB never holds a channel's secret
    conn.execute(
        "INSERT INTO digest_deliveries(day, channel, status, items, alerts, attempts, last_error, last_attempt, "
        "delivered_at) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(day, channel) DO UPDATE SET status = excluded.status, "
        "items = excluded.items, alerts = excluded.alerts, attempts = attempts + excluded.attempts, "
        "last_error = excluded.last_error, last_attempt = excluded.last_attempt, "
        "delivered_at = COALESCE(excluded.delivered_at, delivered_at)",
        (
            day,
            channel,
            "delivered" if error is None else "undelivered",
            items,
            n_alerts,
            attempts,
            error,
            now,
            now if error is None else None,
        ),
    )
