"""The state database: the embedded SQLite file under the output directory, or a PostgreSQL database.

Which one is chosen by URL: ``NEWSMON_DATABASE_URL`` (the environment wins), else ``[state] url`` of the
config; neither set, the SQLite file ``<output>/state.sqlite`` (no server). A ``postgresql://`` URL opens the
database through ``crawler.store.dialect``, an adapter that speaks the sqlite3 connection API, so the stores
and stages use one API and one SQL text for both (the few dialect differences are translated there).

Each feature owns its tables, created and changed by its numbered migration steps
(``crawler/<feature>/schema/``, applied by ``crawler.store.migrate`` when a connection opens a DB of an
older schema). WAL mode lets ``newsmon status``/``search`` read while a cycle writes.

Free pages: SQLite keeps the pages of deleted rows and reuses them for new ones, so a file never shrinks by
itself — and the stories' index drops the band keys and signatures of every item that ages out of it. A new
file is made with ``auto_vacuum = INCREMENTAL``, and ``release_free_pages`` (run with each export) gives the
free pages back to the file system once they are more than FREE_SHARE_KEPT of the file. A file made before
keeps SQLite's default (its free pages are reused, not given back) until ``compact`` (``newsmon state
compact``) rewrites it with ``auto_vacuum = INCREMENTAL``.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from crawler.exceptions import ConfigError, NewsmonError
from crawler.store import items as item_store
from crawler.store.migrate import migrate, refuse_newer
from crawler.tables import Spec, config_table

log = logging.getLogger(__name__)

DB_NAME = "state.sqlite"
ENV_URL = "NEWSMON_DATABASE_URL"
URL_SCHEMES = ("postgresql://", "postgres://")

SPEC: Spec = {
    "url": ((str,), "", None),  # "" = the SQLite file under the output directory
}


def settings_of(config: Any) -> dict[str, Any]:
    """The ``[state]`` table, its URL checked (``file:line`` of a URL that is not PostgreSQL's)."""
    table = config_table(config, "state", SPEC)
    _check_url(config, table["url"])
    return table


def _check_url(config: Any, url: str) -> None:
    from crawler.config import key_location

    if url and not url.startswith(URL_SCHEMES):
        raise ConfigError(
            f"{key_location(config, 'state', 'url')}: [state] url: not a PostgreSQL URL "
            f"(postgresql://user@host/dbname); leave it out for the SQLite file"
        )


def database_url(url: str | None = None) -> str | None:
    """The PostgreSQL URL in force: ``url`` when given (a caller's own, e.g. ``state copy --to``), else
    ``NEWSMON_DATABASE_URL``, else the config's; None for the SQLite file."""
    if url:
        return url
    env = os.environ.get(ENV_URL, "").strip()
    if env:
        if not env.startswith(URL_SCHEMES):
            raise ConfigError(
                f"{ENV_URL}: not a PostgreSQL URL (postgresql://user@host/dbname); unset it for the SQLite file"
            )
        return env
    from crawler.config import last_loaded

    config = last_loaded()
    if config is None or not config.table("state").get("url"):
        return None
    # Only the URL is checked here (a wrong key elsewhere in [state] is for `newsmon sources check`).
    url = str(config_table(config, "state", {"url": SPEC["url"]}, extra=tuple(config.table("state")))["url"])
    _check_url(config, url)
    return url


def db_path(output_dir: str | Path) -> Path:
    return Path(output_dir) / DB_NAME


def exists(output_dir: str | Path) -> bool:
    """Is there a state to read: the SQLite file of ``output_dir``, or a PostgreSQL URL in force (the
    database is created by whoever runs first, and an empty one reads as an archive of nothing)."""
    return database_url() is not None or db_path(output_dir).exists()


def describe(output_dir: str | Path) -> str:
    """Where the state is, for messages: the SQLite file, or the PostgreSQL URL without its password."""
    url = database_url()
    if url is None:
        return str(db_path(output_dir))
    from crawler.store.dialect import redact_url

    return redact_url(url)


def connect(output_dir: str | Path, url: str | None = None) -> sqlite3.Connection:
    """Open (creating if needed) the state DB of ``output_dir`` (or the PostgreSQL database in force),
    migrated to the newest schema."""
    chosen = database_url(url)
    if chosen is not None:
        return _connect_postgresql(chosen)
    return connect_sqlite(output_dir)


def connect_sqlite(output_dir: str | Path) -> sqlite3.Connection:
    """The SQLite file of ``output_dir`` whatever URL is in force (``newsmon state copy`` reads it)."""
    path = db_path(output_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)  # autocommit; use transaction()
    conn.row_factory = sqlite3.Row
    item_store.register(conn)
    try:
        refuse_newer(conn, path)  # before anything writes to it: a newer DB is left as it was
        if conn.execute("PRAGMA page_count").fetchone()[0] == 0:  # a new file: before WAL writes its header
            conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        if migrate(conn, path):  # each step rewrote its pages into the WAL: about 1 MB for a new file
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except BaseException:
        conn.close()
        raise
    return conn


# Free pages kept for the next rows: more than this share of the file, and they are given back.
FREE_SHARE_KEPT = 0.1
_INCREMENTAL = 2  # PRAGMA auto_vacuum's value for INCREMENTAL


def release_free_pages(conn: sqlite3.Connection) -> int:
    """Give a SQLite file's free pages back to the file system when they are more than FREE_SHARE_KEPT of it
    (module docstring: Free pages). Returns the pages given back (0 on PostgreSQL, which tends its own)."""
    if is_postgresql(conn) or conn.execute("PRAGMA auto_vacuum").fetchone()[0] != _INCREMENTAL:
        return 0
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    if free <= conn.execute("PRAGMA page_count").fetchone()[0] * FREE_SHARE_KEPT:
        return 0
    try:
        conn.executescript("PRAGMA incremental_vacuum")  # a script: each step of the pragma frees one page
    except sqlite3.OperationalError as exc:  # busy (a long reader): the next run gives them back
        log.info("state DB: free pages not given back this time: %s", exc)
        return 0
    return free - conn.execute("PRAGMA freelist_count").fetchone()[0]


def compact(output_dir: str | Path) -> tuple[int, int]:
    """Rewrite the SQLite file without its free pages (``VACUUM``), giving them back from then on (module
    docstring: Free pages). Returns its size in bytes before and after. Needs free space for a copy of it."""
    path = db_path(output_dir)
    if not path.exists():
        raise NewsmonError(f"{path}: no state DB to compact")
    conn = connect_sqlite(output_dir)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        before = path.stat().st_size
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        try:
            conn.execute("VACUUM")
        except sqlite3.OperationalError as exc:  # a full disk: the file is left as it was
            raise NewsmonError(f"{path}: not compacted: {exc} (it needs free space for a copy of the file)") from None
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return before, path.stat().st_size


def _connect_postgresql(url: str) -> sqlite3.Connection:
    from crawler.store.dialect import PgConnection

    pg = PgConnection.open(url)
    # The adapter answers the sqlite3 connection API the callers use; typed as one so that they stay so.
    conn = cast(sqlite3.Connection, pg)
    try:
        refuse_newer(conn, None)
        migrate(conn, None)
    except BaseException:
        conn.close()
        raise
    return conn


def is_postgresql(conn: Any) -> bool:
    return getattr(conn, "dialect", "sqlite") == "postgresql"


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
