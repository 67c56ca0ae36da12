"""Post-crawl stage (after alerts): the events as Atom feeds, static files under ``output/feeds/``.

* ``alerts.atom``: every event;
* ``edits.atom``: ``article_edited`` and ``article_deleted``, each edit with its changed paragraphs (original
  and English, words marked) and a link to its diff page (``output/diffs/``, refreshed here too: a new
  version's English arrives a run later);
* ``watch-<name>.atom``: one per configured ``[[watch]]``, its ``watch_matched`` events (a name that is not
  plain ASCII letters, digits, ``-``, ``_``, ``.`` is spelled as such, followed by a short hash).

Each holds the newest ``[feeds] max_entries`` events, newest first. Ids are ``urn:uuid:`` name-based UUIDs
under the state DB's own random UUID (``feed_identity``): the same event has the same id in every run. A file is
rewritten only when its bytes change, so a feed reader's conditional GET sees "not modified" between events.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sqlite3
import uuid
from pathlib import Path

from crawler.feeds import atom
from crawler.feeds.settings import FeedSettings, settings_of
from crawler.items import english_title
from crawler.lifecycle import diffview
from crawler.lifecycle.versiondiff import VersionDiff, event_diff, patterns_of
from crawler.store import items as item_store
from crawler.store.diskspace import write_atomic
from crawler.watch.context import highlight
from crawler.watch.settings import watches_of

log = logging.getLogger(__name__)

FEEDS_DIR = "feeds"
EDIT_TYPES = ("article_edited", "article_deleted")
SAFE_NAME = re.compile(r"^[A-Za-z0-9._-]+$")
WORDS = {
    "article_edited": "Edited",
    "article_deleted": "Deleted",
    "watch_matched": "Watch hit",
    "section_changed": "New items",
    "crawler_offline": "Crawler offline",
    "crawler_online": "Crawler online",
}


def run_stage(ctx) -> dict:
    settings = settings_of(ctx.config)
    if not settings.enabled:
        return {"enabled": False}
    conn = ctx.db()
    try:
        return write_feeds(conn, ctx.config, ctx.output_dir, settings)
    finally:
        conn.close()


def write_feeds(conn: sqlite3.Connection, config, output_dir: str | Path, settings: FeedSettings) -> dict:
    """Write every feed (and the edits' diff pages); returns {feeds, written, entries, diff_pages}."""
    namespace, created = identity(conn)
    folder = Path(output_dir) / FEEDS_DIR
    plans: list[tuple[str, str, str, tuple[str, ...] | None, str | None]] = [
        ("alerts.atom", "newsmon: alerts", "Every event newsmon recorded, newest first.", None, None),
        (
            "edits.atom",
            "newsmon: edits and deletions",
            "Articles changed or removed after they were published.",
            EDIT_TYPES,
            None,
        ),
    ]
    plans += [
        (
            watch_file(w.name),
            f"newsmon: watch {w.name}",
            f"Items the watch {w.name} matched.",
            ("watch_matched",),
            w.name,
        )
        for w in watches_of(config)
    ]
    summary = {"feeds": len(plans), "written": 0, "entries": 0, "diff_pages": 0}
    known: dict[str, VersionDiff | None] = {}  # event id → its diff: an edit is in two feeds
    for name, title, subtitle, types, watch in plans:
        events = latest_events(conn, settings.max_entries, types, watch)
        entries, diffs = entries_of(conn, config, events, namespace, settings, known)
        updated = entries[0].updated if entries else created
        feed = atom.Feed(
            feed_id(namespace, name),
            title,
            subtitle,
            updated,
            entries,
            self_link=f"{settings.base_url}{FEEDS_DIR}/{name}" if settings.base_url else None,
        )
        summary["written"] += write_if_changed(folder / name, atom.render(feed))
        summary["entries"] += len(entries)
        summary["diff_pages"] += diffview.write_pages(output_dir, diffs)
    summary["removed"] = remove_old_watch_feeds(folder, {p[0] for p in plans})
    return summary


def identity(conn: sqlite3.Connection) -> tuple[uuid.UUID, str]:
    """The DB's feed namespace and when it was made."""
    row = conn.execute("SELECT uuid, created_at FROM feed_identity WHERE id = 1").fetchone()
    return uuid.UUID(hex=row["uuid"]), row["created_at"]


def feed_id(namespace: uuid.UUID, name: str) -> str:
    return f"urn:uuid:{uuid.uuid5(namespace, 'feed:' + name)}"


def entry_id(namespace: uuid.UUID, event_id: str) -> str:
    return f"urn:uuid:{uuid.uuid5(namespace, 'event:' + event_id)}"


def watch_file(name: str) -> str:
    if SAFE_NAME.match(name):
        return f"watch-{name}.atom"
    spelled = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return f"watch-{spelled + '-' if spelled else ''}{digest}.atom"


def latest_events(conn: sqlite3.Connection, limit: int, types: tuple[str, ...] | None, watch: str | None) -> list[dict]:
    """The newest ``limit`` events (of ``types``; of one watch), newest first."""
    where: list[str] = []
    args: list[object] = []
    if types:
        where.append(f"type IN ({','.join('?' * len(types))})")
        args += types
    if watch is not None:
        where.append("json_extract(details, '$.watch') = ?")
        args.append(watch)
    sql = (
        "SELECT * FROM events"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + " ORDER BY at DESC, seq DESC LIMIT ?"
    )
    out = []
    for row in conn.execute(sql, [*args, limit]):
        event = dict(row)
        try:
            event["details"] = json.loads(event.get("details") or "{}")
        except ValueError:
            event["details"] = {}
        out.append(event)
    return out


def entries_of(
    conn, config, events: list[dict], namespace: uuid.UUID, settings: FeedSettings, known: dict[str, VersionDiff | None]
) -> tuple[list[atom.Entry], list[VersionDiff]]:
    items = {
        ident: item
        for ident, (_day, item) in item_store.load(
            conn, sorted({e["article_id"] for e in events if e.get("article_id")})
        ).items()
        if item
    }
    entries, diffs = [], []
    for event in events:
        diff = None
        if event["type"] == "article_edited":
            if event["id"] not in known:
                known[event["id"]] = event_diff(conn, event, patterns_of(config, event.get("section")))
            diff = known[event["id"]]
            if diff is not None and diff.complete and diff not in diffs:
                diffs.append(diff)
        entries.append(entry_of(event, items.get(event.get("article_id") or "") or {}, diff, namespace, settings))
    return entries, diffs


def entry_of(
    event: dict, item: dict, diff: VersionDiff | None, namespace: uuid.UUID, settings: FeedSettings
) -> atom.Entry:
    details = event.get("details") or {}
    related = None
    if diff is not None and diff.complete:
        related = diffview.page_link(diff, settings.base_url)
    url = item.get("url") or details.get("url")
    link = url if isinstance(url, str) and url.lower().startswith(("http://", "https://")) else None
    categories = [(event["type"], event["type"].replace("_", " "))]
    if event.get("section"):
        categories.append((event["section"], f"section {event['section']}"))
    return atom.Entry(
        entry_id(namespace, event["id"]),
        entry_title(event, item),
        atom.rfc3339(event.get("at")) or "1970-01-01T00:00:00Z",
        content_of(event, item, diff, related),
        link,
        related,
        categories,
    )


def entry_title(event: dict, item: dict) -> str:
    """``Edited: <English title> [<original title>]``; a section event: ``Section gone: source/section``."""
    kind = event["type"]
    words = WORDS.get(kind) or kind.replace("_", " ").capitalize()
    details = event.get("details") or {}
    if kind == "watch_matched":
        words = f"Watch {details.get('watch')}"
    if event.get("article_id"):
        return f"{words}: {titles(item, details)}"
    if event.get("section"):
        return f"{words}: {event['section']}"
    return f"{words}: {event.get('cause')}"


def titles(item: dict, details: dict) -> str:
    """The English title with the original beside it (an English article: its title)."""
    original = item.get("title") or details.get("title") or details.get("title_after") or "(untitled)"
    english = english_title(item) if item else None
    english = english or details.get("title_en")
    if item.get("lang") == "en" or not english or english.strip() == original.strip():
        return original
    return f"{english} [{original}]"


def content_of(event: dict, item: dict, diff: VersionDiff | None, related: str | None) -> str:
    esc = diffview.esc
    details = event.get("details") or {}
    parts = [f"<p>{esc(event.get('cause'))}</p>"]
    if diff is not None:
        parts.append(diffview.html_block(diff, related))
    if event["type"] == "article_deleted" and details.get("title"):
        english = f" ({esc(details['title_en'])})" if details.get("title_en") else ""
        parts.append(f"<p>was: «{esc(details['title'])}»{english}</p>")
    if event["type"] == "watch_matched":
        found = ", ".join(str(p) for p in details.get("found") or details.get("phrases") or [])
        parts.append(
            f"<p>watch {esc(details.get('watch'))}: {esc(found)} in {esc(', '.join(details.get('in') or []))}</p>"
        )
        parts += contexts_html(item, details.get("watch"))
    where = " · ".join(
        str(x)
        for x in (
            event.get("section"),
            f"run {event.get('run_id')}",
            (event.get("at") or "")[:16].replace("T", " ") + " UTC",
        )
        if x
    )
    parts.append(f"<p>{esc(where)} · {esc(event['type'])}</p>")
    return "".join(parts)


def contexts_html(item: dict, watch: str | None) -> list[str]:
    """The hit's sentences around each match (the item's ``watch`` field), original and English, the match
    in bold: what the reader needs to judge the hit without opening the article."""
    field = item.get("watch")
    hits = field if isinstance(field, list) else []
    hit = next((h for h in hits if isinstance(h, dict) and h.get("name") == watch), None) or {}
    esc = diffview.esc
    out = []
    for ctx in hit.get("contexts") or []:
        if not isinstance(ctx, dict):
            continue
        sides = [(item.get("lang") or "und", ctx.get("original")), ("en", ctx.get("english"))]
        quoted = "".join(
            f'<p lang="{esc(lang)}">{highlight(snippet, _bold, esc)}</p>' for lang, snippet in sides if snippet
        )
        out.append(f"<blockquote>{quoted}</blockquote>")
    return out


def _bold(words: str) -> str:
    return f"<strong>{diffview.esc(words)}</strong>"


def write_if_changed(path: Path, data: bytes) -> int:
    if path.exists() and path.read_bytes() == data:
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data)
    return 1


def remove_old_watch_feeds(folder: Path, current: set[str]) -> int:
    """A watch no longer configured has no feed: its file goes (a reader gets 404, not a frozen feed)."""
    removed = 0
    for path in folder.glob("watch-*.atom"):
        if path.name not in current:
            path.unlink()
            removed += 1
    return removed
