"""Post-crawl stage: group syndicated copies into stories (after translation, so English text exists).

Which items it takes is decided by their state, not by the run: an item never fingerprinted, one whose
content changed (an edit, a re-extraction), and one that has English text now but had none when it was
fingerprinted. So a zh/ru item translated later — by ``newsmon translate --pending`` between cycles, a
``--failed`` retry, a re-translation after an edit — is compared across languages by the next cycle,
without the translation feature knowing about stories, and under the cycle lock that rewriting
``items.jsonl`` needs.

Each member of a story with copies (size ≥ 2) gets ``story`` ({id, size, items, sources, langs}) in its
``items`` row and, in place, in its ``items.jsonl`` line (``crawler.jsonl.rewrite``, as the translation
stage does: never a second line), so readers of the JSONL see the grouping without the DB. An item alone
has no ``story`` and keeps its line as first written. The line is matched by id only: a story
belongs to the article, whatever version the line holds. Order per day: the JSONL file first, then the
rows with ``synced = 1`` in one transaction; a kill in between leaves ``synced = 0`` and the next run writes
both again, to the same values.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from datetime import date
from pathlib import Path

from crawler import jsonl, state
from crawler.config import Config, key_location
from crawler.exceptions import ConfigError
from crawler.stories.index import StoryIndex, StorySettings, entry_of, epoch, members, story_record
from crawler.tables import config_table

log = logging.getLogger(__name__)

BATCH = 200        # items per transaction: one commit per item would rewrite ~230 index pages each time

SPEC = {
    "enabled": ((bool,), True, None),
    "window_days": ((int, float), 3, 0),
    "threshold": ((int, float), 0.5, 0.01),
    "cross_threshold": ((int, float), 0.1, 0.01),
    "index_days": ((int, float), 14, 0),
}


def settings_of(config: Config) -> StorySettings:
    """The ``[stories]`` table, validated; errors read ``file:line: [stories] key: problem``."""
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
    if not settings.enabled:
        return {"enabled": False}
    conn = ctx.db()
    try:
        return update_stories(conn, ctx.output_dir, settings)
    finally:
        conn.close()


def update_stories(conn: sqlite3.Connection, output_dir: str | Path, settings: StorySettings,
                   now: float | None = None) -> dict:
    """Fingerprint what needs it, group, and write each changed story into its members' JSON."""
    started = time.monotonic()
    now = time.time() if now is None else now
    index = StoryIndex(conn, settings)
    horizon = now - settings.index_days * 86400
    summary = {"items": 0, "copies": 0, "failed": 0, "pruned": index.prune(int(horizon))}
    since_day = date.fromtimestamp(horizon).isoformat()
    work = pending(conn, since_day, now)
    for start in range(0, len(work), BATCH):
        with state.transaction(conn):
            for day, item in work[start:start + BATCH]:
                _add(index, day, item, now, summary)
    summary["synced"] = sync(conn, Path(output_dir), since_day)
    summary["seconds"] = round(time.monotonic() - started, 2)
    log.info("stories: %d item(s) fingerprinted, %d found a copy, %d item(s) got their story written, %d failed",
             summary["items"], summary["copies"], summary["synced"], summary["failed"])
    return summary


def _add(index: StoryIndex, day: str, item: dict, now: float, summary: dict) -> None:
    try:
        _story, copies = index.add(entry_of(item, day, now))
    except (ValueError, TypeError, AttributeError, KeyError) as exc:   # one bad item never stops the others
        log.warning("stories: item %s (%s) left out: %s", item.get("id"), day, exc)
        summary["failed"] += 1
        return
    summary["items"] += 1
    summary["copies"] += bool(copies)


_PENDING = """
SELECT i.id, i.day, i.json FROM items i LEFT JOIN story_items s ON s.item_id = i.id
WHERE i.day >= ? AND CASE WHEN NOT json_valid(i.json) THEN s.item_id IS NULL ELSE s.item_id IS NULL
   OR s.content_hash IS NOT json_extract(i.json, '$.content_hash')
   OR (s.english = 0 AND coalesce(json_extract(i.json, '$.text_en'), '') != '') END
"""


def pending(conn: sqlite3.Connection, since_day: str, now: float) -> list[tuple[str, dict]]:
    """(day, item) to fingerprint, first fetched first (the first of a story gives it its id)."""
    out = []
    for row in conn.execute(_PENDING, (since_day,)):
        try:
            item = json.loads(row["json"])
        except ValueError as exc:
            log.warning("stories: items row %s holds no valid JSON (%s); left out", row["id"], exc)
            continue
        if isinstance(item, dict):
            item.setdefault("id", row["id"])
            out.append((row["day"], item))
    return sorted(out, key=lambda pair: (epoch(pair[1].get("fetched_at"), now), pair[1]["id"]))


# ---------------------------------------------------------------- the story field in items and items.jsonl

def sync(conn: sqlite3.Connection, output_dir: Path, since_day: str = "") -> int:
    """Write ``story`` into every unsynced member's row and JSONL line. Returns the items written."""
    _unsync_rewritten_rows(conn, since_day)
    rows = conn.execute("SELECT item_id, day, story_id FROM story_items WHERE synced = 0").fetchall()
    stories: dict[str, dict] = {}
    by_day: dict[str, dict[str, dict]] = {}
    alone = []
    for row in rows:
        if row["story_id"] not in stories:
            stories[row["story_id"]] = story_record(row["story_id"], members(conn, row["story_id"]))
        if stories[row["story_id"]]["size"] < 2:
            alone.append(row["item_id"])   # no copies: nothing to say, and the line stays as first written
            continue
        by_day.setdefault(row["day"], {})[row["item_id"]] = stories[row["story_id"]]
    with state.transaction(conn):
        conn.executemany("UPDATE story_items SET synced = 1 WHERE item_id = ?", [(i,) for i in alone])
    written = 0
    for day, updates in sorted(by_day.items()):
        try:
            written += _write_day(conn, output_dir, day, updates)
        except (OSError, ValueError) as exc:   # an unwritable day, or a line that is not JSON, costs no other
            log.error("stories: could not write the stories of %s (%d items; tried again next run): %s",
                      day, len(updates), exc)
    return written


def _unsync_rewritten_rows(conn: sqlite3.Connection, since_day: str) -> None:
    """An items row of the last days written again without its story (a re-fetch stores the item afresh)."""
    conn.execute("UPDATE story_items SET synced = 0 WHERE synced = 1 AND no IN ("
                 "SELECT s.no FROM items i JOIN story_items s ON s.item_id = i.id "
                 "WHERE i.day >= ? AND CASE WHEN json_valid(i.json) "
                 "THEN json_extract(i.json, '$.story.id') IS NOT s.story_id ELSE 0 END "
                 "AND (SELECT COUNT(*) FROM story_items t WHERE t.story_id = s.story_id) > 1)", (since_day,))


def _write_day(conn: sqlite3.Connection, output_dir: Path, day: str, updates: dict[str, dict]) -> int:
    path = output_dir / day / "items.jsonl"

    def update(obj: dict) -> dict | None:
        story = updates.get(obj.get("id"))
        return None if story is None or obj.get("story") == story else {**obj, "story": story}

    if path.exists():
        jsonl.rewrite(path, update)
    with state.transaction(conn):
        for item_id, story in updates.items():
            row = conn.execute("SELECT json FROM items WHERE id = ?", (item_id,)).fetchone()
            item = _loads(row["json"]) if row else None
            if item is not None and item.get("story") != story:
                conn.execute("UPDATE items SET json = ? WHERE id = ?", (jsonl.dumps({**item, "story": story}), item_id))
        conn.executemany("UPDATE story_items SET synced = 1 WHERE item_id = ?", [(i,) for i in updates])
    return len(updates)


def _loads(text: str) -> dict | None:
    try:
        item = json.loads(text)
    except ValueError:
        return None
    return item if isinstance(item, dict) else None
