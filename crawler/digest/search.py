"""Archive search: every item in the state DB, full text in the original and in English.

The index (``search_docs`` + the trigram FTS5 table ``search_fts``, schema ``schema/0005_search.sql``) is
fed from the ``items`` table: ``update_index`` indexes the items the item change feed shows changed since
it last ran (consumer ``search``), ``rebuild_index`` redoes all.

Query language: whitespace separates terms that must all occur; ``"a phrase"`` is one term. Each term
matches as a case-insensitive substring of the title or text, original or English. Terms of three or
more characters use the trigram index; shorter ones (``"中俄"``, ``"EU"``) are checked by a scan of the
rows the other filters leave, which is exact but slower on a large archive.
"""

from __future__ import annotations

import json
import logging
import re
import shlex
import sqlite3
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Iterable

from crawler import state
from crawler.exceptions import NewsmonError
from crawler.progress import Progress
from crawler.store import items as item_store

log = logging.getLogger(__name__)

# Items per transaction: FTS5 keeps a transaction's postings in memory and writes them out as one segment at
# the commit, so a batch bounds that memory; the cost is the trigram indexing itself, whatever the batch size.
BATCH = 500
PROGRESS_MIN = 500
TRIGRAM = 3
DOC_FIELDS = ("id", "day", "date", "source", "section", "lang", "url", "title", "title_en", "text", "text_en",
              "translation", "version")


class SearchError(NewsmonError):
    """A query that cannot be run (empty, or malformed filters)."""


def open_archive(output_dir) -> sqlite3.Connection:
    """The state DB of an existing output directory (a mistyped --output is an error, not a new DB)."""
    if not state.db_path(output_dir).exists():
        raise NewsmonError(f"no archive at {state.db_path(output_dir)}: run `newsmon run` first, or give "
                           f"--output DIR (the directory holding state.sqlite)")
    return state.connect(output_dir)


# ---------------------------------------------------------------- indexing

def doc_of(item: dict, day: str) -> dict:
    """The ``search_docs`` row of one item."""
    published = item.get("published_at") or ""
    date = published[:10] if re.match(r"^\d{4}-\d{2}-\d{2}", published) else day
    section = item.get("section_key") or f"{item.get('source', '')}/{item.get('section', '')}"
    return {
        "id": item["id"], "day": day, "date": date, "source": item.get("source") or section.split("/")[0],
        "section": section, "lang": item.get("lang"), "url": item.get("url") or "",
        "title": item.get("title"), "title_en": item.get("title_en"),
        "text": item.get("text") or "\n\n".join(item.get("paragraphs") or []),
        "text_en": item.get("text_en") or ("\n\n".join(item["paragraphs_en"]) if item.get("paragraphs_en") else None),
        "translation": (item.get("translation") or {}).get("status"),
        "version": int(item.get("version") or 1),
    }


UPSERT = (f"INSERT INTO search_docs({', '.join(DOC_FIELDS)}) VALUES ({', '.join('?' * len(DOC_FIELDS))}) "
          f"ON CONFLICT(id) DO UPDATE SET "
          + ", ".join(f"{f} = excluded.{f}" for f in DOC_FIELDS[1:]))


CONSUMER = "search"                 # its name on the item change feed (crawler.store.items)


def stale_ids(conn: sqlite3.Connection) -> tuple[list[str], int]:
    """``(ids, up_to)``: items changed since the index was last brought up to date (any field).

    The first update of a DB (no cursor yet: a new DB, or one upgraded from before the change feed)
    also takes the items the index lacks and the index rows whose item is gone: items stored before the
    index existed are in no feed row (the upgrade turns only the old queue, ``search_pending``, into feed
    rows), and the index of an older newsmon caught them up this way on every update."""
    changed, up_to = item_store.changed_since(conn, CONSUMER)
    ids = [item_id for item_id, _day in changed]
    if not item_store.started(conn, CONSUMER):
        seen = set(ids)
        ids += [r[0] for r in conn.execute(_NOT_IN_STEP) if r[0] not in seen]
    return ids, up_to


_NOT_IN_STEP = ("SELECT i.id FROM items i LEFT JOIN search_docs d ON d.id = i.id WHERE d.id IS NULL "
                "UNION SELECT d.id FROM search_docs d LEFT JOIN items i ON i.id = d.id WHERE i.id IS NULL")


def skip_changes(conn: sqlite3.Connection) -> None:
    """Mark every change read without indexing it (the index is switched off)."""
    _changed, up_to = item_store.changed_since(conn, CONSUMER)
    item_store.advance(conn, CONSUMER, up_to)


def index_ids(conn: sqlite3.Connection, ids: list[str], *, progress: bool = False) -> int:
    """Bring the index rows of ``ids`` up to date (insert, update or delete). Returns rows touched."""
    touched = 0
    if len(ids) > 1000:
        conn.execute("PRAGMA cache_size = -65536")    # 64 MB for this connection: fewer FTS page reloads
    bar = Progress("search index", len(ids)) if progress else None
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        with state.transaction(conn):
            touched += _index_batch(conn, batch)
        if bar:
            bar.advance(len(batch))
    if bar:
        bar.finish()
    return touched


def _index_batch(conn: sqlite3.Connection, batch: list[str]) -> int:
    """Index rows of ``batch``: one read of its items, each JSON parsed once, one ``executemany`` each for
    the rows to delete and the rows to upsert."""
    rows = conn.execute("SELECT id, day, json FROM items WHERE id IN (SELECT value FROM json_each(?))",
                        (json.dumps(batch),)).fetchall()
    found = {r["id"]: r for r in rows}
    docs = []
    for item_id in batch:
        row = found.get(item_id)
        if row is None:
            continue
        try:
            doc = doc_of(json.loads(row["json"]), row["day"])
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("item %s: unreadable stored JSON, not indexed: %s", item_id, exc)
            continue
        docs.append([doc[f] for f in DOC_FIELDS])
    conn.executemany("DELETE FROM search_docs WHERE id = ?", [(i,) for i in batch if i not in found])
    conn.executemany(UPSERT, docs)
    return len(batch)


def update_index(conn: sqlite3.Connection, *, progress: bool = False) -> int:
    """Incremental: index what changed since the last update. Returns items (re)indexed.
    With ``progress``, a long catch-up (``PROGRESS_MIN`` items or more) shows its progress."""
    ids, up_to = stale_ids(conn)
    touched = index_ids(conn, ids, progress=progress and len(ids) >= PROGRESS_MIN)
    item_store.advance(conn, CONSUMER, up_to)
    return touched


def rebuild_index(conn: sqlite3.Connection, *, progress: bool = True) -> int:
    """Rebuild the full-text index from scratch, then recompute every row from ``items``.

    The FTS5 'rebuild' comes first: it makes the index match ``search_docs`` whatever state it was in
    (a damaged index would make the update triggers fail), and the upserts then keep it in step."""
    with state.transaction(conn):
        conn.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
    _ids, up_to = stale_ids(conn)
    ids = [r[0] for r in conn.execute("SELECT id FROM items UNION SELECT id FROM search_docs ORDER BY 1")]
    count = index_ids(conn, ids, progress=progress)
    item_store.advance(conn, CONSUMER, up_to)
    conn.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
    return count


# ---------------------------------------------------------------- querying

@dataclass
class Filters:
    since: str | None = None       # publication date (else crawl day) ≥ since, YYYY-MM-DD
    until: str | None = None
    source: str | None = None      # a source id or a "source/section" key
    lang: str | None = None


@dataclass
class Hit:
    doc: dict
    contexts: list[tuple[str, str]] = field(default_factory=list)   # (language, text around the match)


@dataclass
class Results:
    total: int
    hits: list[Hit]
    terms: list[str]


def parse_terms(query: str) -> list[str]:
    """Terms of a query: whitespace-separated words, or "quoted phrases"."""
    try:
        parts = shlex.split(query)
    except ValueError:                       # an unbalanced quote: take the words as they are
        parts = query.replace('"', " ").split()
    terms = [p.strip() for p in parts if p.strip()]
    if not terms:
        raise SearchError("empty query: give a word or phrase, e.g. newsmon search \"两国人民\"")
    return terms


def fts_expression(terms: Iterable[str]) -> str | None:
    """FTS5 MATCH expression for the terms the trigram index can serve (≥ 3 characters), ANDed."""
    long_terms = ['"' + t.replace('"', '""') + '"' for t in terms if len(t) >= TRIGRAM]
    return " AND ".join(long_terms) or None


def search(conn: sqlite3.Connection, query: str, filters: Filters | None = None, *, limit: int = 20,
           order: str = "date") -> Results:
    """Run a query. ``order``: "date" (newest first) or "relevance" (bm25)."""
    terms = parse_terms(query)
    filters = filters or Filters()
    _check_filters(filters)
    _register_functions(conn)
    where, params, from_ = _where(terms, filters)
    order_by = "d.date DESC, d.id" if order == "date" or not fts_expression(terms) else "f.rank, d.date DESC"
    total = conn.execute(f"SELECT count(*) FROM {from_} WHERE {where}", params).fetchone()[0]
    rows = conn.execute(f"SELECT d.* FROM {from_} WHERE {where} ORDER BY {order_by} LIMIT ?",
                        [*params, limit]).fetchall()
    hits = [Hit(dict(r), contexts_of(dict(r), terms)) for r in rows]
    return Results(total, hits, terms)


def _where(terms: list[str], filters: Filters) -> tuple[str, list, str]:
    clauses, params = [], []
    expression = fts_expression(terms)
    from_ = "search_docs d"
    if expression:
        from_ = "search_fts f JOIN search_docs d ON d.rowid = f.rowid"
        clauses.append("search_fts MATCH ?")
        params.append(expression)
    for term in terms:
        if len(term) < TRIGRAM:
            clause, values = _short_term(term)
            clauses.append(clause)
            params.extend(values)
    for column, op, value in (("d.date", ">=", filters.since), ("d.date", "<=", filters.until),
                              ("d.lang", "=", filters.lang)):
        if value:
            clauses.append(f"{column} {op} ?")
            params.append(value)
    if filters.source:
        clauses.append("(d.source = ? OR d.section = ?)")
        params.extend([filters.source, filters.source])
    return " AND ".join(clauses), params, from_


TEXT_COLUMNS = ("d.title", "d.title_en", "d.text", "d.text_en")


def _short_term(term: str) -> tuple[str, list]:
    """A scan condition for a term the trigram index cannot serve, as cheap as its script allows:
    ``instr`` for caseless scripts (Chinese), ``LIKE`` for ASCII (case-insensitive there), else a
    Python case-folding comparison (Cyrillic)."""
    if term.lower() == term.upper():
        return "(" + " OR ".join(f"instr({c}, ?)" for c in TEXT_COLUMNS) + ")", [term] * len(TEXT_COLUMNS)
    if term.isascii():
        pattern = "%" + re.sub(r"([%_\\])", r"\\\1", term) + "%"
        return ("(" + " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in TEXT_COLUMNS) + ")",
                [pattern] * len(TEXT_COLUMNS))
    return "nm_contains(?, d.title, d.title_en, d.text, d.text_en)", [term]


def _check_filters(filters: Filters) -> None:
    for name in ("since", "until"):
        value = getattr(filters, name)
        if value and not re.match(r"^\d{4}-\d{2}-\d{2}$", value):
            raise SearchError(f"--{name} {value!r}: expected a date YYYY-MM-DD")


def _contains(term: str, *fields: str | None) -> int:
    needle = term.casefold()
    return int(any(needle in f.casefold() for f in fields if f))


def _register_functions(conn: sqlite3.Connection) -> None:
    conn.create_function("nm_contains", 5, _contains, deterministic=True)


# ---------------------------------------------------------------- context of a hit

def contexts_of(doc: dict, terms: list[str], width: int = 90) -> list[tuple[str, str]]:
    """Text around the best match (the paragraph matching most of the query), in the original and, from
    the aligned paragraph, in English."""
    lang = doc.get("lang") or "orig"
    orig = [doc.get("title") or ""] + (doc.get("text") or "").split("\n\n")
    english: list[str] = []
    if lang != "en" and (doc.get("text_en") or doc.get("title_en")):
        english = [doc.get("title_en") or ""] + (doc.get("text_en") or "").split("\n\n")
    rows = list(zip_longest(orig, english, fillvalue=""))
    best = max(range(len(rows)), key=lambda i: (_score(rows[i][0], terms) + _score(rows[i][1], terms), -i))
    original, translated = rows[best]
    out = [(lang, _window(original, _find(original, terms), width))] if original else []
    if translated:
        out.append(("en", _window(translated, _find(translated, terms), width)))
    return out


def _score(text: str, terms: list[str]) -> int:
    folded = text.casefold()
    return sum(len(t) for t in terms if t.casefold() in folded)


def _find(text: str, terms: list[str]) -> int | None:
    """Where the longest term found in ``text`` starts."""
    folded = text.casefold()
    for term in sorted(terms, key=len, reverse=True):
        at = folded.find(term.casefold())
        if at >= 0:
            return at
    return None


def _window(text: str, at: int | None, width: int) -> str:
    """About ``2 * width`` characters of ``text`` around position ``at`` (the start when None)."""
    if at is None:
        at = 0
    start = max(0, at - width)
    end = min(len(text), at + width)
    if at == 0 or start == 0:
        end = min(len(text), 2 * width)
    return ("…" if start > 0 else "") + text[start:end] + ("…" if end < len(text) else "")
