"""Moving an archive's state from its SQLite file into a PostgreSQL database (``newsmon state copy``).

Both sides are brought to the newest schema first (the SQLite file by its own migrations, with their backup;
the database by the PostgreSQL steps), then every table the two have in common is copied, in foreign-key
order, in one PostgreSQL transaction: a failure leaves the database as it was. The identity columns go on
from the copied maximum; the search index is built anew in PostgreSQL's form (FTS5's tables are not
copied); the translation memory's own SQLite file (``[translation] memory``) goes into the database's
memory tables. The database must not hold an archive yet; the SQLite file is only read.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.exceptions import NewsmonError
from crawler.store import items as item_store

log = logging.getLogger(__name__)

# Not copied: SQLite's own tables, the FTS5 index and its shadow tables, the search rows (rebuilt), the
# schema version (each side keeps its own).
SKIPPED = ("sqlite_", "search_fts", "search_docs", "newsmon_schema")
# Tables whose rows the migrations write (one-row tables): the copy replaces them with the archive's.
BATCH = 2000
MEMORY_TABLES = {"models": "translation_models", "sentences": "translation_sentences"}
# Columns SQLite holds in a form of its own: (table, column) → the value PostgreSQL is given.
CONVERTED = {("items", "json"): item_store.row_text}


class CopyError(NewsmonError):
    """The archive cannot be copied (no SQLite file, a database that is not empty, a row PostgreSQL refuses)."""


@dataclass
class Copied:
    rows: dict[str, int] = field(default_factory=dict)  # table → rows copied
    indexed: int = 0  # items in the rebuilt search index


def copy_archive(output_dir: str | Path, url: str, memory_path: Path | None = None) -> Copied:
    """Copy the state of ``output_dir`` (its ``state.sqlite``, and the translation memory file at
    ``memory_path`` when there is one) into the PostgreSQL database at ``url``."""
    from crawler import state
    from crawler.digest import search
    from crawler.store.dialect import redact_url

    if not state.db_path(output_dir).exists():
        raise CopyError(
            f"no archive at {state.db_path(output_dir)} (give --output DIR, the directory holding state.sqlite)"
        )
    copied = Copied()
    with closing(state.connect_sqlite(output_dir)) as source, closing(state.connect(output_dir, url)) as target:
        raw = target.raw  # type: ignore[attr-defined]
        if (
            target.execute("SELECT 1 FROM items LIMIT 1").fetchone()
            or target.execute("SELECT 1 FROM runs LIMIT 1").fetchone()
        ):
            raise CopyError(f"{redact_url(url)}: holds an archive already (items or runs): copy into an empty database")
        with raw.transaction():
            for table in _copy_order(raw, _tables(source)):
                copied.rows[table] = _copy_table(source, raw, table, table)
            if memory_path is not None and memory_path.exists():
                with closing(sqlite3.connect(memory_path)) as memory:
                    for name, into in MEMORY_TABLES.items():
                        copied.rows[into] = _copy_table(memory, raw, name, into)
            _continue_identities(raw, list(copied.rows))
        copied.indexed = search.rebuild_index(target, progress=False)
    log.info("state copied into %s: %d rows in %d tables", redact_url(url), sum(copied.rows.values()), len(copied.rows))
    return copied


def _tables(source: sqlite3.Connection) -> list[str]:
    names = [r[0] for r in source.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return [n for n in names if not n.startswith(SKIPPED)]


def _columns_pg(raw: Any, table: str) -> list[str]:
    return [
        r[0]
        for r in raw.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = %s ORDER BY ordinal_position",
            [table],
        )
    ]


def _copy_order(raw: Any, tables: list[str]) -> list[str]:
    """The tables both sides have, each after the tables its foreign keys point to."""
    present = [t for t in tables if _columns_pg(raw, t)]
    needs: dict[str, set[str]] = {t: set() for t in present}
    for child, parent in raw.execute(
        "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c WHERE c.contype = 'f'"
    ):
        if child in needs and parent in needs and child != parent:
            needs[child].add(parent)
    ordered: list[str] = []
    while needs:
        ready = sorted(t for t, parents in needs.items() if parents <= set(ordered))
        if not ready:  # a cycle: none in the schema, but never loop for ever
            ready = sorted(needs)
        ordered += ready
        for t in ready:
            needs.pop(t)
    return ordered


def _rows(source: sqlite3.Connection, table: str, columns: list[str]) -> Iterator[list[Any]]:
    cursor = source.execute(f"SELECT {', '.join(columns)} FROM {table}")
    converted = [(n, CONVERTED[table, c]) for n, c in enumerate(columns) if (table, c) in CONVERTED]
    while batch := cursor.fetchmany(BATCH):
        for r in batch:
            row = list(r)
            for n, convert in converted:
                row[n] = convert(row[n])
            yield row


def _copy_table(source: sqlite3.Connection, raw: Any, table: str, into: str) -> int:
    """Rows of ``table`` (SQLite) into ``into`` (PostgreSQL), the columns both have; returns how many."""
    theirs = [r[1] for r in source.execute(f"PRAGMA table_info({table})")]
    columns = [c for c in _columns_pg(raw, into) if c in theirs]
    raw.execute(f"DELETE FROM {into}")  # rows a migration wrote (feed_identity): the archive's win
    count = 0
    try:
        with raw.cursor().copy(f"COPY {into} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in _rows(source, table, columns):
                copy.write_row(row)
                count += 1
    except Exception as exc:
        raise CopyError(f"table {table}, row {count + 1}: PostgreSQL refused it: {str(exc).strip()}") from None
    return count


def _continue_identities(raw: Any, tables: list[str]) -> None:
    """Each identity column's sequence set past the largest copied value."""
    for table, column in raw.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND is_identity = 'YES'"
    ).fetchall():
        if table in tables:
            raw.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                f"coalesce((SELECT max({column}) FROM {table}), 0) + 1, false)"
            )
