"""The state database: one SQLite file under the output directory (embedded, no server).

Each feature owns its tables, created and changed by its numbered migration steps
(``crawler/<feature>/schema/``, applied by ``crawler.store.migrate`` when a connection opens a DB of an
older schema). WAL mode lets ``newsmon status``/``search`` read while a cycle writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from crawler.store.migrate import migrate, refuse_newer

DB_NAME = "state.sqlite"


def db_path(output_dir: str | Path) -> Path:
    return Path(output_dir) / DB_NAME


def connect(output_dir: str | Path) -> sqlite3.Connection:
    """Open (creating if needed) the state DB of ``output_dir``, migrated to the newest schema."""
    path = db_path(output_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)  # autocommit; use transaction()
    conn.row_factory = sqlite3.Row
    try:
        refuse_newer(conn, path)  # before anything writes to it: a newer DB is left as it was
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``: all or nothing, even if the process is killed midway."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
