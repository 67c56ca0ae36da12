"""PostgreSQL behind the sqlite3 connection API: one adapter, and every dialect rule in one list.

The stores and stages are written against ``sqlite3``: ``conn.execute(sql, params)``, ``executemany``, rows
read by name and by index, ``cursor.lastrowid``, ``BEGIN IMMEDIATE``/``COMMIT`` (``crawler.state.transaction``)
and sqlite3's exception classes. ``PgConnection`` answers that API over psycopg 3 (autocommit, explicit
transactions as in the SQLite path) and rewrites each statement's text once (cached) by ``RULES``, the SQL
SQLite accepts and PostgreSQL does not. A statement no rule covers is written portably where it is, or a
migration step has a ``NNNN_name.postgresql.sql`` of its own (``crawler.store.migrate``).

Not translated, on purpose: SQLite's FTS5 (full-text search has a PostgreSQL implementation of its own in
``crawler.digest.search``), Python functions registered with ``create_function``, and ``executescript``.
"""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

DIALECT = "postgresql"
REPLACE_MARK = "\x02"  # encloses the table of an INSERT OR REPLACE, for its ON CONFLICT clause
ARRAY_MARK = "\x01"  # marks a placeholder whose JSON array parameter is passed as a list


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    replacement: str | Callable[[re.Match[str]], str]
    sees_literals: bool = False  # matches a literal of its own ('$.key', 'table'): run on the text as it is


def _rule(name: str, pattern: str, replacement: str | Callable[[re.Match[str]], str], literals: bool = False) -> Rule:
    return Rule(name, re.compile(pattern, re.IGNORECASE | re.DOTALL), replacement, literals)


def _insert_or_ignore(match: re.Match[str]) -> str:
    return f"INSERT INTO{match['rest']} ON CONFLICT DO NOTHING"


def _scalar_min_max(sql: str) -> str:
    """``max(a, b)`` → ``GREATEST(a, b)``, ``min(a, b)`` → ``LEAST(a, b)`` (one argument: the aggregate, kept)."""
    out, at = [], 0
    for match in re.finditer(r"\b(max|min)\(", sql, re.IGNORECASE):
        if match.start() < at:
            continue
        depth, commas, end = 1, 0, match.end()
        while end < len(sql) and depth:
            depth += {"(": 1, ")": -1}.get(sql[end], 0)
            commas += sql[end] == "," and depth == 1
            end += 1
        if commas:
            out.append(sql[at : match.start()])
            inner = _scalar_min_max(sql[match.end() : end - 1])
            out.append(("GREATEST(" if match.group(1).lower() == "max" else "LEAST(") + inner + ")")
            at = end
    out.append(sql[at:])
    return "".join(out)


# Applied in this order to the statement's text outside string literals and quoted names.
RULES: tuple[Rule, ...] = (
    # nm_item(x): an items row's JSON text, which SQLite stores compressed (crawler.store.items); on
    # PostgreSQL the column holds the text itself. Run with the rules that see literals, before "->> path".
    _rule("nm_item", r"\bnm_item\((?P<column>[\w.]+)\)", r"\g<column>", literals=True),
    # Write locks are taken by PostgreSQL row by row; BEGIN IMMEDIATE's early lock has no counterpart.
    _rule("begin immediate", r"\bBEGIN\s+IMMEDIATE\b", "BEGIN"),
    # "INSERT OR IGNORE": skip a row that breaks a uniqueness constraint.
    _rule("insert or ignore", r"^\s*INSERT\s+OR\s+IGNORE\s+INTO(?P<rest>.*?)\s*;?\s*$", _insert_or_ignore),
    # "INSERT OR REPLACE": the new row replaces the one of the same primary key. PostgreSQL's upsert names the
    # key and the columns to set: the connection completes the statement from the catalog (PgConnection).
    _rule(
        "insert or replace",
        r"^\s*INSERT\s+OR\s+REPLACE\s+INTO\s+(?P<table>\w+)(?P<rest>.*?)\s*;?\s*$",
        lambda m: f"INSERT INTO {m['table']}{m['rest']} {REPLACE_MARK}{m['table']}{REPLACE_MARK}",
    ),
    # "a IS NOT b" between values (SQLite's null-safe comparison) is PostgreSQL's IS DISTINCT FROM; IS NOT NULL,
    # IS NOT TRUE/FALSE stay.
    _rule("is not (null-safe)", r"\bIS\s+NOT\s+(?!NULL\b|TRUE\b|FALSE\b|DISTINCT\b)", "IS DISTINCT FROM "),
    # json_extract(x, '$.key') on a JSON text column: the key's value as text.
    _rule(
        "json_extract",
        r"\bjson_extract\(\s*(?P<doc>[\w.]+)\s*,\s*'\$\.(?P<key>\w+)'\s*\)",
        r"((\g<doc>)::jsonb ->> '\g<key>')",
        literals=True,
    ),
    # "x ->> '$.key'" (SQLite's JSON path form of ->>): PostgreSQL names the key alone.
    _rule(
        "->> path", r"(?P<doc>[\w.]+)\s*->>\s*'\$\.(?P<key>\w+)'", r"((\g<doc>)::jsonb ->> '\g<key>')", literals=True
    ),
    # "x IN (SELECT value FROM json_each(?))" with a JSON array parameter: "x = ANY(?)" with the array as a
    # list (psycopg sends it typed as x is: text[] or bigint[]), so x's index serves it.
    _rule(
        "in json_each(?)",
        r"\bIN\s*\(\s*SELECT\s+value\s+FROM\s+json_each\(\s*\?\s*\)\s*\)",
        "= ANY(" + ARRAY_MARK + "?)",
    ),
    # An empty list: SQLite accepts "x IN ()" (false) and "x NOT IN ()" (true), PostgreSQL neither; an empty
    # array says the same.
    _rule("not in ()", r"\bNOT\s+IN\s*\(\s*\)", "<> ALL('{}')"),
    _rule("in ()", r"\bIN\s*\(\s*\)", "= ANY('{}')"),
    # A PRAGMA that sets something (cache size, journal) tunes SQLite alone: nothing to do.
    _rule("pragma =", r"^\s*PRAGMA\s+\w+\s*=\s*[-\w]+\s*;?\s*$", "SELECT NULL WHERE FALSE"),
    # "Is there a table named ?" asked of SQLite's catalog, asked of PostgreSQL's.
    _rule(
        "sqlite_master",
        r"\bFROM\s+sqlite_master\s+WHERE\s+type\s*=\s*'table'\s+AND\s+name\s*=",
        "FROM information_schema.tables WHERE table_schema = current_schema() AND table_name =",
        literals=True,
    ),
    # SQLite's bare columns: "SELECT g, a, max(x) AS y FROM t … GROUP BY g" takes a from the row holding the
    # maximum; PostgreSQL says so with DISTINCT ON, that row first.
    _rule(
        "bare columns beside max()",
        r"^\s*SELECT\s+(?P<before>.*?)\bmax\((?P<x>[\w.]+)\)\s+AS\s+(?P<alias>\w+)(?P<after>.*?)\s+FROM\s+"
        r"(?P<rest>.*?)\s+GROUP\s+BY\s+(?P<group>[\w.]+)\s*$",
        r"SELECT DISTINCT ON (\g<group>) \g<before>\g<x> AS \g<alias>\g<after> FROM \g<rest> "
        r"ORDER BY \g<group>, \g<x> DESC",
    ),
    # Two-argument max()/min() are SQLite's scalar greatest and least.
    _rule("scalar max(a, b)", r"^.*$", lambda m: _scalar_min_max(m.group())),
    # sum() of a comparison counts the rows where it holds: SQLite's comparisons are 0/1, PostgreSQL's booleans.
    _rule("sum(comparison)", r"\bsum\((?P<cond>[^()]*?(?:=|<>|!=|<|>)[^()]*)\)", r"sum((\g<cond>)::int)"),
    # group_concat(x, sep) is string_agg(x, sep).
    _rule("group_concat", r"\bgroup_concat\(", "string_agg("),
    # Placeholders: qmark → format (psycopg); a literal % is doubled first (see _outside_literals). Done by
    # Translated: it also notes the ones whose JSON array parameter is passed as a list.
)

# DDL of the migration steps: SQLite's types and table options in PostgreSQL's words.
DDL_RULES: tuple[Rule, ...] = (
    _rule(
        "integer primary key",
        r"\bINTEGER\s+PRIMARY\s+KEY(\s+AUTOINCREMENT)?",
        "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    ),
    _rule("integer", r"\bINTEGER\b", "BIGINT"),
    _rule("real", r"\bREAL\b", "DOUBLE PRECISION"),
    _rule("blob", r"\bBLOB\b", "BYTEA"),
    _rule("without rowid", r"\)\s*WITHOUT\s+ROWID", ")"),
)


@dataclass(frozen=True)
class Translated:
    sql: str
    replace_into: str | None  # INSERT OR REPLACE into this table: its ON CONFLICT clause is to be added
    arrays: tuple[int, ...]  # positions of the parameters to pass as lists (JSON arrays decoded)

    def params(self, params: Any) -> Any:
        if params is None:
            return []  # always parameters, so that psycopg reads every %% of the text alike
        if isinstance(params, dict):
            return params
        values: list[Any] = [int(p) if isinstance(p, bool) else p for p in params]
        for position in self.arrays:
            values[position] = json.loads(values[position])
        return values


_LITERAL = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")
_COMMENT_OR_LITERAL = re.compile(r"--[^\n]*|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")
_DDL = re.compile(r"^\s*(CREATE|ALTER)\s+TABLE\b", re.IGNORECASE)


def _outside_literals(sql: str, change: Callable[[str], str]) -> str:
    """``change`` applied to the text between string literals and quoted names (kept as they are; their % are
    doubled for psycopg); comments dropped (a quote or a % in one would mislead both)."""
    out, last = [], 0
    for match in _COMMENT_OR_LITERAL.finditer(sql):
        out.append(change(sql[last : match.start()]))
        if not match.group().startswith("--"):
            out.append(match.group().replace("%", "%%"))
        last = match.end()
    out.append(change(sql[last:]))
    return "".join(out)


def _apply(rules: Iterable[Rule], text: str) -> str:
    for rule in rules:
        text = rule.pattern.sub(rule.replacement, text)
    return text


def translate(sql: str) -> str:
    """``sql`` (SQLite's dialect) as PostgreSQL reads it."""
    return translated(sql).sql


@lru_cache(maxsize=4096)
def translated(sql: str) -> Translated:
    """``sql`` (SQLite's dialect) as PostgreSQL reads it, with what its parameters need."""
    sql = _outside_literals(sql, lambda part: part.replace("%", "%%"))
    if _DDL.match(sql):
        sql = _apply_outside(DDL_RULES, sql)
    # The other rules run over literals masked out (a rule that names a literal of its own sees them).
    sql = _apply((r for r in RULES if r.sees_literals), sql)
    sql = _apply_outside((r for r in RULES if not r.sees_literals), sql)
    arrays: list[int] = []
    position = itertools.count()

    def placeholder(match: re.Match[str]) -> str:
        n = next(position)
        if match.group(1):
            arrays.append(n)
        return "%s"

    sql = _apply_outside((_rule("placeholder", r"(\x01)?\?", placeholder),), sql)
    replace = re.search(f"{REPLACE_MARK}(\\w+){REPLACE_MARK}", sql)
    if replace:
        sql = sql[: replace.start()] + "{on_conflict}" + sql[replace.end() :]
    return Translated(sql, replace.group(1) if replace else None, tuple(arrays))


_INSERT_COLUMNS = re.compile(r"^\s*INSERT\s+INTO\s+\w+\s*\((?P<cols>[^)]*)\)", re.IGNORECASE)


def on_conflict_replace(sql: str, key: list[str], columns: list[str]) -> str:
    """The ON CONFLICT clause of an INSERT OR REPLACE: every inserted column but the key's set anew."""
    named = _INSERT_COLUMNS.match(sql)
    inserted = [c.strip() for c in named["cols"].split(",")] if named else columns
    update = [c for c in inserted if c not in key]
    if not update:
        return f"ON CONFLICT ({', '.join(key)}) DO NOTHING"
    return f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in update)


def _apply_outside(rules: Iterable[Rule], sql: str) -> str:
    literals: list[str] = []

    def hide(match: re.Match[str]) -> str:
        literals.append(match.group())
        return f"\x00{len(literals) - 1}\x00"

    masked = _LITERAL.sub(hide, sql)
    changed = _apply(rules, masked)
    return re.sub(r"\x00(\d+)\x00", lambda m: literals[int(m.group(1))], changed)


def redact_url(url: str) -> str:
    """The URL without its password (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


# ── Rows, cursors, the connection ─────────────────────────────────────────────────────────────────


class Row(tuple):
    """A result row read by index or by column name, like ``sqlite3.Row``."""

    _names: dict[str, int]

    def __new__(cls, values: Sequence[Any], names: dict[str, int]) -> Row:
        row = super().__new__(cls, values)
        row._names = names
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            try:
                return tuple.__getitem__(self, self._names[key])
            except KeyError:
                raise IndexError(f"No item with that key: {key}") from None
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


def _row_factory(cursor: Any) -> Callable[[Sequence[Any]], Any]:
    names = {d.name: i for i, d in enumerate(cursor.description or ())}
    return lambda values: Row(_from_pg(values), names)


def _from_pg(values: Sequence[Any]) -> list[Any]:
    # BYTEA arrives as memoryview; sqlite3 gives bytes.
    return [bytes(v) if isinstance(v, memoryview) else v for v in values]


_ERRORS: tuple[tuple[str, type[Exception]], ...] = (
    # psycopg's error class (by SQLSTATE class) → the sqlite3 exception callers catch.
    ("IntegrityError", sqlite3.IntegrityError),
    ("OperationalError", sqlite3.OperationalError),
    ("ProgrammingError", sqlite3.OperationalError),  # SQLite reports a bad statement as OperationalError
    ("DataError", sqlite3.IntegrityError),
)


def _as_sqlite_error(exc: Exception, sql: str) -> Exception:
    for name, target in _ERRORS:
        if any(cls.__name__ == name for cls in type(exc).__mro__):
            return target(f"{str(exc).strip()} [PostgreSQL: {sql.strip()[:200]}]")
    return sqlite3.DatabaseError(str(exc))


class Cursor:
    """The part of ``sqlite3.Cursor`` the stores read."""

    def __init__(self, conn: PgConnection, cursor: Any) -> None:
        self._conn = conn
        self._cursor = cursor

    def fetchone(self) -> Any:
        return self._cursor.fetchone() if self._cursor.description else None

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall() if self._cursor.description else []

    def fetchmany(self, size: int = 1) -> list[Any]:
        return self._cursor.fetchmany(size) if self._cursor.description else []

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def lastrowid(self) -> int | None:
        """The id the INSERT just generated (its identity column's sequence value in this session)."""
        return self._conn.last_generated_id()

    def close(self) -> None:
        self._cursor.close()


class PgConnection:
    """A PostgreSQL connection that answers the sqlite3 connection API of the stores (see the module doc)."""

    dialect = DIALECT

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.row_factory: Any = None  # accepted and ignored: rows always read by name and index
        self._tables: dict[str, tuple[list[str], list[str]]] = {}  # table → (primary key, columns)

    @classmethod
    def open(cls, url: str) -> PgConnection:
        try:
            import psycopg
        except ImportError:
            raise sqlite3.OperationalError(
                "a postgresql:// state URL needs psycopg: pip install 'newsmon[postgresql]'"
            ) from None
        try:
            raw = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            raise sqlite3.OperationalError(f"cannot connect to {redact_url(url)}: {str(exc).strip()}") from None
        raw.row_factory = _row_factory
        return cls(raw)

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return bool(self.raw.info.transaction_status != TransactionStatus.IDLE)

    def execute(self, sql: str, params: Any = None) -> Cursor:
        import psycopg

        statement = translated(sql)
        text = self._complete(statement)
        cursor = self.raw.cursor()
        try:
            cursor.execute(text, statement.params(params), prepare=False)
        except psycopg.Error as exc:
            raise _as_sqlite_error(exc, text) from None
        return Cursor(self, cursor)

    def executemany(self, sql: str, seq: Iterable[Any]) -> Cursor:
        import psycopg

        statement = translated(sql)
        text = self._complete(statement)
        cursor = self.raw.cursor()
        try:
            cursor.executemany(text, [statement.params(p) for p in seq])
        except psycopg.Error as exc:
            raise _as_sqlite_error(exc, text) from None
        return Cursor(self, cursor)

    def _complete(self, statement: Translated) -> str:
        if statement.replace_into is None:
            return statement.sql
        key, columns = self._table(statement.replace_into)
        return statement.sql.replace("{on_conflict}", on_conflict_replace(statement.sql, key, columns))

    def _table(self, name: str) -> tuple[list[str], list[str]]:
        """A table's primary key columns and all its columns, in order (from the catalog, once)."""
        if name not in self._tables:
            key = [
                r[0]
                for r in self.raw.execute(
                    "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                    "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary "
                    "ORDER BY array_position(i.indkey, a.attnum)",
                    [name],
                )
            ]
            columns = [
                r[0]
                for r in self.raw.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                    "AND table_name = %s ORDER BY ordinal_position",
                    [name],
                )
            ]
            self._tables[name] = (key, columns)
        return self._tables[name]

    def last_generated_id(self) -> int | None:
        row = self.raw.execute("SELECT lastval()").fetchone()
        return int(row[0]) if row else None

    def commit(self) -> None:
        if self.in_transaction:
            self.raw.execute("COMMIT")

    def rollback(self) -> None:
        if self.in_transaction:
            self.raw.execute("ROLLBACK")

    def close(self) -> None:
        self.raw.close()

    def __del__(self) -> None:
        # A connection dropped unclosed is closed, as sqlite3's is (psycopg would warn instead).
        raw = getattr(self, "raw", None)
        if raw is not None and not raw.closed:
            raw.close()

    def __enter__(self) -> PgConnection:
        return self

    def __exit__(self, kind: Any, value: Any, tb: Any) -> None:
        # sqlite3's connection context manager commits or rolls back; it does not close.
        if kind is None:
            self.commit()
        else:
            self.rollback()
