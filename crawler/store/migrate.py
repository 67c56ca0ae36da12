"""Schema migrations of the state DB: numbered, applied once, recorded in ``PRAGMA user_version``.

Each feature keeps its migrations in its own package, ``crawler/<feature>/schema/NNNN_<name>.sql`` (or
``.py`` with ``migrate(conn)`` for a step SQL alone cannot express); the feature registry
(``crawler.features``) says which packages those are. Numbers are global: they order the steps of every
feature into one history, and a number is never reused or edited once released — a change is a new step.

Opening a DB:

* ``user_version`` equal to the newest step: nothing to do (one PRAGMA read per connect);
* lower: a backup copy is written beside it (``state.sqlite.v<N>.bak``), then every newer step runs, each in
  its own transaction together with the ``user_version`` it reaches, so a kill leaves the DB at a step;
* a new DB (no tables): every step in one transaction, which writes each page once;
* higher: written by a newer newsmon, refused (``SchemaTooNew``) rather than misread.

On PostgreSQL (``crawler.store.dialect``) the same steps run through the dialect adapter; a step whose SQL
differs there has a second file, ``NNNN_name.postgresql.sql``, run instead of the shared one. The version
lives in the table ``newsmon_schema``, and an advisory lock serialises processes migrating at once; no
backup file is written (back up with the server's tools). A database there is created at the newest schema,
so a PostgreSQL step of a step before the backend existed only has to make the same tables, empty.

Steps 1–9 are the schema as it stood before migrations existed (``CREATE … IF NOT EXISTS``), so a DB of
that time (``user_version`` 0, tables present) passes through them unchanged and is upgraded from step 10.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from crawler.exceptions import NewsmonError

log = logging.getLogger(__name__)

# NNNN_name.sql|py, and NNNN_name.postgresql.sql standing in for a step on PostgreSQL
STEP_NAME = re.compile(r"^(?P<number>\d{4})_(?P<name>[a-z0-9_]+)(?:\.(?P<kind>sql|py)|(?P<dialect>\.postgresql)\.sql)$")
SCHEMA_LOCK = 7_315_001  # the advisory lock id migrating processes take on PostgreSQL


class SchemaTooNew(NewsmonError):
    """The state DB was written by a newer newsmon."""


@dataclass(frozen=True)
class Step:
    number: int
    feature: str  # the package that owns the tables the step touches
    name: str
    apply: Callable[[sqlite3.Connection], None]
    apply_postgresql: Callable[[sqlite3.Connection], None] | None = None  # the step's .postgresql file

    def run(self, conn: sqlite3.Connection) -> None:
        if self.apply_postgresql is not None and _is_postgresql(conn):
            self.apply_postgresql(conn)
        else:
            self.apply(conn)


def steps() -> list[Step]:
    """Every feature's migration steps, in number order (a number used twice is a programming error)."""
    from crawler.features import schema_packages

    found: dict[int, Step] = {}
    overrides: dict[int, Callable[[sqlite3.Connection], None]] = {}
    for package in schema_packages():
        folder = resources.files(package).joinpath("schema")
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            match = STEP_NAME.match(entry.name)
            if not match:
                continue
            number = int(match["number"])
            if match["dialect"]:
                overrides[number] = _loader(package, entry, "sql")
                continue
            if number in found:
                raise RuntimeError(f"migration {number} defined twice: {found[number].feature} and {package}")
            found[number] = Step(number, package, match["name"], _loader(package, entry, match["kind"]))
    stray = set(overrides) - set(found)
    if stray:
        raise RuntimeError(f"migration {min(stray)}: a .postgresql file without the step it overrides")
    return [replace(found[n], apply_postgresql=overrides.get(n)) for n in sorted(found)]


def _loader(package: str, entry, kind: str) -> Callable[[sqlite3.Connection], None]:
    if kind == "sql":
        script = entry.read_text(encoding="utf-8")
        return lambda conn: _run_script(conn, script)
    module = importlib.import_module(f"{package}.schema.{entry.name[:-3]}")
    return module.migrate


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    # executescript would COMMIT the step's transaction first: run the statements one by one instead.
    for statement in _statements(script):
        conn.execute(statement)


def _statements(script: str) -> list[str]:
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip() and not all(line.strip().startswith("--") or not line.strip() for line in buf.splitlines()):
        out.append(buf.strip())
    return out


def latest() -> int:
    all_steps = steps()
    return all_steps[-1].number if all_steps else 0


def _is_postgresql(conn: sqlite3.Connection) -> bool:
    return getattr(conn, "dialect", "sqlite") == "postgresql"


def version_of(conn: sqlite3.Connection) -> int:
    if _is_postgresql(conn):
        conn.execute("CREATE TABLE IF NOT EXISTS newsmon_schema (version BIGINT NOT NULL)")
        row = conn.execute("SELECT max(version) FROM newsmon_schema").fetchone()
        return int(row[0] or 0)
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _set_version(conn: sqlite3.Connection, number: int) -> None:
    if _is_postgresql(conn):
        conn.execute("DELETE FROM newsmon_schema")
        conn.execute("INSERT INTO newsmon_schema(version) VALUES (?)", (number,))
    else:
        conn.execute(f"PRAGMA user_version = {number}")


_LATEST: int | None = None


def _latest() -> int:
    global _LATEST
    if _LATEST is None:
        _LATEST = latest()
    return _LATEST


def refuse_newer(conn: sqlite3.Connection, path: Path | None) -> None:
    """Raise ``SchemaTooNew`` for a DB written by a newer newsmon (read only: nothing is written to it)."""
    current = version_of(conn)
    if current > _latest():
        raise SchemaTooNew(
            f"{path}: written by a newer newsmon (schema {current}; this one knows up to "
            f"{_LATEST}): upgrade newsmon, or point --output at another directory"
        )


def migrate(conn: sqlite3.Connection, path: Path | None) -> int:
    """Bring ``conn`` (the DB at ``path``) to the newest schema. Returns the steps applied."""
    refuse_newer(conn, path)
    current = version_of(conn)
    if current == _LATEST:
        return 0
    pending = [s for s in steps() if s.number > current]
    upgrading = current > 0 or _has_tables(conn)
    if upgrading:
        backup(conn, path, current)
        for step in pending:
            _apply(conn, [step])
        log.warning("state DB %s upgraded from schema %d to %d", path, current, _LATEST)
    else:  # a new DB: nothing to keep between steps, and one transaction writes each page once
        _apply(conn, pending)
    return len(pending)


def _apply(conn: sqlite3.Connection, pending: list[Step]) -> None:
    """Apply ``pending`` in one transaction, with the schema version each sets."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if _is_postgresql(conn):
            conn.execute(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})")
        done = version_of(conn)  # another process may have migrated meanwhile
        for step in pending:
            if step.number > done:
                step.run(conn)
                _set_version(conn, step.number)
                log.debug("state DB: migration %04d %s (%s) applied", step.number, step.name, step.feature)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _has_tables(conn: sqlite3.Connection) -> bool:
    if _is_postgresql(conn):
        return (
            conn.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() "
                "AND table_name <> 'newsmon_schema' LIMIT 1"
            ).fetchone()
            is not None
        )
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").fetchone() is not None


def backup(conn: sqlite3.Connection, path: Path | None, version: int) -> Path | None:
    """A consistent copy of the DB before it is upgraded (SQLite's online backup: WAL content included)."""
    if path is None:
        return None
    target = Path(f"{path}.v{version}.bak")
    if target.exists():
        return target
    with sqlite3.connect(target) as copy:
        conn.backup(copy)
    copy.close()
    log.warning("state DB %s: backup of schema %d written to %s before upgrading", path, version, target)
    return target
