"""Post-crawl stage: group syndicated copies into stories (after translation, so English text exists).

Which items it takes: those the item change feed (consumer ``stories``) shows changed in their text, title or
translation since the last stage, and of those the ones never fingerprinted, whose content changed (an edit, a
re-extraction), or that have English text now but had none when fingerprinted; and any item fetched within
``[stories] index_days`` that is not in the LSH index (a longer ``index_days`` than before, or signatures a
migration cleared). So a zh/ru item translated later — by
``newsmon translate --pending`` between cycles, a ``--failed`` retry, a re-translation after an edit — is compared
across languages by the next cycle, without the translation feature knowing about stories, and under the cycle lock
that rewriting ``items.jsonl`` needs.

Each member of a story with copies (size ≥ 2) gets ``story`` ({id, size, items, sources, langs}) set
through the item store (so its day file shows the grouping after the run's export), in the transaction
that marks its ``story_items`` row ``synced``. An item alone has no ``story``.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from datetime import date
from pathlib import Path

from crawler import state
from crawler.config import Config, key_location
from crawler.exceptions import ConfigError
from crawler.store import items as item_store
from crawler.stories.index import SPEC, StoryIndex, StorySettings, entries_of, epoch, members_of, story_record
from crawler.tables import config_table

log = logging.getLogger(__name__)

# Items per batch: fingerprinted together, looked up together, one transaction. Each item's ~230 band keys
# land on random pages of the index, so a commit rewrites most of the pages it touched; larger batches share
# those pages and the candidates' rows (read once per batch).
BATCH = 500
CONSUMER = "stories"  # its name on the item change feed
FINGERPRINTED = ("title", "text", "paragraphs", "text_en", "content_hash")


def settings_of(config: Config) -> StorySettings:
    """The ``[stories]`` table (keys and defaults: ``index.SPEC``), validated; errors read
    ``file:line: [stories] key: problem``."""
    table = config_table(config, "stories", SPEC)
    for key in ("threshold", "cross_threshold"):
        if table[key] > 1:
            _fail(config, key, f"a Jaccard similarity: must be ≤ 1, got {table[key]!r}")
    if table["index_days"] < table["window_days"]:
        _fail(config, "index_days", f"must be ≥ window_days ({table['window_days']}), got {table['index_days']!r}")
    return StorySettings(**table)


def _fail(config: Config, key: str, problem: str):
    raise ConfigError(f"{key_location(config, 'stories', key)}: [stories] {key}: {problem}")


def run_stage(ctx) -> dict:
    """Post-crawl stage contract (``crawler.runner``)."""
    settings = settings_of(ctx.config)
    conn = ctx.db()
    try:
        if not settings.enabled:  # the feed is read past, so it can be pruned; items stored meanwhile
            _ids, up_to = item_store.changed_since(conn, CONSUMER, ())  # are not grouped later
            item_store.advance(conn, CONSUMER, up_to)
            return {"enabled": False}
        return update_stories(conn, ctx.output_dir, settings)
    finally:
        conn.close()


def run_beside_crawl(conn: sqlite3.Connection, output_dir: Path, config: Config) -> dict:
    """The stage on the items landed so far, while the crawl goes on (``crawler.crawl.beside``)."""
    settings = settings_of(config)
    return update_stories(conn, output_dir, settings) if settings.enabled else {}


def update_stories(
    conn: sqlite3.Connection, output_dir: str | Path, settings: StorySettings, now: float | None = None
) -> dict:
    """Fingerprint what needs it, group, and write each changed story into its members' JSON."""
    started = time.monotonic()
    now = time.time() if now is None else now
    index = StoryIndex(conn, settings)
    horizon = now - settings.index_days * 86400
    summary = {"items": 0, "copies": 0, "failed": 0, "pruned": index.prune(int(horizon))}
    since_day = date.fromtimestamp(horizon).isoformat()
    work, up_to = pending(conn, since_day, now, int(horizon))
    for start in range(0, len(work), BATCH):
        entries, failed = entries_of(work[start : start + BATCH], now)
        for day, item, exc in failed:  # one bad item never stops the others
            log.warning("stories: item %s (%s) left out: %s", item.get("id"), day, exc)
        with state.transaction(conn):
            results = index.add_many(entries)
        summary["failed"] += len(failed)
        summary["items"] += len(results)
        summary["copies"] += sum(bool(copies) for _story, copies in results)
    summary["synced"] = sync(conn)
    item_store.advance(conn, CONSUMER, up_to)
    summary["seconds"] = round(time.monotonic() - started, 2)
    log.info(
        "stories: %d item(s) fingerprinted, %d found a copy, %d item(s) got their story written, %d failed",
        summary["items"],
        summary["copies"],
        summary["synced"],
        summary["failed"],
    )
    return summary


def pending(conn: sqlite3.Connection, since_day: str, now: float, horizon: int) -> tuple[list[tuple[str, dict]], int]:
    """``((day, item)…, up_to)``: what to fingerprint, first fetched first (the first of a story gives it
    its id), and the feed position to advance to once done."""
    changed, up_to = item_store.changed_since(conn, CONSUMER, FINGERPRINTED)
    recent = [item_id for item_id, day in changed if day >= since_day]
    # In the window but not in the index: a longer index_days than before, or signatures a migration cleared.
    outside = {r[0] for r in conn.execute("SELECT item_id FROM story_items WHERE at >= ? AND indexed = 0", (horizon,))}
    recent += sorted(outside.difference(recent))
    if not item_store.started(conn, CONSUMER):  # a DB from before the feed: its recent items, once
        seen = set(recent)
        recent += [
            r[0]
            for r in conn.execute(
                "SELECT i.id FROM items i LEFT JOIN story_items s ON s.item_id = i.id WHERE i.day >= ? "
                "AND s.item_id IS NULL",
                (since_day,),
            )
            if r[0] not in seen
        ]
    known = _fingerprinted(conn, recent)
    out = []
    for item_id, (day, item) in item_store.load(conn, recent).items():
        if item is None:
            log.warning("stories: items row %s holds no valid JSON; left out", item_id)
            continue
        if item_id in outside or _needs_fingerprint(item, known.get(item_id)):
            item.setdefault("id", item_id)
            out.append((day, item))
    return sorted(out, key=lambda pair: (epoch(pair[1].get("fetched_at"), now), pair[1]["id"])), up_to


def _fingerprinted(conn: sqlite3.Connection, ids: list[str]) -> dict[str, sqlite3.Row]:
    found = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.update(
            {
                r["item_id"]: r
                for r in conn.execute(
                    f"SELECT item_id, content_hash, english FROM story_items WHERE item_id IN "
                    f"({','.join('?' * len(chunk))})",
                    chunk,
                )
            }
        )
    return found


def _needs_fingerprint(item: dict, row: sqlite3.Row | None) -> bool:
    """Never fingerprinted, content changed, or English text that was not there when fingerprinted."""
    return (
        row is None
        or row["content_hash"] != item.get("content_hash")
        or (not row["english"] and bool(item.get("text_en")))
    )


# ---------------------------------------------------------------- the story field in items and items.jsonl


def sync(conn: sqlite3.Connection) -> int:
    """Set ``story`` on every unsynced member of a story with copies. Returns the items written."""
    rows = conn.execute("SELECT item_id, day, story_id FROM story_items WHERE synced = 0").fetchall()
    stories = {
        story_id: story_record(story_id, rows_of)
        for story_id, rows_of in members_of(conn, {r["story_id"] for r in rows}).items()
    }
    by_day: dict[str, dict[str, dict]] = {}
    alone = []
    for row in rows:
        if stories[row["story_id"]]["size"] < 2:
            alone.append(row["item_id"])  # no copies: nothing to say, and the line stays as first written
            continue
        by_day.setdefault(row["day"], {})[row["item_id"]] = stories[row["story_id"]]
    with state.transaction(conn):
        conn.executemany("UPDATE story_items SET synced = 1 WHERE item_id = ?", [(i,) for i in alone])
    written = 0
    for _day, updates in sorted(by_day.items()):
        written += _write_day(conn, updates)
    return written


def _write_day(conn: sqlite3.Connection, updates: dict[str, dict]) -> int:
    with state.transaction(conn):
        for item_id, story in updates.items():
            item_store.update(conn, item_id, {"story": story})
        conn.executemany("UPDATE story_items SET synced = 1 WHERE item_id = ?", [(i,) for i in updates])
    return len(updates)
