"""Pending items, and their translation written back through the item store.

The translation fields of an item are set only if it still has the content hash it was translated from:
an item edited while being translated keeps its new version pending. The day files follow from the DB at the
end of the run (or of ``newsmon translate``): a kill before the commit leaves the items pending, and the next
run translates them again from the memory, without the model.
"""

from __future__ import annotations

import logging
import sqlite3

from crawler import state
from crawler.items import TRANSLATION_FIELDS
from crawler.store import items as item_store

log = logging.getLogger(__name__)


def pending_items(
    conn: sqlite3.Connection, statuses: tuple[str, ...], langs: tuple[str, ...]
) -> list[tuple[str, dict]]:
    """``(day, item)`` for every item of ``langs`` whose translation status is one of ``statuses``."""
    return item_store.by_translation_status(conn, statuses, langs)


def pending_counts(conn: sqlite3.Connection, statuses: tuple[str, ...]) -> dict[str, int]:
    """Language → items whose translation status is one of ``statuses`` (no item is read)."""
    return item_store.count_by_translation_status(conn, statuses)


def save(conn: sqlite3.Connection, updates: dict[str, tuple[str, dict]]) -> int:
    """Write ``updates`` (item id → (content_hash, translation fields)) in one transaction. Returns items
    updated (an item edited meanwhile is not: it stays pending)."""
    saved = 0
    with state.transaction(conn):
        for item_id, (content_hash, fields) in updates.items():
            new = {k: fields[k] for k in TRANSLATION_FIELDS}
            if item_store.update(conn, item_id, new, expect_hash=content_hash) is None:
                log.info("item %s changed while being translated; its new version stays pending", item_id)
            else:
                saved += 1
    return saved
