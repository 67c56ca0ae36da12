"""Archive search: every item in the state DB, full text in the original and in English.

The index (``search_docs`` + the trigram FTS5 table ``search_fts``, schema ``schema/0014_search_compact.sql``)
is fed from the ``items`` table: ``update_index`` indexes the items the item change feed shows changed since
it last ran (consumer ``search``), ``rebuild_index`` redoes all.

Storage: the text is kept once, in ``items``. ``search_docs`` holds the fields search filters on and shows,
without the text; ``search_fts`` is contentless with ``detail=none`` (which rows hold each trigram, no
positions, no copy of the text). An item whose text changes gets a new ``search_docs`` rowid and a new index
row: a contentless index cannot remove a row without being given the text it indexed, which is gone by the
time the change feed is read. The rows left behind match no ``search_docs`` row; ``update_index`` compacts
the index when they exceed a quarter of the live ones.

Query language: whitespace separates terms that must all occur; ``"a phrase"`` is one term. Each term is
a phrase of the one syntax watches and subjects use (``crawler.phrases``, docs/watch.md): case-insensitive,
ё = е, Chinese as a substring, other scripts on word boundaries, ``Путин*`` for any word ending; it is
searched in the title and text, original or English. Each word of three or more characters is looked up in
the index as its trigrams ANDed (without positions this finds every item holding the word, and some holding
its trigrams apart; a trigram with е also as ё); every candidate is then checked against its text, as
shorter terms (``"中俄"``, ``"EU"``) are checked on the rows the other filters leave — exact, and slower on
a large archive when no word of three characters narrows the rows.

On PostgreSQL (``crawler.state``) the index is a ``pg_trgm`` table and the query runs in
``crawler.digest.search_pg``, with the same phrase semantics and results.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path

from crawler import state
from crawler.commands._options import parse_day
from crawler.config import Config
from crawler.digest import search_pg
from crawler.digest.settings import settings
from crawler.exceptions import NewsmonError
from crawler.phrases import PhraseError, fold, parse, split_query
from crawler.progress import Progress
from crawler.store import items as item_store

log = logging.getLogger(__name__)

# Items per transaction: FTS5 keeps a transaction's postings in memory and writes them out as one segment at
# the commit, so a batch bounds that memory; the cost is the trigram indexing itself, whatever the batch size.
BATCH = 500
PROGRESS_MIN = 500
TRIGRAM = 3
DOC_FIELDS = (
    "id",
    "day",
    "date",
    "source",
    "section",
    "lang",
    "url",
    "title",
    "title_en",
    "text",
    "text_en",
    "translation",
    "version",
)
TEXT_FIELDS = ("title", "title_en", "text", "text_en")  # what search_fts indexes
ROW_FIELDS = tuple(f for f in DOC_FIELDS if f not in ("text", "text_en"))  # what search_docs keeps
_ITEM = item_store.sql_json("i.json")  # SQL: the JSON of the items row joined as i
# A long term is looked up by at most this many of its trigrams (spread over it): more only narrow the
# candidates that the text check has to read, at the cost of one more doclist each.
MAX_TRIGRAMS = 24
# Index rows left behind by changed texts are compacted away once they exceed a quarter of the live rows
# (and this many): the index stays within 1.25× its size, and the work is paid once per many changes.
COMPACT_MIN = 1000


class SearchError(NewsmonError):
    """A query that cannot be run (empty, or malformed filters)."""


def open_archive(output_dir) -> sqlite3.Connection:
    """The state DB of an existing output directory (a mistyped --output is an error, not a new DB)."""
    if state.database_url() is None and not state.db_path(output_dir).exists():
        raise NewsmonError(
            f"no archive at {state.db_path(output_dir)}: run `newsmon run` first, or give "
            f"--output DIR (the directory holding state.sqlite)"
        )
    return state.connect(output_dir)


# ---------------------------------------------------------------- indexing


def doc_of(item: dict, day: str) -> dict:
    """The ``search_docs`` row of one item."""
    published = item.get("published_at") or ""
    date = published[:10] if re.match(r"^\d{4}-\d{2}-\d{2}", published) else day
    section = item.get("section_key") or f"{item.get('source', '')}/{item.get('section', '')}"
    return {
        "id": item["id"],
        "day": day,
        "date": date,
        "source": item.get("source") or section.split("/")[0],
        "section": section,
        "lang": item.get("lang"),
        "url": item.get("url") or "",
        "title": item.get("title"),
        "title_en": item.get("title_en"),
        "text": item.get("text") or "\n\n".join(item.get("paragraphs") or []),
        "text_en": item.get("text_en") or ("\n\n".join(item["paragraphs_en"]) if item.get("paragraphs_en") else None),
        "translation": (item.get("translation") or {}).get("status"),
        "version": int(item.get("version") or 1),
    }


def text_key(doc: dict) -> int:
    """A stable 63-bit hash of the indexed text of a doc: a row whose key is unchanged keeps its index row."""
    digest = hashlib.blake2b(digest_size=8)
    for name in TEXT_FIELDS:
        value = doc.get(name)
        digest.update(b"\x00" if value is None else b"\x01" + value.encode("utf-8", "surrogatepass") + b"\x00")
    return int.from_bytes(digest.digest(), "big") >> 1


_UPDATE_ROW = f"UPDATE search_docs SET {', '.join(f'{f} = ?' for f in ROW_FIELDS[1:])} WHERE rowid = ?"
_INSERT_ROW = (
    f"INSERT INTO search_docs({', '.join(ROW_FIELDS)}, text_key) VALUES ({', '.join('?' * (len(ROW_FIELDS) + 1))})"
)
_INSERT_FTS = f"INSERT INTO search_fts(rowid, {', '.join(TEXT_FIELDS)}) VALUES (?, ?, ?, ?, ?)"


def store_docs(conn: sqlite3.Connection, rows: list[list]) -> None:
    """Write index rows (each a list of ``DOC_FIELDS`` values, in that order): a doc whose text is what is
    indexed already only updates its ``search_docs`` row; otherwise the row is replaced by one with a new
    rowid, whose text goes into ``search_fts`` (the old index row is left behind: see the module doc)."""
    if state.is_postgresql(conn):
        docs = [dict(zip(DOC_FIELDS, values)) for values in rows]
        search_pg.store_docs(conn, docs, [text_key(d) for d in docs], ROW_FIELDS)
        return
    for values in rows:
        doc = dict(zip(DOC_FIELDS, values))
        key = text_key(doc)
        old = conn.execute("SELECT rowid, text_key FROM search_docs WHERE id = ?", (doc["id"],)).fetchone()
        if old is not None and old[1] == key:
            conn.execute(_UPDATE_ROW, [doc[f] for f in ROW_FIELDS[1:]] + [old[0]])
            continue
        if old is not None:
            conn.execute("DELETE FROM search_docs WHERE rowid = ?", (old[0],))
        rowid = conn.execute(_INSERT_ROW, [doc[f] for f in ROW_FIELDS] + [key]).lastrowid
        conn.execute(_INSERT_FTS, [rowid] + [doc[f] for f in TEXT_FIELDS])


def drop_docs(conn: sqlite3.Connection, ids: list[str]) -> None:
    """Remove the index rows of items that are gone (their ``search_fts`` rows are left behind)."""
    conn.executemany("DELETE FROM search_docs WHERE id = ?", [(i,) for i in ids])


def left_behind(conn: sqlite3.Connection) -> tuple[int, int]:
    """``(index rows no search_docs row refers to, rows that have one)``."""
    if state.is_postgresql(conn):
        indexed = search_pg.indexed_rows(conn)
    else:
        indexed = conn.execute("SELECT count(*) FROM search_fts_docsize").fetchone()[0]
    live = conn.execute("SELECT count(*) FROM search_docs WHERE text_key != ?", (NOT_INDEXED,)).fetchone()[0]
    return indexed - live, live


NOT_INDEXED = -1  # text_key of a row whose text is in no index row (text_key() is never negative)


def _clear_index(conn: sqlite3.Connection) -> None:
    """Empty the full-text index; the rows stay, marked as indexing nothing, so that indexing their items
    again gives each a new index row (an item whose JSON cannot be read keeps its row, unsearchable)."""
    with state.transaction(conn):
        if state.is_postgresql(conn):
            search_pg.clear(conn)
        else:
            conn.execute("INSERT INTO search_fts(search_fts) VALUES ('delete-all')")
        conn.execute("UPDATE search_docs SET text_key = ?", (NOT_INDEXED,))


def _compact_if_needed(conn: sqlite3.Connection, progress: bool) -> None:
    stale, live = left_behind(conn)
    if stale > max(COMPACT_MIN, live // 4):
        log.info("search index: %d rows of changed texts left behind (%d live): compacting", stale, live)
        ids = [r[0] for r in conn.execute("SELECT id FROM search_docs ORDER BY 1")]
        _clear_index(conn)
        index_ids(conn, ids, progress=progress)
        _optimize(conn)


# FTS5 pages (about 4 KB each) of segments merged after each update. Each update's batch is a segment of its own,
# every term of it listed again; FTS5 merges only four of a level at a time, which left an archive's index about a
# third larger than merged (bench_storage: 4.0 MB against 3.0 per 1,000 items). A merge across levels, this much
# of it per update (whatever the archive's size), brings it to within a tenth, for ~15 ms an update.
MERGE_PAGES = 200


def _merge_some(conn: sqlite3.Connection) -> None:
    """Go on merging FTS5's segments, across levels, up to MERGE_PAGES pages (a negative budget: FTS5's own rule);
    on PostgreSQL nothing, as for ``_optimize``."""
    if not state.is_postgresql(conn):
        conn.execute("INSERT INTO search_fts(search_fts, rank) VALUES ('merge', ?)", (-MERGE_PAGES,))


def _optimize(conn: sqlite3.Connection) -> None:
    """Merge FTS5's segments (PostgreSQL's GIN index needs nothing: autovacuum tends it)."""
    if not state.is_postgresql(conn):
        conn.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")


CONSUMER = "search"  # its name on the item change feed (crawler.store.items)


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


_NOT_IN_STEP = (
    "SELECT i.id FROM items i LEFT JOIN search_docs d ON d.id = i.id WHERE d.id IS NULL "
    "UNION SELECT d.id FROM search_docs d LEFT JOIN items i ON i.id = d.id WHERE i.id IS NULL"
)


def skip_changes(conn: sqlite3.Connection) -> None:
    """Mark every change read without indexing it (the index is switched off)."""
    _changed, up_to = item_store.changed_since(conn, CONSUMER)
    item_store.advance(conn, CONSUMER, up_to)


def index_ids(conn: sqlite3.Connection, ids: list[str], *, progress: bool = False) -> int:
    """Bring the index rows of ``ids`` up to date (insert, update or delete). Returns rows touched."""
    touched = 0
    if len(ids) > 1000 and not state.is_postgresql(conn):
        conn.execute("PRAGMA cache_size = -65536")  # 64 MB for this connection: fewer FTS page reloads
    bar = Progress("search index", len(ids)) if progress else None
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
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
    rows = conn.execute(
        "SELECT id, day, json FROM items WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(batch),)
    ).fetchall()
    found = {r["id"]: r for r in rows}
    docs = []
    for item_id in batch:
        row = found.get(item_id)
        if row is None:
            continue
        try:
            item = item_store.loads(row["json"])
            if item is None:
                raise ValueError("not a JSON object")
            doc = doc_of(item, row["day"])
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("item %s: unreadable stored JSON, not indexed: %s", item_id, exc)
            continue
        docs.append([doc[f] for f in DOC_FIELDS])
    drop_docs(conn, [i for i in batch if i not in found])
    store_docs(conn, docs)
    return len(batch)


def update_index(conn: sqlite3.Connection, *, progress: bool = False) -> int:
    """Incremental: index what changed since the last update. Returns items (re)indexed.
    With ``progress``, a long catch-up (``PROGRESS_MIN`` items or more) shows its progress."""
    ids, up_to = stale_ids(conn)
    touched = index_ids(conn, ids, progress=progress and len(ids) >= PROGRESS_MIN)
    item_store.advance(conn, CONSUMER, up_to)
    if touched:
        _compact_if_needed(conn, progress)
        _merge_some(conn)
    return touched


def index_beside_crawl(conn: sqlite3.Connection, _output_dir: Path, config: Config) -> dict:
    """The index brought up to date with the items landed so far, while the crawl goes on
    (``crawler.crawl.beside``). It lives here, not in the digest stage, so that the extraction workers that
    run it do not load the digest's renderers."""
    return {"indexed": update_index(conn)} if settings(config).search_index else {}


def rebuild_index(conn: sqlite3.Connection, *, progress: bool = True) -> int:
    """Rebuild the index from scratch: empty it, then index every item of ``items`` and drop the rows of
    items that are gone. Returns the items and rows gone through.

    Emptying comes first ('delete-all' needs nothing from the index, so it works whatever state a damaged
    index is in) and leaves no row of a changed text behind."""
    _ids, up_to = stale_ids(conn)
    ids = [r[0] for r in conn.execute("SELECT id FROM items UNION SELECT id FROM search_docs ORDER BY 1")]
    _clear_index(conn)
    count = index_ids(conn, ids, progress=progress)
    item_store.advance(conn, CONSUMER, up_to)
    _optimize(conn)
    return count


# ---------------------------------------------------------------- querying


@dataclass
class Filters:
    since: str | None = None  # publication date (else crawl day) ≥ since, YYYY-MM-DD
    until: str | None = None
    source: str | None = None  # a source id or a "source/section" key
    lang: str | None = None
    flag: str | None = None  # an item flag (crawler/analysis/flags.py): off_subject, dateline_lag


@dataclass
class Hit:
    doc: dict
    contexts: list[tuple[str, str]] = field(default_factory=list)  # (language, text around the match)


@dataclass
class Results:
    total: int
    hits: list[Hit]
    terms: list[str]


def parse_terms(query: str) -> list[str]:
    """Terms of a query: whitespace-separated words, or "quoted phrases" (``crawler.phrases``)."""
    try:
        terms = split_query(query)
    except PhraseError as exc:
        raise SearchError(f"query term {exc}") from None
    if not terms:
        raise SearchError('empty query: give a word or phrase, e.g. newsmon search "两国人民"')
    return terms


def trigrams(term: str, limit: int = MAX_TRIGRAMS) -> list[str]:
    """The distinct trigrams of ``term``, at most ``limit`` of them spread over it (first and last kept)."""
    every = list(dict.fromkeys(term[i : i + TRIGRAM] for i in range(len(term) - TRIGRAM + 1)))
    if len(every) <= limit:
        return every
    step = (len(every) - 1) / (limit - 1)
    return [every[round(n * step)] for n in range(limit)]


def fts_expression(terms: Iterable[str]) -> str | None:
    """FTS5 MATCH expression for the words of the terms the trigram index can serve (≥ 3 characters): each
    word's trigrams, all ANDed (the index keeps no positions, so a phrase cannot be asked for; a phrase's
    words may stand on different lines). A trigram with е is asked for with ё as well (ё = е)."""
    words = [w for t in terms for w in parse(t).words if len(w) >= TRIGRAM]
    grams = dict.fromkeys(g for w in words for g in trigrams(w))
    return " AND ".join(_gram(g) for g in grams) or None


def _gram(gram: str) -> str:
    quoted = [
        '"' + "".join(v).replace('"', '""') + '"'
        for v in itertools.product(*(("е", "ё") if c == "е" else ("Е", "Ё") if c == "Е" else (c,) for c in gram))
    ]
    return quoted[0] if len(quoted) == 1 else "(" + " OR ".join(quoted) + ")"


def search(
    conn: sqlite3.Connection, query: str, filters: Filters | None = None, *, limit: int = 20, order: str = "date"
) -> Results:
    """Run a query. ``order``: "date" (newest first) or "relevance" (``_relevance``)."""
    filters = filters or Filters()
    terms = parse_terms(query) if query or not filters.flag else []  # a flag alone lists its items
    _check_filters(filters)
    if state.is_postgresql(conn):
        ids = search_pg.ranked_ids(conn, terms, filters, order, doc_of=doc_of, matches=_matches, relevance=_relevance)
        hits = ids[:limit] if limit > 0 else []
        return Results(len(ids), [Hit(doc, contexts_of(doc, terms)) for doc in _docs(conn, hits)], terms)
    _register_functions(conn)
    where, params, from_ = _where(terms, filters)
    order_by = (
        "d.date DESC, d.id"
        if order == "date"
        else f"nm_relevance(?, {', '.join(TEXT_COLUMNS)}) DESC, d.date DESC, d.id"
    )
    order_params = [] if order == "date" else [json.dumps(terms)]
    if limit <= 0:  # only how many
        total = conn.execute(f"SELECT count(*) FROM {from_} WHERE {where}", params).fetchone()[0]
        return Results(total, [], terms)
    # One pass over the rows: the count is a window over all of them, taken before the LIMIT.
    rows = conn.execute(
        f"SELECT d.id, count(*) OVER () FROM {from_} WHERE {where} ORDER BY {order_by} LIMIT ?",
        [*params, *order_params, limit],
    ).fetchall()
    total = rows[0][1] if rows else 0
    return Results(total, [Hit(doc, contexts_of(doc, terms)) for doc in _docs(conn, [r[0] for r in rows])], terms)


def _docs(conn: sqlite3.Connection, ids: list[str]) -> list[dict]:
    """The hits' docs in order: their ``search_docs`` row with the text and English text of their item."""
    stored = item_store.load(conn, ids)
    marks = ",".join("?" * len(ids))
    rows = {r["id"]: dict(r) for r in conn.execute(f"SELECT * FROM search_docs WHERE id IN ({marks})", ids)}
    out = []
    for item_id in ids:
        doc = rows[item_id]
        doc.pop("text_key", None)
        day, item = stored[item_id]
        full = doc_of(item, day)
        doc["text"], doc["text_en"] = full["text"], full["text_en"]
        out.append(doc)
    return out


def _where(terms: list[str], filters: Filters) -> tuple[str, list, str]:
    clauses, params = [], []
    expression = fts_expression(terms)
    from_ = "search_docs d JOIN items i ON i.id = d.id"
    if expression:
        from_ = "search_fts f JOIN search_docs d ON d.rowid = f.rowid JOIN items i ON i.id = d.id"
        clauses.append("search_fts MATCH ?")
        params.append(expression)
    checked = []  # the index narrows (long words), SQL filters cheaply, the phrases decide
    for term in terms:
        clause, values, exact = _term(term)
        if clause:
            clauses.append(clause)
            params.extend(values)
        if not exact:
            checked.append(term)
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
    if filters.flag:  # the flags array's JSON text holds the flag, quoted (SQLite and PostgreSQL)
        clauses.append(f"{_ITEM} ->> '$.flags' LIKE ?")
        params.append(f'%"{filters.flag}"%')
    if checked:  # last: Python, on the rows every other condition leaves
        clause, values = _checked(checked)
        clauses.append(clause)
        params.extend(values)
    return " AND ".join(clauses) or "1", params, from_


# The searched fields: the titles from search_docs, the text and English text from the items row — as
# ``doc_of`` makes them (an item without ``text`` is searched in its paragraphs, joined).
TEXT_COLUMNS = (
    "d.title",
    "d.title_en",
    f"coalesce(nullif({_ITEM} ->> '$.text', ''), (SELECT group_concat(value, char(10, 10)) "
    f"FROM json_each({_ITEM}, '$.paragraphs')))",
    f"coalesce(nullif({_ITEM} ->> '$.text_en', ''), (SELECT group_concat(value, char(10, 10)) "
    f"FROM json_each({_ITEM}, '$.paragraphs_en')))",
)


def _checked(terms: list[str]) -> tuple[str, list]:
    """The condition that every phrase of ``terms`` occurs (``nm_phrases``). When all their longest words are
    ASCII, a row whose titles hold them (``LIKE``, in C) is decided on its titles first: its text is then
    never read out of the JSON, which costs more than the check."""
    encoded = json.dumps(terms, ensure_ascii=False)
    full = f"nm_phrases(?, {', '.join(TEXT_COLUMNS)})"
    needles = [parse(t).needle for t in terms]
    if not all(n.isascii() for n in needles):
        return full, [encoded]
    titles = " AND ".join(
        f"({TEXT_COLUMNS[0]} LIKE ? ESCAPE '\\' OR {TEXT_COLUMNS[1]} LIKE ? ESCAPE '\\')" for _ in needles
    )
    likes = [v for n in needles for v in [_like(n)] * 2]
    return (
        f"(({titles} AND nm_phrases(?, {TEXT_COLUMNS[0]}, {TEXT_COLUMNS[1]}, NULL, NULL)) OR {full})",
        likes + [encoded, encoded],
    )


def _like(word: str) -> str:
    return "%" + re.sub(r"([%_\\])", r"\\\1", word) + "%"


def _term(term: str) -> tuple[str | None, list, bool]:
    """``(SQL condition, its parameters, exact)`` for the phrase ``term``, as cheap as its script allows:
    ``instr`` decides a caseless substring (a Chinese word: exact); ``LIKE`` narrows the rows for an ASCII
    phrase whose longest word is too short for the trigram index (case-insensitive there; where the index
    narrowed, it would only read each row's text once more). A term not exact is decided by ``nm_phrases``
    (the phrases' patterns in Python: word boundaries, ``*``, ё = е), one call per row for all such terms."""
    phrase = parse(term)
    if phrase.cjk and phrase.stem.lower() == phrase.stem.upper() and " " not in phrase.stem:
        return (
            "(" + " OR ".join(f"instr({c}, ?)" for c in TEXT_COLUMNS) + ")",
            [phrase.stem] * len(TEXT_COLUMNS),
            True,
        )
    if phrase.needle.isascii() and len(phrase.needle) < TRIGRAM:  # (a longer word: the index narrowed)
        return (
            "(" + " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in TEXT_COLUMNS) + ")",
            [_like(phrase.needle)] * len(TEXT_COLUMNS),
            False,
        )
    return None, [], False


def _check_filters(filters: Filters) -> None:
    for name in ("since", "until"):
        value = getattr(filters, name)
        if value:
            try:
                parse_day(value, f"--{name}")
            except ValueError as exc:
                raise SearchError(str(exc)) from None


# Relevance: each term's occurrences, saturated and weighed by the length of the item's text as in BM25
# (k1 = 1.2, b = 0.75, against a typical article of TYPICAL_CHARS), times the term's length (a longer term
# is a rarer one: the index keeps no counts to weigh terms by).
TYPICAL_CHARS = 3000


def _matches(terms_json: str, *fields: str | None) -> int:
    """1 when every phrase of ``terms_json`` occurs in one of ``fields`` (titles first: a match there spares
    reading the text; each field folded and lower-cased at most once, and only as far as needed)."""
    texts = [f for f in fields if f]
    views: dict[tuple[int, bool], tuple[str, str]] = {}

    def view(n: int, folds: bool) -> tuple[str, str]:
        if (n, folds) not in views:
            text = fold(texts[n]) if folds else texts[n]
            views[(n, folds)] = (text, text.lower())
        return views[(n, folds)]

    phrases = [parse(t) for t in json.loads(terms_json)]
    return int(all(any(next(p.finditer_folded(*view(n, p.folds)), None) for n in range(len(texts))) for p in phrases))


def _relevance(terms_json: str, *texts: str | None) -> float:
    """A matching row's relevance (0 when a term does not occur)."""
    terms = json.loads(terms_json)
    fields = [t for t in texts if t]
    size = sum(len(f) for f in fields)
    norm = 1.2 * (0.25 + 0.75 * size / TYPICAL_CHARS)
    score = 0.0
    for term in terms:
        phrase = parse(term)
        count = sum(1 for f in fields for _ in phrase.finditer(f))
        if not count:
            return 0.0
        score += len(phrase.stem) * count / (count + norm)
    return score


def _register_functions(conn: sqlite3.Connection) -> None:
    conn.create_function("nm_phrases", 5, _matches, deterministic=True)
    conn.create_function("nm_relevance", 5, _relevance, deterministic=True)


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
    return sum(len(parse(t).stem) for t in terms if parse(t).search(text))


def _find(text: str, terms: list[str]) -> int | None:
    """Where the longest term found in ``text`` starts."""
    for term in sorted(terms, key=lambda t: len(parse(t).stem), reverse=True):
        found = parse(term).search(text)
        if found:
            return found.start()
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
