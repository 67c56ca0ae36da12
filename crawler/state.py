"""The state database: one SQLite file under the output directory (embedded, no server).

Each feature owns its tables in ``crawler/schema/NN-<feature>.sql`` (``CREATE … IF NOT EXISTS``); they are
applied in file-name order on every connect, so a new feature never edits another's schema file.
WAL mode lets ``newsmon status``/``search`` read while a cycle writes.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Iterator

DB_NAME = "state.sqlite"


def db_path(output_dir: str | Path) -> Path:
    return Path(output_dir) / DB_NAME


def schema_scripts() -> list[tuple[str, str]]:
    folder = resources.files("crawler").joinpath("schema")
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name, folder.joinpath(name).read_text(encoding="utf-8")) for name in names]


def connect(output_dir: str | Path) -> sqlite3.Connection:
    """Open (creating if needed) the state DB of ``output_dir`` with every feature's schema applied."""
    path = db_path(output_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)  # autocommit; use transaction()
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    for _name, script in schema_scripts():
        conn.executescript(script)
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
