"""Translation memory: a SQLite cache of model outputs, keyed by model (name, version) and model input.

The model input is the sentence as the model sees it (after the glossary put English names in), so an edit
to the glossary re-translates exactly the sentences it touches, and nothing else. Boilerplate, reruns and
edited articles cost one lookup per sentence. The file lives in the output dir (``[translation] memory``).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterable

from crawler.items import utc_now

SCHEMA = """
CREATE TABLE IF NOT EXISTS memory (
    model      TEXT NOT NULL,      -- package name, e.g. translate-zh_en
    version    TEXT NOT NULL,      -- package version
    source     TEXT NOT NULL,      -- the model input (one sentence, glossary applied)
    target     TEXT NOT NULL,      -- the raw model output (before glossary repair)
    created_at TEXT NOT NULL,
    PRIMARY KEY (model, version, source)
) WITHOUT ROWID;
"""
_CHUNK = 500   # bound parameters per query


class TranslationMemory:
    def __init__(self, path: str | Path | None):
        """``path=None``: a memory that remembers nothing (``[translation] memory = ""``)."""
        self.path = Path(path) if path else None
        self.conn = None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.executescript(SCHEMA)

    def lookup(self, model: dict, sources: Iterable[str]) -> dict[str, str]:
        """The remembered outputs for those of ``sources`` this model has translated before."""
        if self.conn is None:
            return {}
        sources, found = list(sources), {}
        for start in range(0, len(sources), _CHUNK):
            chunk = sources[start:start + _CHUNK]
            rows = self.conn.execute(
                f"SELECT source, target FROM memory WHERE model=? AND version=? AND source IN "
                f"({','.join('?' * len(chunk))})", (model["name"], model["version"], *chunk))
            found.update(rows.fetchall())
        return found

    def store(self, model: dict, pairs: dict[str, str]) -> None:
        if self.conn is None or not pairs:
            return
        now = utc_now()
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.executemany("INSERT OR REPLACE INTO memory VALUES (?, ?, ?, ?, ?)",
                                  [(model["name"], model["version"], s, t, now) for s, t in pairs.items()])
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM memory").fetchone()[0] if self.conn else 0

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
