"""Versions of a stored article, shared by the re-checks' two ways of changing it: an edit found on the site
(``recheck.edited``) and the completion of an incomplete multi-page article (``completion.complete``).

The ``items`` row holds the latest version; ``article_versions`` holds every one, version 1 (as first stored)
written when the second is kept. A new version has its text and content hash from its paragraphs, its
translation reset (pending for zh/ru): whatever else differs (raw copy, timestamps, extras) the caller adds.

A version's English is kept beside it when the version is superseded (the items row's translation, which the
next version resets); the latest version's English is the items row's. ``versions_of`` reads them all back.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from crawler.items import content_hash, empty_translation
from crawler.store import items as item_store

COLUMNS = "article_id, version, fetched_at, title, paragraphs, content_hash, raw_path"


@dataclass(frozen=True)
class Version:
    """One version of an article, with its English when known (an English article: its own text)."""

    number: int
    at: str | None  # when it was fetched
    title: str | None
    paragraphs: list[str]
    title_en: str | None = None
    paragraphs_en: list[str] | None = None  # aligned with ``paragraphs``; None: not translated (yet)


def next_version(item: dict, title: str | None, paragraphs: list[str]) -> dict:
    """``item`` as its next version with this title and these paragraphs."""
    paragraphs = list(paragraphs)
    new = dict(
        item,
        title=title,
        paragraphs=paragraphs,
        text="\n\n".join(paragraphs),
        content_hash=content_hash(title, paragraphs),
        version=int(item.get("version") or 1) + 1,
    )
    new.update(empty_translation(item.get("lang")))
    return new


def keep_version(conn, row, item: dict, new: dict, at: str, diff: dict) -> None:
    """Inside the caller's transaction: ``item`` kept as the first version if it is, ``new`` added to
    ``article_versions`` (``diff``: what changed, in the caller's terms) and made the ``items`` row."""
    keep_first_version(conn, row, item)
    keep_english(conn, row["id"], item)
    conn.execute(
        f"INSERT OR REPLACE INTO article_versions({COLUMNS}, diff) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            row["id"],
            new["version"],
            at,
            new.get("title"),
            json.dumps(new["paragraphs"], ensure_ascii=False),
            new["content_hash"],
            new.get("raw_path") or row["raw_path"],
            json.dumps(diff, ensure_ascii=False),
        ),
    )
    save_item(conn, row, new)


def keep_first_version(conn, row, item: dict) -> None:
    conn.execute(
        f"INSERT OR IGNORE INTO article_versions({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            row["id"],
            int(item.get("version") or 1),
            item.get("fetched_at") or row["first_seen"],
            item.get("title"),
            json.dumps(item.get("paragraphs") or [], ensure_ascii=False),
            item.get("content_hash") or row["content_hash"],
            item.get("raw_path") or row["raw_path"],
        ),
    )


def save_item(conn, row, item: dict) -> None:
    item_store.replace(conn, item)


def keep_english(conn, article_id: str, item: dict) -> None:
    """The English of ``item`` (the latest version, about to be superseded) kept on its version row, when the
    item was translated and the row holds the same text."""
    english = _english_of(item)
    if english is None:
        return
    conn.execute(
        "UPDATE article_versions SET title_en = ?, paragraphs_en = ? WHERE article_id = ? AND version = ? "
        "AND content_hash = ?",
        (
            english[0],
            json.dumps(english[1], ensure_ascii=False),
            article_id,
            int(item.get("version") or 1),
            item.get("content_hash"),
        ),
    )


def _english_of(item: dict) -> tuple[str | None, list[str]] | None:
    """(title, paragraphs) in English, aligned with the item's paragraphs; None when not translated."""
    if item.get("lang") == "en":
        return None  # its own text: read from the original columns
    paragraphs_en = item.get("paragraphs_en")
    if not isinstance(paragraphs_en, list) or len(paragraphs_en) != len(item.get("paragraphs") or []):
        return None
    return item.get("title_en"), paragraphs_en


def versions_of(conn: sqlite3.Connection, article_id: str) -> list[Version]:
    """Every version of the article, oldest first: the kept ones and the latest (the items row). Empty when
    the article is unknown."""
    item = item_store.get(conn, article_id)
    rows = conn.execute(
        "SELECT * FROM article_versions WHERE article_id = ? ORDER BY version", (article_id,)
    ).fetchall()
    english = item is not None and item.get("lang") == "en"
    out = [_version_of_row(r, english) for r in rows]
    if item is not None:
        latest = _version_of_item(item)
        out = [v for v in out if v.number != latest.number] + [latest]
    return out


def _version_of_row(row: sqlite3.Row, english: bool) -> Version:
    paragraphs = json.loads(row["paragraphs"] or "[]")
    if english:
        return Version(row["version"], row["fetched_at"], row["title"], paragraphs, row["title"], paragraphs)
    paragraphs_en = json.loads(row["paragraphs_en"]) if row["paragraphs_en"] else None
    if not isinstance(paragraphs_en, list) or len(paragraphs_en) != len(paragraphs):
        paragraphs_en = None  # not aligned with its original: shown as not translated
    return Version(row["version"], row["fetched_at"], row["title"], paragraphs, row["title_en"], paragraphs_en)


def _version_of_item(item: dict) -> Version:
    paragraphs = list(item.get("paragraphs") or [])
    number, at = int(item.get("version") or 1), item.get("edited_at") or item.get("fetched_at")
    if item.get("lang") == "en":
        return Version(number, at, item.get("title"), paragraphs, item.get("title"), paragraphs)
    english = _english_of(item)
    return Version(number, at, item.get("title"), paragraphs, *(english or (None, None)))
