"""Reading events back for ``newsmon alerts`` (and anyone else): filters, table and JSON output."""

from __future__ import annotations

import sqlite3
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from crawler import jsonl, state
from crawler.commands._options import parse_day
from crawler.exceptions import NewsmonError

# Events that are good news (a section came back or appeared, the crawler is online again): green where
# the listing and the digest colour events, never red as the bad ones are.
GOOD_NEWS = frozenset(
    ("crawler_online", "section_reappeared", "section_extraction_recovered", "section_on_subject", "section_appeared")
)
_GREEN, _RED, _RESET = "\x1b[32m", "\x1b[31m", "\x1b[0m"


def parse_since(text: str | None) -> str | None:
    """``--since`` as an ISO-8601 UTC string comparable with ``events.at``; one clear error if malformed."""
    if not text:
        return None
    try:
        if len(text) == 10:  # a day: read as every date flag is (crawler.commands._options)
            day = date.fromisoformat(parse_day(text, "--since"))
            return datetime.combine(day, datetime.min.time(), UTC).isoformat()
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise NewsmonError(
            f"--since {text!r}: expected a date YYYY-MM-DD or an ISO time such as 2026-11-01T06:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def query(
    output_dir: Path, since: str | None = None, types: list[str] | None = None, sections: list[str] | None = None
) -> list[dict]:
    """Events (oldest first) with their delivery status per channel. Reads the state DB when there is one,
    else ``alerts.jsonl``; creates nothing."""
    if not state.exists(output_dir):
        found = list(jsonl.read(Path(output_dir) / "alerts.jsonl"))
        return [e for e in found if _keep(e, since, types, sections)]
    if state.database_url() is not None:
        conn = state.connect(output_dir)
    else:
        conn = sqlite3.connect(f"file:{state.db_path(output_dir)}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
    try:
        return _from_db(conn, since, types, sections)
    except sqlite3.OperationalError:  # a DB from before the alerts feature: no events table
        return []
    finally:
        conn.close()


def _from_db(conn, since, types, sections) -> list[dict]:
    from crawler.lifecycle.events import from_row

    where, args = ["1 = 1"], []
    if since:
        where.append("at >= ?")
        args.append(since)
    if types:
        where.append(f"type IN ({','.join('?' * len(types))})")
        args += types
    if sections:
        where.append(f"section IN ({','.join('?' * len(sections))})")
        args += sections
    out = []
    for row in conn.execute(f"SELECT * FROM events WHERE {' AND '.join(where)} ORDER BY seq", args):
        event = from_row(row)
        event["delivery"] = {
            d["channel"]: d["status"]
            for d in conn.execute(
                "SELECT channel, status FROM event_deliveries WHERE event_id = ? ORDER BY channel", (row["id"],)
            )
        }
        out.append(event)
    return out


def _keep(event: dict, since, types, sections) -> bool:
    return (
        (not since or event.get("at", "") >= since)
        and (not types or event.get("type") in types)
        and (not sections or event.get("section") in sections)
    )


def show(found: list[dict], as_json: bool = False, out=None) -> None:
    out = out or sys.stdout
    if as_json:
        for event in found:
            out.write(jsonl.dumps({k: v for k, v in event.items() if k != "delivery"}) + "\n")
        return
    if not found:
        out.write("no events\n")
        return
    colour = out.isatty() if hasattr(out, "isatty") else False
    for event in found:
        delivery = ", ".join(f"{ch}: {st}" for ch, st in event.get("delivery", {}).items())
        kind = f"{event['type']:<18}"
        if colour and event["type"].startswith(("section_", "crawler_")):
            kind = f"{_GREEN if event['type'] in GOOD_NEWS else _RED}{kind}{_RESET}"
        out.write(
            f"{event['at']}  {kind}  {event['section'] or '-':<28}  {event['cause']}"
            f"{f'  [{delivery}]' if delivery else ''}\n"
        )
        out.writelines(f"{line}\n" for line in edit_lines(event))
    out.write(f"{len(found)} event{'s' if len(found) != 1 else ''}\n")


def edit_lines(event: dict) -> list[str]:
    """Under an ``article_edited`` event: its changed paragraphs, words marked ``[-removed-]{+added+}`` and
    trimmed around the changes, then the command that shows the whole diff."""
    from crawler.lifecycle.diffview import CONTEXT, text_lines
    from crawler.lifecycle.versiondiff import from_details

    diff = from_details(event) if event.get("type") == "article_edited" else None
    if diff is None or not diff.changes and diff.title is None:
        return []
    version = f" --version {diff.new.number}" if diff.new.number else ""
    return text_lines(diff, CONTEXT, "    ", 3) + [f"    whole diff: newsmon diff {diff.article_id[:8]}{version}"]


def deliver_now(config) -> int:
    """Route and send pending/undelivered events (``newsmon alerts --deliver``). Exit 1 if any failed."""
    from crawler.alerts import stage as alerts

    table, channels = alerts.settings_of(config)
    if not channels:
        raise NewsmonError("no alert channels configured: add [[alerts.channels]] with an Apprise url")
    from crawler.exceptions import LockHeld
    from crawler.ops.lock import CycleLock

    try:  # never side by side with a cycle's own alerts stage: the same events would go out twice
        with CycleLock(config.output_dir, wait=False):
            conn = state.connect(config.output_dir)
            try:
                result = alerts.process(conn, config.output_dir, table, channels)
            finally:
                conn.close()
    except LockHeld as exc:
        raise NewsmonError(f"{exc}; its alerts stage sends pending events itself — try again after it") from None
    for name, outcome in result["deliveries"].items():
        print(f"{name}: {outcome}")
    return 1 if any(o.startswith("undelivered") for o in result["deliveries"].values()) else 0
