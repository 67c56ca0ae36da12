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

import json
import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain

import numpy as np

from crawler import state
from crawler.stories import fingerprint as fp
from crawler.stories import shingles
from crawler.tables import Spec, defaults

log = logging.getLogger(__name__)

ENGLISH_SPACE = "en"  # every item's English text is compared with every other's
_NO_KEYS = np.zeros(0, dtype=np.int64)


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
    window_days: float = DEFAULTS["window_days"]  # compare with items fetched this many days before/after
    threshold: float = DEFAULTS["threshold"]  # same language: estimated Jaccard of the originals
    cross_threshold: float = DEFAULTS["cross_threshold"]  # different languages: estimated Jaccard of the English
    index_days: float = DEFAULTS["index_days"]  # fetched longer ago: out of the LSH index (stories stay)


@dataclass
class Entry:
    """One item as the index sees it, with its LSH band keys (``entries_of`` and ``_row_entries`` fill them)."""

    item_id: str
    day: str
    at: int
    source: str
    section: str
    lang: str
    content_hash: str | None
    english: bool  # English text was there to fingerprint
    signature: np.ndarray | None
    signature_en: np.ndarray | None
    # LSH band keys: of the original in its language's space (only its language is compared with it), of
    # the English in the one space of all languages.
    original_keys: np.ndarray = field(default_factory=lambda: _NO_KEYS)
    english_keys: np.ndarray = field(default_factory=lambda: _NO_KEYS)

    @property
    def keys(self) -> np.ndarray:
        return np.concatenate((self.original_keys, self.english_keys))


def with_keys(entries: list[Entry]) -> list[Entry]:
    """Fill the band keys of ``entries`` (from their signatures, one numpy pass per scheme)."""
    originals = [e for e in entries if e.signature is not None]
    if originals:
        keys = fp.band_keys_many(np.stack([e.signature for e in originals]), fp.ORIGINAL, [e.lang for e in originals])
        for entry, row in zip(originals, keys):
            entry.original_keys = row
    english = [e for e in entries if e.signature_en is not None]
    if english:
        keys = fp.band_keys_many(
            np.stack([e.signature_en for e in english]), fp.ENGLISH, [ENGLISH_SPACE] * len(english)
        )
        for entry, row in zip(english, keys):
            entry.english_keys = row
    for entry in entries:
        if entry.signature is None:
            entry.original_keys = _NO_KEYS
        if entry.signature_en is None:
            entry.english_keys = _NO_KEYS
    return entries


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
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def entries_of(work: list[tuple[str, dict]], now: float) -> tuple[list[Entry], list[tuple[str, dict, Exception]]]:
    """Fingerprint ``(day, item)`` pairs, their MinHash computed ``FINGERPRINT_CHUNK`` items at a time:
    (entries in the order given, ``(day, item, error)`` of the items whose fields cannot be read)."""
    entries, failed = [], []
    for start in range(0, len(work), FINGERPRINT_CHUNK):
        done, bad = _fingerprint(work[start : start + FINGERPRINT_CHUNK], now)
        entries += done
        failed += bad
    return with_keys(entries), failed


# Items whose shingle hashes are held at once (8 bytes a shingle) and mixed together.
FINGERPRINT_CHUNK = 200


def _fingerprint(work: list[tuple[str, dict]], now: float) -> tuple[list[Entry], list[tuple[str, dict, Exception]]]:
    entries, originals, englishes, failed = [], [], [], []
    for day, item in work:
        try:
            english = english_text(item)
            entry = Entry(
                item_id=item["id"],
                day=day,
                at=epoch(item.get("fetched_at"), now),
                source=str(item.get("source") or "?"),
                section=str(item.get("section_key") or item.get("source") or "?"),
                lang=str(item.get("lang") or "und"),
                content_hash=item.get("content_hash"),
                english=english is not None,
                signature=None,
                signature_en=None,
            )
            original = shingles.original_hashes(item_text(item))
            hashes_en = shingles.english_hashes(english) if english else shingles.NO_SHINGLES
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            failed.append((day, item, exc))
            continue
        entries.append(entry)
        originals.append(original)
        englishes.append(hashes_en)
    for entry, signature, signature_en in zip(
        entries, fp.minhash_many(originals, fp.ORIGINAL), fp.minhash_many(englishes, fp.ENGLISH)
    ):
        entry.signature = signature
        entry.signature_en = signature_en if entry.english else None
    return entries, failed


# story_items rows (s) with their signatures (g; NULL when it has none: out of the index, or too short).
_SIGNED = "story_items s LEFT JOIN story_signatures g ON g.no = s.no"
_WITH_SIGNATURES = f"SELECT s.*, g.signature, g.signature_en FROM {_SIGNED}"


class StoryIndex:
    """Adds entries to the index and to their stories, a batch at a time."""

    def __init__(self, conn: sqlite3.Connection, settings: StorySettings):
        self.conn = conn
        self.settings = settings
        self.window = int(settings.window_days * 86400)
        # Band keys are random: each item's bands land on pages all over the index. A cache the size of a
        # few weeks' index (64 MB; SQLite's default is 2 MB) keeps them in memory for this connection.
        conn.execute("PRAGMA cache_size = -65536")

    def add(self, entry: Entry) -> tuple[str, list[str]]:
        """Index ``entry`` and put it in its story; returns (story id, item ids of the copies found)."""
        return self.add_many([entry])[0]

    def add_many(self, entries: list[Entry]) -> list[tuple[str, list[str]]]:
        """Index ``entries`` and put each in its story, exactly as adding them one after another in this order
        would: (story id, item ids of the copies found) of each.

        The batch is one savepoint (all or nothing), inside a caller's transaction or as one of its own. Its
        reads are a few queries for all its entries (their rows, one band lookup, the candidates' rows and
        signatures), its writes one ``executemany`` per kind of change. An entry sees the index as it was
        before the batch plus the entries before it: the stored items sharing a band with it, less those the
        batch fingerprints again before it, plus (matched in memory) the entries before it. Stories are
        joined and merged in memory in entry order, then written."""
        results: list[tuple[str, list[str]]] = []
        self.conn.execute("SAVEPOINT story_batch")
        try:
            start = 0
            while start < len(entries):  # an item twice: its second entry starts the next batch
                seen: set[str] = set()
                end = start
                while end < len(entries) and entries[end].item_id not in seen:
                    seen.add(entries[end].item_id)
                    end += 1
                results += self._add_batch(entries[start:end])
                start = end
        except BaseException:
            self.conn.execute("ROLLBACK TO story_batch")
            self.conn.execute("RELEASE story_batch")
            raise
        self.conn.execute("RELEASE story_batch")
        return results

    def _batch(self, entries: list[Entry]) -> _Batch:
        """``entries`` with the story_items rows (and signatures) of those already stored."""
        stored = {
            r["item_id"]: r
            for r in self.conn.execute(
                f"{_WITH_SIGNATURES} WHERE s.item_id IN (SELECT value FROM json_each(?))",
                (_json([e.item_id for e in entries]),),
            )
        }
        return _Batch(entries, stored)

    def _add_batch(self, entries: list[Entry]) -> list[tuple[str, list[str]]]:
        batch = self._batch(entries)
        found = self._stored_candidates(batch, superseded=True)
        same, other = _batch_candidates(batch, self.window)
        copies: list[list[tuple[str, str | None]]] = [[] for _ in entries]  # (item id, stored story)
        for pos, slot in self._confirmed(batch, found):
            copies[pos].append((found.item_ids[slot], found.story_ids[slot]))
        for pos, q in _confirmed_in_batch(batch, same, other, self.settings):
            copies[pos].append((entries[q].item_id, None))
        stories = _Stories(batch, self._first_fetched(batch, found, copies))
        for pos in range(len(entries)):
            stories.join(pos, copies[pos])
        self._write(batch, stories)
        return [(stories.of[p], [item_id for item_id, _story in copies[p]]) for p in range(len(entries))]

    def candidate_counts(self, entries: list[Entry]) -> list[int]:
        """How many stored items are each (stored) entry's candidates: shared band, window, language."""
        batch = self._batch(entries)
        found = self._stored_candidates(batch, superseded=False)
        return np.bincount(found.pos, minlength=len(entries)).tolist()

    # ---------------------------------------------------------------- candidates
    def _stored_candidates(self, batch: _Batch, superseded: bool) -> _Found:
        """The stored items that are an entry's candidates: sharing a band with it, fetched within the window
        around it, of its language through the original's bands or of another through the English's; not
        itself, nor (``superseded``) an item the batch fingerprints again before it."""
        keys, nos = _band_rows(self.conn, np.unique(batch.q_key))
        if not len(nos):
            return _Found.none()
        rows = self.conn.execute(
            "SELECT s.no, s.item_id, s.story_id, s.lang, s.at, g.signature IS NOT NULL, g.signature_en IS NOT NULL "
            f"FROM {_SIGNED} WHERE s.no IN (SELECT value FROM json_each(?)) AND s.at BETWEEN ? AND ? ORDER BY s.no",
            (_json(np.unique(nos)), int(batch.centre.min()) - self.window, int(batch.centre.max()) + self.window),
        ).fetchall()
        if not rows:
            return _Found.none()
        numbers, item_ids, story_ids, langs, ats, has_original, has_english = zip(*rows)
        row_nos = np.array(numbers, dtype=np.int64)
        codes = {lang: batch.lang_code(lang) for lang in set(langs)}
        lang = np.array([codes[x] for x in langs], dtype=np.int64)
        at = np.array(ats, dtype=np.int64)
        has = np.stack([np.array(has_original, dtype=bool), np.array(has_english, dtype=bool)], axis=1)
        slots = np.minimum(np.searchsorted(row_nos, nos), len(row_nos) - 1)
        read = row_nos[slots] == nos  # band rows of items outside the batch's window: not read
        query, slot = _pairs_by_language(batch, keys[read], slots[read], lang[slots[read]])
        pos, kind = batch.q_pos[query], batch.q_kind[query]
        keep = has[slot, kind] & (row_nos[slot] != batch.old_no[pos])
        keep &= np.abs(at[slot] - batch.centre[pos]) <= self.window
        if superseded:  # fingerprinted again earlier in the batch: its new fingerprint is matched instead
            first_seen = np.array([batch.position_of_no.get(int(n), len(batch.entries)) for n in row_nos])
            keep &= first_seen[slot] >= pos
        code = np.unique((pos[keep] * 2 + kind[keep]) * len(row_nos) + slot[keep])
        return _Found(
            pos=code // len(row_nos) // 2,
            kind=code // len(row_nos) % 2,
            slot=code % len(row_nos),
            nos=row_nos,
            item_ids=list(item_ids),
            story_ids=list(story_ids),
        )

    def _confirmed(self, batch: _Batch, found: _Found) -> Iterator[tuple[int, int]]:
        """(entry, slot) of the stored candidates that are copies: same language, originals compared
        (``threshold``); different languages, their English (``cross_threshold``)."""
        for kind, column, threshold in (
            (0, "signature", self.settings.threshold),
            (1, "signature_en", self.settings.cross_threshold),
        ):
            chosen = found.kind == kind
            if not chosen.any():
                continue
            pos, slot = found.pos[chosen], found.slot[chosen]
            wanted = np.unique(slot)
            blobs = dict(
                self.conn.execute(
                    f"SELECT no, {column} FROM story_signatures WHERE no IN (SELECT value FROM json_each(?))",
                    (_json(found.nos[wanted]),),
                )
            )
            stored = np.frombuffer(b"".join(blobs[int(n)] for n in found.nos[wanted]), dtype="<u4").reshape(
                len(wanted), -1
            )
            passing = _agreeing(batch.signatures[kind], pos, stored, np.searchsorted(wanted, slot), threshold)
            yield from zip(pos[passing].tolist(), slot[passing].tolist())

    def _first_fetched(
        self, batch: _Batch, found: _Found, copies: list[list[tuple[str, str | None]]]
    ) -> dict[str, int]:
        """When the first item of each story that can take part in a join was fetched (a story's id is
        that of its first item): stories of the stored copies, the batch's own."""
        ids = {story for pairs in copies for _item, story in pairs if story} | {
            r["story_id"] for r in batch.stored.values()
        }
        ids -= set(batch.at_of)
        at = dict(batch.at_of)
        if ids:
            at.update(
                self.conn.execute(
                    "SELECT item_id, at FROM story_items WHERE item_id IN (SELECT value FROM json_each(?))",
                    (_json(sorted(ids)),),
                ).fetchall()
            )
        return at

    # ---------------------------------------------------------------- writes
    def _write(self, batch: _Batch, stories: _Stories) -> None:
        entries, stored = batch.entries, batch.stored
        again = [e for e in entries if e.item_id in stored]
        gone = with_keys(_row_entries([stored[e.item_id] for e in again if stored[e.item_id]["indexed"]]))
        self._delete_bands(gone, [stored[e.item_id]["no"] for e in again if stored[e.item_id]["indexed"]])
        self.conn.executemany(
            "UPDATE story_items SET day=?, source=?, section=?, lang=?, content_hash=?, english=?, indexed=1 "
            "WHERE no=?",
            [(*_values(e), stored[e.item_id]["no"]) for e in again],
        )
        new = [(p, e) for p, e in enumerate(entries) if e.item_id not in stored]
        self.conn.executemany(
            "INSERT INTO story_items(day, source, section, lang, content_hash, english, item_id, at, story_id) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            [(*_values(e), e.item_id, e.at, stories.final(stories.of[p])) for p, e in new],
        )
        # Merged stories: their stored members move to the story they merged into (at the end of the batch).
        self.conn.executemany(
            "UPDATE story_items SET story_id = ? WHERE story_id = ?",
            [(stories.final(m), m) for m in stories.merged_into],
        )
        self.conn.executemany(
            "UPDATE story_items SET story_id = ? WHERE no = ?",
            [
                (stories.final(stories.of[p]), stored[e.item_id]["no"])
                for p, e in enumerate(entries)
                if e.item_id in stored
            ],
        )
        # A story that grew or merged: its members' JSON shows it no longer.
        self.conn.executemany(
            "UPDATE story_items SET synced = 0 WHERE story_id = ?",
            [(s,) for s in sorted({stories.final(t) for t in stories.changed})],
        )
        numbers = dict(
            self.conn.execute(
                "SELECT item_id, no FROM story_items WHERE item_id IN (SELECT value FROM json_each(?))",
                (_json([e.item_id for e in entries]),),
            ).fetchall()
        )
        item_nos = [numbers[e.item_id] for e in entries]
        self._write_signatures(entries, item_nos)
        self._insert_bands(entries, item_nos)

    def _write_signatures(self, entries: list[Entry], numbers: list[int]) -> None:
        self.conn.executemany("DELETE FROM story_signatures WHERE no = ?", [(n,) for n in numbers])
        self.conn.executemany(
            "INSERT INTO story_signatures(no, signature, signature_en) VALUES (?, ?, ?)",
            [
                (n, fp.to_blob(e.signature), fp.to_blob(e.signature_en))
                for e, n in zip(entries, numbers)
                if e.signature is not None or e.signature_en is not None
            ],
        )

    def _insert_bands(self, entries: list[Entry], numbers: list[int]) -> None:
        # Sorted by key: consecutive inserts land on neighbouring pages of the index (about twice as fast).
        self.conn.executemany(
            "INSERT OR IGNORE INTO story_bands(key, item) VALUES (?, ?)", _band_pairs(entries, numbers)
        )

    def _delete_bands(self, entries: list[Entry], numbers: list[int]) -> None:
        """Delete rows' band rows by their keys (recomputed from their stored signatures: no table scan)."""
        self.conn.executemany("DELETE FROM story_bands WHERE key = ? AND item = ?", _band_pairs(entries, numbers))

    def prune(self, before: int) -> int:
        """Take items fetched before ``before`` out of the LSH index, and drop their signatures: only an indexed
        item is ever a candidate, and an item that old is not fingerprinted again (``stage.pending`` looks at
        the index's days only). What stays of it is its story. Returns how many."""
        rows = self.conn.execute(f"{_WITH_SIGNATURES} WHERE s.indexed = 1 AND s.at < ?", (before,)).fetchall()
        if rows:
            with state.transaction(self.conn):
                self._delete_bands(with_keys(_row_entries(rows)), [r["no"] for r in rows])
                numbers = [(r["no"],) for r in rows]
                self.conn.executemany("DELETE FROM story_signatures WHERE no = ?", numbers)
                self.conn.executemany("UPDATE story_items SET indexed = 0 WHERE no = ?", numbers)
        return len(rows)


class _Batch:
    """The entries of one ``add_many`` batch as arrays: their queries (one per band key), stored rows,
    languages (as small integers), when they were fetched."""

    def __init__(self, entries: list[Entry], stored: dict[str, sqlite3.Row]):
        self.entries = entries
        self.stored = stored
        self._langs: dict[str, int] = {}
        self.lang = np.array([self.lang_code(e.lang) for e in entries], dtype=np.int64)
        self.centre = np.array([e.at for e in entries], dtype=np.int64)  # the window is around this
        # A stored item keeps the time of its first fetch: that is what other items' windows compare.
        self.at_of = {e.item_id: stored[e.item_id]["at"] if e.item_id in stored else e.at for e in entries}
        self.at = np.array([self.at_of[e.item_id] for e in entries], dtype=np.int64)
        self.old_no = np.array(
            [stored[e.item_id]["no"] if e.item_id in stored else -1 for e in entries], dtype=np.int64
        )
        self.position_of_no = {int(no): p for p, no in enumerate(self.old_no) if no >= 0}
        self.has = np.array(
            [[e.signature is not None, e.signature_en is not None] for e in entries], dtype=bool
        ).reshape(-1, 2)
        self.signatures = (
            _matrix([e.signature for e in entries], fp.ORIGINAL.size),
            _matrix([e.signature_en for e in entries], fp.ENGLISH.size),
        )
        parts = [
            (p, kind, keys)
            for p, e in enumerate(entries)
            for kind, keys in ((0, e.original_keys), (1, e.english_keys))
            if len(keys)
        ]
        self.q_key = np.concatenate([k for _p, _kind, k in parts]) if parts else _NO_KEYS
        self.q_pos = np.concatenate([np.full(len(k), p) for p, _kind, k in parts]) if parts else _NO_KEYS
        self.q_kind = np.concatenate([np.full(len(k), kind) for _p, kind, k in parts]) if parts else _NO_KEYS

    def lang_code(self, lang: str) -> int:
        return self._langs.setdefault(lang, len(self._langs))


@dataclass
class _Found:
    """Stored candidates: entry position, kind (0 same language, 1 other), slot in the rows read."""

    pos: np.ndarray
    kind: np.ndarray
    slot: np.ndarray
    nos: np.ndarray
    item_ids: list[str]
    story_ids: list[str]

    @classmethod
    def none(cls) -> _Found:
        return cls(_NO_KEYS, _NO_KEYS, _NO_KEYS, _NO_KEYS, [], [])


class _Stories:
    """Stories joined and merged in memory, in entry order, as ``StoryIndex.add`` of each in turn would."""

    def __init__(self, batch: _Batch, first_fetched: dict[str, int]):
        self.batch = batch
        self.first_fetched = first_fetched
        self.of: list[str | None] = [None] * len(batch.entries)  # each entry's story when it joined
        self.merged_into: dict[str, str] = {}
        self.changed: set[str] = set()  # stories whose members' JSON is stale
        self.positions = {e.item_id: p for p, e in enumerate(batch.entries)}

    def final(self, story: str) -> str:
        while story in self.merged_into:
            story = self.merged_into[story]
        return story

    def join(self, pos: int, copies: list[tuple[str, str | None]]) -> None:
        """Put the entry in the oldest of its own story and the stories of its copies; merge the others.
        A copy's story: the stored one (``story``) for a stored item, else that of the entry it is."""
        entry = self.batch.entries[pos]
        row = self.batch.stored.get(entry.item_id)
        own = self.final(row["story_id"]) if row is not None else None
        found = {
            self.final(story if story is not None else self.of[self.positions[item_id]]) for item_id, story in copies
        }
        stories = found | ({own} if own else set())
        if not stories:
            self.of[pos] = own or entry.item_id
            return
        target = min(stories, key=lambda s: (self.first_fetched.get(s, float("inf")), s))
        merged = sorted(stories - {target})
        for story in merged:
            self.merged_into[story] = target
        if merged:
            log.debug("stories %s merged into %s", merged, target)
        self.of[pos] = target
        if merged or own != target:  # its members' story (size, sources) changed
            self.changed.add(target)


def _batch_candidates(batch: _Batch, window: int) -> tuple[np.ndarray, np.ndarray]:
    """(entry, earlier entry) pairs sharing a band, in the window, same language through the original's
    bands (first array) or another language through the English's (second); each pair once."""
    keys = np.concatenate([e.keys for e in batch.entries]) if batch.entries else _NO_KEYS
    owners = (
        np.concatenate([np.full(len(e.original_keys) + len(e.english_keys), p) for p, e in enumerate(batch.entries)])
        if batch.entries
        else _NO_KEYS
    )
    query, q = _pairs_by_language(batch, keys, owners, batch.lang[owners])
    pos, kind = batch.q_pos[query], batch.q_kind[query]
    keep = (q < pos) & batch.has[q, kind] & (np.abs(batch.at[q] - batch.centre[pos]) <= window)
    n = len(batch.entries)
    out = []
    for wanted in (0, 1):
        chosen = keep & (kind == wanted)
        code = np.unique(pos[chosen] * n + q[chosen])
        out.append(np.stack([code // n, code % n], axis=1) if len(code) else np.zeros((0, 2), np.int64))
    return out[0], out[1]


def _confirmed_in_batch(
    batch: _Batch, same: np.ndarray, other: np.ndarray, settings: StorySettings
) -> Iterator[tuple[int, int]]:
    for kind, pairs, threshold in ((0, same, settings.threshold), (1, other, settings.cross_threshold)):
        if len(pairs):
            signatures = batch.signatures[kind]
            passing = _agreeing(signatures, pairs[:, 0], signatures, pairs[:, 1], threshold)
            yield from zip(pairs[passing, 0].tolist(), pairs[passing, 1].tolist())


def _agreeing(
    left: np.ndarray, li: np.ndarray, right: np.ndarray, ri: np.ndarray, threshold: float, chunk: int = 4096
) -> np.ndarray:
    """Which pairs (``left[li[k]]``, ``right[ri[k]]``) agree on at least ``threshold`` of their hashes."""
    out = np.zeros(len(li), dtype=bool)
    size = left.shape[1]
    for start in range(0, len(li), chunk):
        agree = np.count_nonzero(left[li[start : start + chunk]] == right[ri[start : start + chunk]], axis=1)
        out[start : start + chunk] = agree / size >= threshold
    return out


def _pairs_by_language(
    batch: _Batch, keys: np.ndarray, values: np.ndarray, langs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(query index, value) for every band key of the batch's queries found in ``keys``, where the value's
    language (``langs``) is the entry's for an original's band and another for an English band. Each
    language's keys are searched apart, so the pairs the language rules out are never made: items of one
    language whose English bands agree (one outlet's boilerplate; a corpus of a small vocabulary) would
    otherwise pair each entry with all of them."""
    entry_lang = batch.lang[batch.q_pos]
    found_query, found_value = [_NO_KEYS], [_NO_KEYS]
    for lang in np.unique(langs):
        own = langs == lang
        order = np.argsort(keys[own], kind="stable")
        wanted = np.flatnonzero(np.where(batch.q_kind == 0, entry_lang == lang, entry_lang != lang))
        query, value = _pairs(batch.q_key[wanted], keys[own][order], values[own][order])
        found_query.append(wanted[query])
        found_value.append(value)
    return np.concatenate(found_query), np.concatenate(found_value)


def _pairs(queries: np.ndarray, keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (query index, value) with ``keys[j] == queries[query]`` → ``values[j]``; ``keys`` sorted."""
    # Searched for in sorted order (each distinct key once): the binary searches then walk the array in
    # one direction, in cache, instead of jumping all over it.
    distinct, which = np.unique(queries, return_inverse=True)
    lo = np.searchsorted(keys, distinct, "left")
    counts = (np.searchsorted(keys, distinct, "right") - lo)[which]
    lo = lo[which]
    query = np.repeat(np.arange(len(queries)), counts)
    offsets = np.arange(len(query)) - np.repeat(np.cumsum(counts) - counts, counts)
    return query, values[np.repeat(lo, counts) + offsets]


def _band_rows(conn: sqlite3.Connection, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(keys, items) of the ``story_bands`` rows of ``keys``, sorted by key."""
    rows = conn.execute(
        "SELECT key, item FROM story_bands WHERE key IN (SELECT value FROM json_each(?))", (_json(keys),)
    )
    # Flattened straight into the array: np.array() of a list of row tuples infers their shape row by row.
    found = np.fromiter(chain.from_iterable(rows), dtype=np.int64).reshape(-1, 2)
    order = np.argsort(found[:, 0], kind="stable")
    return found[order, 0], found[order, 1]


def _band_pairs(entries: list[Entry], numbers: list[int]) -> list[tuple[int, int]]:
    if not entries:
        return []
    keys = np.concatenate([e.keys for e in entries])
    items = np.repeat(np.array(numbers, dtype=np.int64), [len(e.original_keys) + len(e.english_keys) for e in entries])
    order = np.lexsort((items, keys))
    return list(zip(keys[order].tolist(), items[order].tolist()))


def _matrix(signatures: list[np.ndarray | None], size: int) -> np.ndarray:
    out = np.zeros((len(signatures), size), dtype=np.uint32)
    for row, signature in enumerate(signatures):
        if signature is not None:
            out[row] = signature
    return out


def _values(entry: Entry) -> tuple:
    return (
        entry.day,
        entry.source,
        entry.section,
        entry.lang,
        entry.content_hash,
        int(entry.english),
    )


def _json(values) -> str:
    return json.dumps(values.tolist() if isinstance(values, np.ndarray) else list(values))


def _row_entries(rows: list[sqlite3.Row]) -> list[Entry]:
    return [
        Entry(
            row["item_id"],
            row["day"],
            row["at"],
            row["source"],
            row["section"],
            row["lang"],
            row["content_hash"],
            bool(row["english"]),
            fp.from_blob(row["signature"]),
            fp.from_blob(row["signature_en"]),
        )
        for row in rows
    ]


def members_of(conn: sqlite3.Connection, story_ids: set[str]) -> dict[str, list[sqlite3.Row]]:
    """The items of each story, first fetched first, read in one query."""
    out: dict[str, list[sqlite3.Row]] = {story_id: [] for story_id in story_ids}
    for row in conn.execute(
        "SELECT story_id, item_id, source, section, lang, at FROM story_items WHERE story_id "
        "IN (SELECT value FROM json_each(?)) ORDER BY story_id, at, item_id",
        (_json(sorted(story_ids)),),
    ):
        out[row["story_id"]].append(row)
    return out


def story_record(story_id: str, rows: list[sqlite3.Row]) -> dict:
    """The ``story`` field of each member item."""
    return {
        "id": story_id,
        "size": len(rows),
        "items": [r["item_id"] for r in rows],
        "sources": sorted({r["source"] for r in rows}),
        "langs": sorted({r["lang"] for r in rows}),
    }
