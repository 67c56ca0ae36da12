"""The item store: the only writer of the ``items`` table, and the change feed every reader of new items follows.

An item is the JSON object of ``crawler.items.Item``; its row keeps it (``json``) with the columns that are
queried: ``day`` (the day file holding its line), ``seq`` (insertion order = line order) and
``translation_status`` (the translation queue, indexed). The row leaves out what it can rebuild exactly —
``text`` when it is ``paragraphs`` joined by blank lines, ``text_en`` likewise of ``paragraphs_en``: each
article's text once, not twice, two fifths of a row — and names it in ``DERIVED``; ``loads`` puts it back
where it was, so every reader, and the day file's line (``line``), sees the whole item. On SQLite the row's
JSON is stored Zstandard-compressed (a BLOB: half the size, and compressing costs less than writing the
bytes saved); PostgreSQL compresses large values itself, so there it is the JSON text. Read rows through
``loads``, never with ``json.loads``; SQL reads a row's JSON through ``sql_json`` (the ``nm_item`` function
``register`` adds to SQLite connections) and an item's text by joining its paragraphs.

Every write also appends one row to ``item_changes`` — the item, its day, which fields changed — in the
same transaction. Features read the feed from their own cursor (``changed_since`` … ``advance``): the
translation queue aside, that is how the search index, watch matching, stories and the day-file export
learn what is new without scanning the archive, and a crash between a write and its readers loses nothing
(the cursor only moves once a reader's work is committed).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Iterator
from functools import lru_cache

from crawler.items import Item
from crawler.store import zstd
from crawler.store.published import normalised

log = logging.getLogger(__name__)

ALL_FIELDS = "*"  # the change of a whole item: inserted, replaced by a new version, imported
REMOVE = object()  # ``update(…, field=REMOVE)`` deletes the field from the item


def dumps(item: dict) -> str:
    """The exported form, the day file's line: compact JSON, UTF-8 without ``\\u`` escapes."""
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"))


# (field, the list it joins): a field left out of the row when it is that list joined by a blank line and
# comes right before it (so that putting it back restores the item's key order, and its line, exactly).
JOINED = (("text", "paragraphs"), ("text_en", "paragraphs_en"))
DERIVED = "_derived"  # the row's first key when it left some out: their names


def row_json(item: dict) -> str:
    """The stored form: ``dumps`` of the item without the fields ``JOINED`` rebuilds."""
    keys = list(item)
    derived = [
        field
        for field, joined in JOINED
        if field in item
        and joined in item
        and keys.index(field) + 1 == keys.index(joined)
        and _joins(item, field, joined)
    ]
    kept = {k: v for k, v in item.items() if k not in derived and k != DERIVED}  # DERIVED is no item field
    return dumps({DERIVED: derived, **kept} if derived else kept)


def _joins(item: dict, field: str, joined: str) -> bool:
    return _texts(item[joined]) and item[field] == "\n\n".join(item[joined])


def _texts(value) -> bool:
    """A list of strings: what a JOINED field can be rebuilt from."""
    return isinstance(value, list) and all(isinstance(p, str) for p in value)


ROW_LEVEL = 3  # zstd level of a row: levels 6-9 save another 3% at two to three times the time


def stored(conn: sqlite3.Connection, item: dict) -> str | bytes:
    """The ``json`` column's value of ``item`` on ``conn``: ``row_json``, compressed on SQLite."""
    text = row_json(item)
    # crawler.state.is_postgresql's test, which this module, imported by crawler.state, cannot call
    return text if getattr(conn, "dialect", "sqlite") == "postgresql" else compressed(text)


def compressed(text: str) -> bytes:
    """A row's JSON text as SQLite stores it."""
    return zstd.compress(text.encode("utf-8"), ROW_LEVEL)


def row_text(value: str | bytes | None) -> str | None:
    """A ``json`` column's JSON text (None when a compressed row cannot be read back)."""
    if value is None or isinstance(value, str):
        return value
    try:
        return zstd.decompress(value).decode("utf-8")
    except (zstd.ZstdError, UnicodeDecodeError, ValueError, TypeError):
        return None


SQL_FUNCTION = "nm_item"  # SQL: a row's JSON text (``crawler.store.dialect`` reads it as the column on PostgreSQL)


def sql_json(column: str = "json") -> str:
    """SQL for the JSON text of the ``json`` column ``column`` (``i.json``): what ``->>`` and ``json_each`` read."""
    return f"{SQL_FUNCTION}({column})"


def register(conn: sqlite3.Connection) -> None:
    """Add ``SQL_FUNCTION`` to a SQLite connection. The last rows read are kept: one statement often reads
    several fields of the same row."""
    conn.create_function(SQL_FUNCTION, 1, lru_cache(maxsize=8)(row_text), deterministic=True)


def loads(value: str | bytes | None) -> dict | None:
    """An item from its row, whole (None when the row holds no JSON object: named by the caller, never fatal)."""
    text = row_text(value)
    if text is None:
        return None
    try:
        item = json.loads(text)
    except ValueError:
        return None
    if not isinstance(item, dict):
        return None
    derived = item.pop(DERIVED, None)
    if not derived:
        return item
    if not isinstance(derived, list):
        return None
    whole = {}
    for key, value in item.items():
        for field, joined in JOINED:
            if key == joined and field in derived:
                if not _texts(value):
                    return None  # a damaged row: what it left out cannot be rebuilt
                whole[field] = "\n\n".join(value)
        whole[key] = value
    return whole


def line(value: str | bytes) -> str | None:
    """The day file's line of a stored row (without its newline): a row that is not JSON as it is, None when a
    compressed row cannot be read back (``verify`` names both)."""
    row = row_text(value)
    if row is None or not row.startswith('{"' + DERIVED + '"'):
        return row
    item = loads(row)
    return dumps(item) if item is not None else row


def _status(item: dict) -> str | None:
    translation = item.get("translation")
    return translation.get("status") if isinstance(translation, dict) else None


# ---------------------------------------------------------------- writing


def insert(conn: sqlite3.Connection, item: Item | dict, day: str) -> bool:
    """Store a new item on ``day`` (inside the caller's transaction). False when its id is already stored.
    Its ``published_at`` is stored in one form (``crawler.store.published``)."""
    item = normalised(item)
    cur = conn.execute(
        "INSERT INTO items(id, day, lang, translation_status, json) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
        (item["id"], day, item.get("lang"), _status(item), stored(conn, item)),
    )
    if cur.rowcount == 0:
        return False
    _changed(conn, item["id"], day, [ALL_FIELDS])
    return True


def insert_article(
    conn: sqlite3.Connection,
    item: Item | dict,
    day: str,
    *,
    run_id: int | None,
    first_seen: str,
    etag: str | None = None,
    last_modified: str | None = None,
    further_pages: Iterable[tuple[str, str]] = (),
) -> bool:
    """Store a new article: its ``articles`` row (what the crawl and the re-checks look up), its further
    pages (``article_pages``: (canonical URL, id)) and its item — inside the caller's transaction. False when
    its canonical URL is already stored (nothing is written then)."""
    item = normalised(item)
    cur = conn.execute(
        "INSERT INTO articles(canonical_url, id, source, section, url, day, run_id, first_seen, "
        "last_fetched, published_at, title, content_hash, etag, last_modified, raw_path) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(canonical_url) DO NOTHING",
        (
            item["canonical_url"],
            item["id"],
            item["source"],
            item["section_key"],
            item["url"],
            day,
            run_id,
            first_seen,
            first_seen,
            item.get("published_at"),
            item.get("title"),
            item["content_hash"],
            etag,
            last_modified,
            item.get("raw_path"),
        ),
    )
    if cur.rowcount == 0:
        return False
    if not insert(conn, item, day):
        raise sqlite3.IntegrityError(f"item {item['id']} is stored under another canonical URL")
    conn.executemany(
        "INSERT OR IGNORE INTO article_pages(canonical_url, article_id) VALUES (?, ?)", list(further_pages)
    )
    return True


def article_fetched(
    conn: sqlite3.Connection,
    item_id: str,
    at: str,
    *,
    etag: str | None,
    last_modified: str | None,
    raw_path: str | None = None,
) -> None:
    """A re-check fetched the article again: when, its validators, and (a new version's) raw page."""
    conn.execute(
        "UPDATE articles SET last_fetched = ?, etag = ?, last_modified = ?, "
        "raw_path = COALESCE(?, raw_path) WHERE id = ?",
        (at, etag, last_modified, raw_path, item_id),
    )


def article_deleted(conn: sqlite3.Connection, item_id: str, at: str) -> None:
    """The site deleted the article (confirmed by the re-checks): it is not re-checked again."""
    conn.execute("UPDATE articles SET status = 'deleted', last_fetched = ? WHERE id = ?", (at, item_id))


def update(conn: sqlite3.Connection, item_id: str, fields: dict, *, expect_hash: str | None = None) -> dict | None:
    """Set ``fields`` on the stored item (``REMOVE`` deletes one). With ``expect_hash``, only if the item
    still has that content hash (it may have been edited meanwhile). Returns the item as stored now, or None
    when it is missing, unreadable or of another content hash. Writes nothing when nothing differs."""
    row = conn.execute("SELECT day, json FROM items WHERE id = ?", (item_id,)).fetchone()
    item = loads(row["json"]) if row else None
    if item is None:
        if row is not None:
            log.warning("items row %s holds no valid JSON; not updated", item_id)
        return None
    if expect_hash is not None and item.get("content_hash") != expect_hash:
        return None
    changed = [k for k, v in fields.items() if (k in item if v is REMOVE else item.get(k, REMOVE) != v)]
    if not changed:
        return item
    for key, value in fields.items():
        if value is REMOVE:
            item.pop(key, None)
        else:
            item[key] = value
    _write(conn, item_id, row["day"], item, changed)
    return item


def replace(conn: sqlite3.Connection, item: Item | dict) -> None:
    """Make ``item`` (a new version of a stored one, same id) the stored item, whole."""
    row = conn.execute("SELECT day FROM items WHERE id = ?", (item["id"],)).fetchone()
    if row is None:
        raise KeyError(f"item {item['id']} is not stored")
    _write(conn, item["id"], row["day"], dict(normalised(item)), [ALL_FIELDS])


def _write(conn: sqlite3.Connection, item_id: str, day: str, item: dict, fields: list[str]) -> None:
    conn.execute(
        "UPDATE items SET json = ?, lang = ?, translation_status = ? WHERE id = ?",
        (stored(conn, item), item.get("lang"), _status(item), item_id),
    )
    # The articles row mirrors these for the crawl's and the re-checks' lookups.
    if ALL_FIELDS in fields or {"title", "content_hash", "published_at"} & set(fields):
        conn.execute(
            "UPDATE articles SET title = ?, content_hash = ?, published_at = ? WHERE id = ?",
            (item.get("title"), item.get("content_hash"), item.get("published_at"), item_id),
        )
    _changed(conn, item_id, day, fields)


def _changed(conn: sqlite3.Connection, item_id: str, day: str, fields: list[str]) -> None:
    conn.execute(
        "INSERT INTO item_changes(item_id, day, fields) VALUES (?, ?, ?)", (item_id, day, ",".join(sorted(fields)))
    )


def touch_day(conn: sqlite3.Connection, day: str) -> None:
    """Ask for ``day``'s file to be exported again (``newsmon verify --repair``) without changing an item."""
    conn.execute("INSERT INTO item_changes(item_id, day, fields) VALUES ('', ?, '')", (day,))


# ---------------------------------------------------------------- reading


def get(conn: sqlite3.Connection, item_id: str) -> dict | None:
    row = conn.execute("SELECT json FROM items WHERE id = ?", (item_id,)).fetchone()
    return loads(row["json"]) if row else None


def load(conn: sqlite3.Connection, ids: list[str]) -> dict[str, tuple[str, dict | None]]:
    """Item id → (day, item or None when unreadable), for the stored ones among ``ids``."""
    out: dict[str, tuple[str, dict | None]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = conn.execute(f"SELECT id, day, json FROM items WHERE id IN ({','.join('?' * len(chunk))})", chunk)
        out.update({r["id"]: (r["day"], loads(r["json"])) for r in rows})
    return out


def day_rows(conn: sqlite3.Connection, day: str) -> Iterator[sqlite3.Row]:
    """``(id, json)`` rows of a day's items in line order."""
    return conn.execute("SELECT id, json FROM items WHERE day = ? ORDER BY seq", (day,))


def days(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT DISTINCT day FROM items ORDER BY day")]


def by_translation_status(
    conn: sqlite3.Connection, statuses: Iterable[str], langs: Iterable[str]
) -> list[tuple[str, dict]]:
    """``(day, item)`` of every item of ``langs`` whose translation status is one of ``statuses`` (indexed)."""
    statuses, langs = tuple(statuses), tuple(langs)
    rows = conn.execute(
        f"SELECT id, day, json FROM items WHERE translation_status IN "
        f"({','.join('?' * len(statuses))}) AND lang IN ({','.join('?' * len(langs))}) "
        f"ORDER BY day, id",
        statuses + langs,
    )
    out = []
    for row in rows:
        item = loads(row["json"])
        if item is None:
            log.warning("items row %s holds no valid JSON; skipped", row["id"])
        else:
            out.append((row["day"], item))
    return out


def count_by_translation_status(conn: sqlite3.Connection, statuses: Iterable[str]) -> dict[str, int]:
    """Language → items whose translation status is one of ``statuses`` (indexed: no JSON is read)."""
    statuses = tuple(statuses)
    rows = conn.execute(
        f"SELECT lang, count(*) FROM items WHERE translation_status IN ({','.join('?' * len(statuses))}) GROUP BY lang",
        statuses,
    )
    return {row[0] or "und": row[1] for row in rows}


# ---------------------------------------------------------------- the change feed


def changed_since(
    conn: sqlite3.Connection, consumer: str, fields: Iterable[str] | None = None
) -> tuple[list[tuple[str, str]], int]:
    """``([(item id, day)…], up_to)``: the items changed since ``consumer``'s cursor (once each, in feed
    order), only changes touching one of ``fields`` when given; ``up_to`` is what to ``advance`` to."""
    cursor = position(conn, consumer)
    wanted = set(fields) | {ALL_FIELDS} if fields is not None else None
    seen: dict[str, str] = {}
    up_to = cursor
    for row in conn.execute("SELECT seq, item_id, day, fields FROM item_changes WHERE seq > ? ORDER BY seq", (cursor,)):
        up_to = row["seq"]
        if not row["item_id"]:
            continue
        if wanted is None or wanted & set(row["fields"].split(",")):
            seen.pop(row["item_id"], None)
            seen[row["item_id"]] = row["day"]
    return list(seen.items()), up_to


def changed_days(conn: sqlite3.Connection, consumer: str) -> tuple[list[str], int]:
    """``(days, up_to)``: the days with any change since ``consumer``'s cursor."""
    cursor = position(conn, consumer)
    row = conn.execute("SELECT max(seq) FROM item_changes WHERE seq > ?", (cursor,)).fetchone()
    if row[0] is None:
        return [], cursor
    found = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT day FROM item_changes WHERE seq > ? AND seq <= ? ORDER BY day", (cursor, row[0])
        )
    ]
    return found, row[0]


def started(conn: sqlite3.Connection, consumer: str) -> bool:
    """Has ``consumer`` ever read the feed? (Not yet: a new DB, or one upgraded from before the feed.)"""
    return conn.execute("SELECT 1 FROM feed_cursors WHERE consumer = ?", (consumer,)).fetchone() is not None


def feed_end(conn: sqlite3.Connection) -> int:
    """The feed's last position (0 while empty): what a reader that has read everything advances to."""
    return conn.execute("SELECT coalesce(max(seq), 0) FROM item_changes").fetchone()[0]


def position(conn: sqlite3.Connection, consumer: str) -> int:
    row = conn.execute("SELECT seq FROM feed_cursors WHERE consumer = ?", (consumer,)).fetchone()
    return row[0] if row else 0


def advance(conn: sqlite3.Connection, consumer: str, up_to: int) -> None:
    conn.execute(
        "INSERT INTO feed_cursors(consumer, seq) VALUES (?, ?) "
        "ON CONFLICT(consumer) DO UPDATE SET seq = CASE WHEN excluded.seq > feed_cursors.seq "
        "THEN excluded.seq ELSE feed_cursors.seq END",
        (consumer, up_to),
    )  # portable: no max(a, b)


def prune(conn: sqlite3.Connection, consumers: Iterable[str]) -> int:
    """Drop the changes every consumer has read. Returns rows dropped."""
    lowest = min((position(conn, c) for c in consumers), default=0)
    return conn.execute("DELETE FROM item_changes WHERE seq <= ?", (lowest,)).rowcount
