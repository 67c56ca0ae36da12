"""Archive search on PostgreSQL: the index table and the query of ``crawler.digest.search`` there.

``search_fts`` (schema ``schema/0014_search_compact.postgresql.sql``) holds one row per ``search_docs`` row:
its titles and text, original and English, folded as phrases fold them (ё = е) and lower-cased, under a
``pg_trgm`` GIN index. A query narrows the rows with ``body LIKE '%word%'`` for each word of three or more
characters (served by the trigram index, Chinese included), its filters in SQL, and the phrases are decided
in Python on the rows left (``search._matches``, the function SQLite calls as ``nm_phrases``): the same
phrase semantics, so the same results as FTS5 on SQLite. Relevance is ``search._relevance`` alike.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from typing import Any

from crawler.phrases import fold, parse
from crawler.store import items as item_store

TRIGRAM = 3
BODY_FIELDS = ("title", "title_en", "text", "text_en")


def body_of(doc: dict) -> str:
    """What ``search_fts.body`` holds for a doc: its fields folded, lower-cased, one per line."""
    return "\n".join(fold(doc.get(f) or "").lower() for f in BODY_FIELDS)


def store_docs(conn: Any, docs: list[dict], keys: list[int], row_fields: tuple[str, ...]) -> None:
    """``search.store_docs`` on PostgreSQL, in a few round trips for the whole batch: a doc whose text is
    indexed already (same key) updates its row; the others replace theirs (the index row goes with it: a
    foreign key) by a new row and its folded text. ``docs`` with their ``keys`` (``search.text_key``)."""
    raw = conn.raw
    old = {
        r[0]: (r[1], r[2])
        for r in raw.execute(
            "SELECT id, rowid, text_key FROM search_docs WHERE id = ANY(%s)", [[d["id"] for d in docs]]
        )
    }
    same = [(d, k) for d, k in zip(docs, keys) if d["id"] in old and old[d["id"]][1] == k]
    fresh = [(d, k) for d, k in zip(docs, keys) if not (d["id"] in old and old[d["id"]][1] == k)]
    with raw.cursor() as cursor:
        if same:
            cursor.executemany(
                f"UPDATE search_docs SET {', '.join(f'{f} = %s' for f in row_fields[1:])} WHERE rowid = %s",
                [[d[f] for f in row_fields[1:]] + [old[d["id"]][0]] for d, _k in same],
            )
        gone = [old[d["id"]][0] for d, _k in fresh if d["id"] in old]
        if gone:
            cursor.execute("DELETE FROM search_docs WHERE rowid = ANY(%s)", [gone])
        if fresh:
            cursor.executemany(
                f"INSERT INTO search_docs({', '.join(row_fields)}, text_key) "
                f"VALUES ({', '.join(['%s'] * (len(row_fields) + 1))}) RETURNING rowid",
                [[d[f] for f in row_fields] + [k] for d, k in fresh],
                returning=True,
            )
            rowids = []
            while True:
                rowids.append(cursor.fetchone()[0])
                if not cursor.nextset():
                    break
            cursor.executemany(
                "INSERT INTO search_fts(rowid, body) VALUES (%s, %s)",
                [(rowid, body_of(d)) for rowid, (d, _k) in zip(rowids, fresh)],
            )


def clear(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM search_fts")


def indexed_rows(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM search_fts").fetchone()[0])


def _like(word: str) -> str:
    return "%" + re.sub(r"([%_\\])", r"\\\1", fold(word).lower()) + "%"


def candidates(conn: sqlite3.Connection, terms: list[str], filters: Any) -> list[Any]:
    """Rows (``search_docs`` columns, the item's ``day`` and ``json``) that may match: every word of three or
    more characters in the folded text, and the SQL filters."""
    words = dict.fromkeys(w.lower() for t in terms for w in parse(t).words if len(w) >= TRIGRAM)
    clauses, params = [], []
    from_ = "search_docs d JOIN items i ON i.id = d.id"
    if words:
        from_ += " JOIN search_fts f ON f.rowid = d.rowid"
        for word in words:
            clauses.append("f.body LIKE ? ESCAPE '\\'")
            params.append(_like(word))
    for column, op, value in (
        ("d.date", ">=", filters.since),
        ("d.date", "<=", filters.until),
        ("d.lang", "=", filters.lang),
    ):
        if value:
            clauses.append(f"{column} {op} ?")
            params.append(value)
    if filters.source:
        clauses.append("(d.source = ? OR d.section = ?)")
        params.extend([filters.source, filters.source])
    where = " AND ".join(clauses) or "TRUE"
    return conn.execute(
        f"SELECT d.id, d.date, d.title, d.title_en, i.day, i.json FROM {from_} WHERE {where}", params
    ).fetchall()


def ranked_ids(
    conn: sqlite3.Connection,
    terms: list[str],
    filters: Any,
    order: str,
    *,
    doc_of: Callable,
    matches: Callable,
    relevance: Callable,
) -> list[str]:
    """Every matching item's id, in the order asked ("date": newest first; "relevance"). ``doc_of``,
    ``matches`` and ``relevance`` are search's own (an item's doc, the phrase test, the relevance)."""
    terms_json = json.dumps(terms, ensure_ascii=False)
    found = []
    for row in candidates(conn, terms, filters):
        item = item_store.loads(row["json"])
        if item is None:
            continue
        if filters.flag and filters.flag not in (item.get("flags") or []):
            continue
        full = doc_of(item, row["day"])
        fields = (row["title"], row["title_en"], full["text"] or None, full["text_en"] or None)
        if terms and not matches(terms_json, *fields):
            continue
        score = relevance(terms_json, *fields) if order != "date" and terms else 0.0
        found.append((row["id"], row["date"], score))
    found.sort(key=lambda f: f[0])  # ties: by id
    found.sort(key=lambda f: f[1], reverse=True)  # then newest first
    if order != "date":
        found.sort(key=lambda f: f[2], reverse=True)
    return [f[0] for f in found]
