"""Versions of a stored article, shared by the re-checks' two ways of changing it: an edit found on the site
(``recheck.edited``) and the completion of an incomplete multi-page article (``completion.complete``).

The ``items`` row holds the latest version; ``article_versions`` holds every one, version 1 (as first stored)
written when the second is kept. A new version has its text and content hash from its paragraphs, its
translation reset (pending for zh/ru): whatever else differs (raw copy, timestamps, extras) the caller adds.
"""

from __future__ import annotations

import json

from crawler.items import content_hash, empty_translation
from crawler.store import items as item_store


def next_version(item: dict, title: str | None, paragraphs: list[str]) -> dict:
    """``item`` as its next version with this title and these paragraphs."""
    paragraphs = list(paragraphs)
    new = dict(item, title=title, paragraphs=paragraphs, text="\n\n".join(paragraphs),
               content_hash=content_hash(title, paragraphs), version=int(item.get("version") or 1) + 1)
    new.update(empty_translation(item.get("lang")))
    return new


def keep_version(conn, row, item: dict, new: dict, at: str, diff: dict) -> None:
    """Inside the caller's transaction: ``item`` kept as the first version if it is, ``new`` added to
    ``article_versions`` (``diff``: what changed, in the caller's terms) and made the ``items`` row."""
    keep_first_version(conn, row, item)
    conn.execute("INSERT OR REPLACE INTO article_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (row["id"], new["version"], at, new.get("title"), json.dumps(new["paragraphs"], ensure_ascii=False),
                  new["content_hash"], new.get("raw_path") or row["raw_path"], json.dumps(diff, ensure_ascii=False)))
    save_item(conn, row, new)


def keep_first_version(conn, row, item: dict) -> None:
    conn.execute("INSERT OR IGNORE INTO article_versions VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                 (row["id"], int(item.get("version") or 1), item.get("fetched_at") or row["first_seen"],
                  item.get("title"), json.dumps(item.get("paragraphs") or [], ensure_ascii=False),
                  item.get("content_hash") or row["content_hash"], item.get("raw_path") or row["raw_path"]))


def save_item(conn, row, item: dict) -> None:
    item_store.replace(conn, item)
