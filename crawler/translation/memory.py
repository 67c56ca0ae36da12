"""Translation memory: a SQLite cache of model outputs, keyed by model (name, version) and model input.

The model input is the sentence as the model sees it (after the glossary put English names in), so an edit
to the glossary re-translates exactly the sentences it touches, and nothing else. Boilerplate, reruns and
edited articles cost one lookup per sentence. The file lives in the output dir (``[translation] memory``);
with the state on PostgreSQL (``crawler.state``) the memory is two tables of that database
(``translation_models``, ``translation_sentences``), shared by every worker.

Compact: a row holds the model's number (``models``), a 16-byte BLAKE2b digest of the input — not the input
itself, which the items hold already — and the output. A memory written in the earlier layout (one
``memory`` table with the input's text, the model's name and version and a time on every row) is converted
when opened, in one transaction.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from crawler import state

SCHEMA = """
CREATE TABLE IF NOT EXISTS models (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL,         -- package name, e.g. translate-zh_en
    version TEXT NOT NULL,         -- package version
    UNIQUE (name, version)
);
CREATE TABLE IF NOT EXISTS sentences (
    model  INTEGER NOT NULL,       -- models.id
    source BLOB NOT NULL,          -- source_key(the model input: one sentence, glossary applied)
    target TEXT NOT NULL,          -- the raw model output (before glossary repair)
    PRIMARY KEY (model, source)
) WITHOUT ROWID;
"""
_CHUNK = 500  # bound parameters per query


def source_key(sentence: str) -> bytes:
    """What a model input is remembered by: 16 bytes of its BLAKE2b digest (a collision is 2^-64 likely
    among four billion sentences)."""
    return hashlib.blake2b(sentence.encode("utf-8"), digest_size=16).digest()


class TranslationMemory:
    def __init__(self, path: str | Path | None):
        """``path=None``: a memory that remembers nothing (``[translation] memory = ""``)."""
        self.path = Path(path) if path else None
        self.conn = None
        self.models, self.sentences = "models", "sentences"
        if self.path is not None and state.database_url() is not None:
            self.conn = state.connect(self.path.parent)
            self.models, self.sentences = "translation_models", "translation_sentences"
        elif self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.executescript(SCHEMA)
            self._convert_earlier_layout()
        self._models: dict[tuple[str, str], int] = {}

    def lookup(self, model: dict, sources: Iterable[str]) -> dict[str, str]:
        """The remembered outputs for those of ``sources`` this model has translated before."""
        if self.conn is None:
            return {}
        number = self._model(model, create=False)
        if number is None:
            return {}
        by_key = {source_key(s): s for s in sources}
        keys, found = list(by_key), {}
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT source, target FROM {self.sentences} WHERE model=? AND source IN ({marks})", (number, *chunk)
            )
            found.update((by_key[key], target) for key, target in rows.fetchall())
        return found

    def store(self, model: dict, pairs: dict[str, str]) -> None:
        if self.conn is None or not pairs:
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            number = self._model(model, create=True)
            self.conn.executemany(
                f"INSERT OR REPLACE INTO {self.sentences} VALUES (?, ?, ?)",
                [(number, source_key(s), t) for s, t in pairs.items()],
            )
        except BaseException:
            self.conn.execute("ROLLBACK")
            self._models.clear()  # a model row inserted in the transaction is gone with it
            raise
        self.conn.execute("COMMIT")

    def _model(self, model: dict, create: bool) -> int | None:
        key = (model["name"], model["version"])
        if key not in self._models:
            row = self.conn.execute(f"SELECT id FROM {self.models} WHERE name=? AND version=?", key).fetchone()
            if row is None and create:
                row = (self.conn.execute(f"INSERT INTO {self.models}(name, version) VALUES (?, ?)", key).lastrowid,)
            if row is None:
                return None
            self._models[key] = row[0]
        return self._models[key]

    def _convert_earlier_layout(self) -> None:
        """Rows of the earlier ``memory`` table into ``models`` and ``sentences``; the table dropped."""
        if not self.conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='memory'").fetchone():
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.execute("INSERT OR IGNORE INTO models(name, version) SELECT DISTINCT model, version FROM memory")
            numbers = {(n, v): i for i, n, v in self.conn.execute("SELECT id, name, version FROM models")}
            rows = self.conn.execute("SELECT model, version, source, target FROM memory")
            while batch := rows.fetchmany(5000):
                self.conn.executemany(
                    "INSERT OR REPLACE INTO sentences VALUES (?, ?, ?)",
                    [(numbers[(m, v)], source_key(s), t) for m, v, s, t in batch],
                )
            self.conn.execute("DROP TABLE memory")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
        self.conn.execute("VACUUM")  # the converted file is a fraction of the old one: give the rest back

    def count(self) -> int:
        return self.conn.execute(f"SELECT count(*) FROM {self.sentences}").fetchone()[0] if self.conn else 0

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
