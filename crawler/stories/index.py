"""The story index in the state DB: fingerprint an item, find its candidates by LSH, confirm, join stories.

An item's candidates are the items sharing at least one band key with it (``story_bands``, an index
lookup) that were fetched within the look-back window of it. A candidate is a copy when the estimated
Jaccard similarity passes the threshold of the pair: ``threshold`` on the original texts for two items of
one language, ``cross_threshold`` on their English for two items of different languages (translations
paraphrase, so the same threshold would miss them). A copy puts the item in the candidate's story; an item
that is a copy of members of two stories merges them (single linkage: the older story keeps its id).
Stories only grow: an edited item is fingerprinted again and may join more, but never leaves its story.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from functools import cached_property
from datetime import datetime, timezone

import numpy as np

from crawler import state
from crawler.stories import fingerprint as fp
from crawler.tables import Spec, defaults

log = logging.getLogger(__name__)

ENGLISH_SPACE = "en"            # every item's English text is compared with every other's


# The [stories] table: key → (types, default, minimum); StorySettings takes its defaults from here.
SPEC: Spec = {
    "enabled": ((bool,), True, None),
    "window_days": ((int, float), 3, 0),
    "threshold": ((int, float), 0.5, 0.01),
    "cross_threshold": ((int, float), 0.1, 0.01),
    "index_days": ((int, float), 14, 0),
}
DEFAULTS = defaults(SPEC)


@dataclass(frozen=True)
class StorySettings:
    enabled: bool = DEFAULTS["enabled"]
    window_days: float = DEFAULTS["window_days"]          # compare with items fetched this many days before/after
    threshold: float = DEFAULTS["threshold"]              # same language: estimated Jaccard of the originals
    cross_threshold: float = DEFAULTS["cross_threshold"]  # different languages: estimated Jaccard of the English
    index_days: float = DEFAULTS["index_days"]            # fetched longer ago: out of the LSH index (stories stay)


@dataclass
class Entry:
    """One item as the index sees it."""

    item_id: str
    day: str
    at: int
    source: str
    section: str
    lang: str
    content_hash: str | None
    english: bool                            # English text was there to fingerprint
    signature: np.ndarray | None
    signature_en: np.ndarray | None

    @cached_property
    def original_keys(self) -> list[int]:
        """LSH band keys of the original, in its language's space (only its language is compared)."""
        return [] if self.signature is None else fp.band_keys(self.signature, fp.ORIGINAL, self.lang)

    @cached_property
    def english_keys(self) -> list[int]:
        return [] if self.signature_en is None else fp.band_keys(self.signature_en, fp.ENGLISH, ENGLISH_SPACE)

    @property
    def keys(self) -> list[int]:
        return self.original_keys + self.english_keys


def english_text(item: dict) -> str | None:
    """The item's text in English: its own when English, else its translation (None until translated)."""
    text = item.get("text") if item.get("lang") == "en" else item.get("text_en")
    return text if isinstance(text, str) and text.strip() else None


def item_text(item: dict) -> str:
    text = item.get("text")
    if text is None:
        text = "\n\n".join(item.get("paragraphs") or [])
    if not isinstance(text, str):
        raise ValueError(f"text is a {type(text).__name__}, not a string")
    return text


def epoch(stamp: str | None, default: float) -> int:
    """Unix seconds of an ISO-8601 time (naive = UTC); ``default`` when missing or unreadable."""
    try:
        moment = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return int(default)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


def entry_of(item: dict, day: str, now: float) -> Entry:
    """Fingerprint an item (raises ValueError for an item without usable text fields)."""
    english = english_text(item)
    return Entry(
        item_id=item["id"], day=day, at=epoch(item.get("fetched_at"), now),
        source=str(item.get("source") or "?"), section=str(item.get("section_key") or item.get("source") or "?"),
        lang=str(item.get("lang") or "und"), content_hash=item.get("content_hash"), english=english is not None,
        signature=fp.minhash(fp.original_shingles(item_text(item)), fp.ORIGINAL),
        signature_en=fp.minhash(fp.english_shingles(english), fp.ENGLISH) if english else None)


class StoryIndex:
    """Adds entries to the index and to their stories, one transaction per entry."""

    def __init__(self, conn: sqlite3.Connection, settings: StorySettings):
        self.conn = conn
        self.settings = settings
        self.window = int(settings.window_days * 86400)
        # Band keys are random: each item's bands land on pages all over the index. A cache the size of a
        # few weeks' index (64 MB; SQLite's default is 2 MB) keeps them in memory for this connection.
        conn.execute("PRAGMA cache_size = -65536")

    def add(self, entry: Entry) -> tuple[str, list[str]]:
        """Index ``entry`` and put it in its story; returns (story id, item ids of the copies found).

        All or nothing (a savepoint): inside a caller's transaction — the stage commits items in batches,
        as every item's bands land on ~230 random pages of the index — or as one of its own."""
        self.conn.execute("SAVEPOINT story_item")
        try:
            number, story = self._upsert(entry)
            self._insert_bands(number, entry.keys)
            copies = self.copies(entry, number)
            story = self._join(entry.item_id, story, {c["story_id"] for c in copies})
        except BaseException:
            self.conn.execute("ROLLBACK TO story_item")
            self.conn.execute("RELEASE story_item")
            raise
        self.conn.execute("RELEASE story_item")
        return story, [c["item_id"] for c in copies]

    # ---------------------------------------------------------------- rows and bands
    def _upsert(self, entry: Entry) -> tuple[int, str | None]:
        old = self.conn.execute("SELECT * FROM story_items WHERE item_id = ?", (entry.item_id,)).fetchone()
        values = (entry.day, entry.source, entry.section, entry.lang, entry.content_hash, int(entry.english),
                  fp.to_blob(entry.signature), fp.to_blob(entry.signature_en))
        if old is None:
            cur = self.conn.execute(
                "INSERT INTO story_items(day, source, section, lang, content_hash, english, signature, signature_en, "
                "item_id, at, story_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)", (*values, entry.item_id, entry.at,
                                                                          entry.item_id))
            return int(cur.lastrowid), None
        self._delete_bands(old)                         # fingerprinted again: the old bands go
        self.conn.execute("UPDATE story_items SET day=?, source=?, section=?, lang=?, content_hash=?, english=?, "
                          "signature=?, signature_en=?, indexed=1 WHERE no=?", (*values, old["no"]))
        return int(old["no"]), old["story_id"]

    def _insert_bands(self, number: int, keys: list[int]) -> None:
        self.conn.executemany("INSERT OR IGNORE INTO story_bands(key, item) VALUES (?, ?)",
                              [(key, number) for key in keys])

    def _delete_bands(self, row: sqlite3.Row) -> None:
        """Delete a row's band rows by their keys (recomputed from its stored signatures: no table scan)."""
        if not row["indexed"]:
            return
        keys = _row_entry(row).keys
        self.conn.executemany("DELETE FROM story_bands WHERE key = ? AND item = ?", [(k, row["no"]) for k in keys])

    def prune(self, before: int) -> int:
        """Take items fetched before ``before`` out of the LSH index. Returns how many."""
        rows = self.conn.execute("SELECT * FROM story_items WHERE indexed = 1 AND at < ?", (before,)).fetchall()
        if rows:
            with state.transaction(self.conn):
                for row in rows:
                    self._delete_bands(row)
                self.conn.executemany("UPDATE story_items SET indexed = 0 WHERE no = ?", [(r["no"],) for r in rows])
        return len(rows)

    # ---------------------------------------------------------------- candidates and copies
    def candidates(self, entry: Entry, number: int) -> tuple[list[sqlite3.Row], list[sqlite3.Row]]:
        """Items fetched within the window around ``entry`` that share a band with it: (items of its language,
        through the original's bands; items of other languages, through the English's). Each row: no,
        item_id, story_id and the signature to compare."""
        window = (number, entry.at - self.window, entry.at + self.window)
        return (self._lookup(entry.original_keys, "signature", "lang = ?", entry.lang, window),
                self._lookup(entry.english_keys, "signature_en", "lang != ?", entry.lang, window))

    def _lookup(self, keys: list[int], column: str, same_or_not: str, lang: str,
                window: tuple[int, int, int]) -> list[sqlite3.Row]:
        if not keys:
            return []
        marks = ",".join("?" * len(keys))
        return self.conn.execute(
            f"SELECT no, item_id, story_id, {column} AS signature FROM story_items "
            f"WHERE no IN (SELECT item FROM story_bands WHERE key IN ({marks})) AND {same_or_not} "
            f"AND {column} IS NOT NULL AND no != ? AND at BETWEEN ? AND ?", (*keys, lang, *window)).fetchall()

    def copies(self, entry: Entry, number: int) -> list[sqlite3.Row]:
        """The candidates that are copies: one language, originals compared (``threshold``); different
        languages, their English (``cross_threshold``: translations paraphrase)."""
        same, other = self.candidates(entry, number)
        return (_passing(entry.signature, same, self.settings.threshold)
                + _passing(entry.signature_en, other, self.settings.cross_threshold))

    # ---------------------------------------------------------------- stories
    def _join(self, item_id: str, own: str | None, found: set[str]) -> str:
        """Put the item in the oldest of its own story and the stories of its copies; merge the others."""
        stories = found | ({own} if own else set())
        if not stories:
            return own or item_id
        target = self._oldest(stories)
        merged = sorted(stories - {target})
        if merged:
            marks = ",".join("?" * len(merged))
            self.conn.execute(f"UPDATE story_items SET story_id = ? WHERE story_id IN ({marks})", (target, *merged))
            log.debug("stories %s merged into %s", merged, target)
        self.conn.execute("UPDATE story_items SET story_id = ? WHERE item_id = ?", (target, item_id))
        if merged or own != target:                    # its members' story (size, sources) changed
            self.conn.execute("UPDATE story_items SET synced = 0 WHERE story_id = ?", (target,))
        return target

    def _oldest(self, stories: set[str]) -> str:
        """The story whose first item was fetched first (ties: the smaller id)."""
        marks = ",".join("?" * len(stories))
        rows = self.conn.execute(f"SELECT item_id, at FROM story_items WHERE item_id IN ({marks})",
                                 tuple(stories)).fetchall()
        known = {r["item_id"]: r["at"] for r in rows}
        return min(stories, key=lambda s: (known.get(s, float("inf")), s))


def _passing(signature: np.ndarray | None, rows: list[sqlite3.Row], threshold: float) -> list[sqlite3.Row]:
    """The rows whose signature agrees with ``signature`` on at least ``threshold`` of its hashes."""
    if signature is None or not rows:
        return []
    matrix = np.frombuffer(b"".join(r["signature"] for r in rows), dtype="<u4").reshape(len(rows), -1)
    scores = np.count_nonzero(matrix == signature, axis=1) / len(signature)
    return [row for row, score in zip(rows, scores) if score >= threshold]


def _row_entry(row: sqlite3.Row) -> Entry:
    return Entry(row["item_id"], row["day"], row["at"], row["source"], row["section"], row["lang"],
                 row["content_hash"], bool(row["english"]), fp.from_blob(row["signature"]),
                 fp.from_blob(row["signature_en"]))


def members(conn: sqlite3.Connection, story_id: str) -> list[sqlite3.Row]:
    """The items of a story, first fetched first."""
    return conn.execute("SELECT item_id, source, section, lang, at FROM story_items WHERE story_id = ? "
                        "ORDER BY at, item_id", (story_id,)).fetchall()


def story_record(story_id: str, rows: list[sqlite3.Row]) -> dict:
    """The ``story`` field of each member item."""
    return {"id": story_id, "size": len(rows), "items": [r["item_id"] for r in rows],
            "sources": sorted({r["source"] for r in rows}), "langs": sorted({r["lang"] for r in rows})}
