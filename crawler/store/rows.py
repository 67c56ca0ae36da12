"""Items as flat rows, for a spreadsheet or a data frame (``newsmon export``): CSV, JSON lines or Parquet.

One row per stored item (its latest version), columns ``COLUMNS``. ``published_at`` is in the item store's
one form (``crawler.store.published``: ``YYYY-MM-DDTHH:MM:SS±HH:MM``, the site's offset), ``published_date``
its day as published and ``published_precision`` whether the time is real (``date``: only the day was
known). Parquet types the dates (``published_at`` a UTC timestamp, ``published_date`` a date) and needs
pyarrow (``pip install newsmon[parquet]``); CSV and JSON lines need nothing beyond the standard library.
Rows are read from the state DB in batches and written as they come, to a temporary file renamed at the end.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import IO

from crawler.exceptions import NewsmonError
from crawler.store import items as item_store

FORMATS = ("csv", "jsonl", "parquet")
BATCH = 2000
COLUMNS = (
    "id",
    "source",
    "section",
    "url",
    "published_at",
    "published_date",
    "published_precision",
    "fetched_at",
    "crawl_day",
    "lang",
    "title",
    "title_en",
    "text",
    "text_en",
    "translation_status",
    "version",
    "edited",
    "deleted",
    "flags",
    "watch",
    "story_id",
    "story_size",
    "authors",
)
LIST_SEPARATOR = "; "  # flags, watch names, authors in one CSV cell
PARQUET_HINT = "Parquet needs pyarrow: pip install 'newsmon[parquet]' (or pip install pyarrow)"


def row_of(item: dict, day: str, deleted: bool) -> dict:
    """The export row of one stored item."""
    published = item.get("published_at") or None
    translation: dict = item["translation"] if isinstance(item.get("translation"), dict) else {}
    story: dict = item["story"] if isinstance(item.get("story"), dict) else {}
    version = int(item.get("version") or 1)
    return {
        "id": item.get("id"),
        "source": item.get("source"),
        "section": item.get("section_key") or f"{item.get('source', '')}/{item.get('section', '')}",
        "url": item.get("url"),
        "published_at": published,
        "published_date": published[:10] if published and len(published) >= 10 else None,
        "published_precision": item.get("published_precision") if published else None,
        "fetched_at": item.get("fetched_at"),
        "crawl_day": day,
        "lang": item.get("lang"),
        "title": item.get("title"),
        "title_en": _english(item, "title"),
        "text": item.get("text"),
        "text_en": _english(item, "text"),
        "translation_status": translation.get("status"),
        "version": version,
        "edited": version > 1,
        "deleted": deleted,
        "flags": [str(f) for f in item.get("flags") or []],
        "watch": [h.get("name") for h in item.get("watch") or [] if isinstance(h, dict) and h.get("name")],
        "story_id": story.get("id"),
        "story_size": story.get("size"),
        "authors": [str(a) for a in item.get("authors") or []],
    }


def _english(item: dict, key: str) -> str | None:
    """The English title or text: the original for an English item, else its translation (None pending)."""
    if (item.get("lang") or "") == "en":
        return item.get(key)
    return item.get(f"{key}_en")


def rows(
    conn: sqlite3.Connection, since: str | None = None, until: str | None = None, source: str | None = None
) -> Iterator[dict]:
    """Export rows, oldest crawl day first (in storage order), filtered by publication day (else crawl day)
    and by source id or section key."""
    where, args = ["1 = 1"], []
    doc = item_store.sql_json("i.json")
    date_of = f"coalesce(substr({doc} ->> '$.published_at', 1, 10), i.day)"
    if since:
        where.append(f"{date_of} >= ?")
        args.append(since)
    if until:
        where.append(f"{date_of} <= ?")
        args.append(until)
    if source:
        where.append(f"({doc} ->> '$.source' = ? OR {doc} ->> '$.section_key' = ?)")
        args += [source, source]
    sql = (
        f"SELECT i.seq, i.day, i.json, a.status = 'deleted' AS deleted FROM items i "
        f"LEFT JOIN articles a ON a.id = i.id WHERE {' AND '.join(where)} AND i.seq > ? ORDER BY i.seq LIMIT ?"
    )
    last = 0
    while True:
        batch = conn.execute(sql, [*args, last, BATCH]).fetchall()
        if not batch:
            return
        last = batch[-1][0]
        for _seq, day, text, deleted in batch:
            item = item_store.loads(text)
            if item is not None:  # else a damaged row (newsmon verify names it)
                yield row_of(item, day, bool(deleted))


# ---------------------------------------------------------------- writers


def write(found: Iterator[dict], fmt: str, target: str) -> int:
    """Write the rows to ``target`` (a path; ``-``: standard output, CSV and JSON lines only) in ``fmt``.
    Returns the rows written. A file is written whole to a temporary name and renamed."""
    if fmt not in FORMATS:
        raise NewsmonError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if fmt == "parquet":
        pyarrow = _pyarrow()
        if target == "-":
            raise NewsmonError("Parquet is a binary file: give a file name, not -")
        return _to_file(target, lambda f: _parquet(found, f, pyarrow), binary=True)
    writer = _csv if fmt == "csv" else _jsonl
    if target == "-":
        import sys

        return writer(found, sys.stdout)
    return _to_file(target, lambda f: writer(found, f), binary=False)


def _to_file(target: str, fill, binary: bool) -> int:
    path = Path(target)
    if path.is_dir():
        raise NewsmonError(f"{path} is a directory: give a file name, e.g. {path / 'items.csv'}")
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temp, "wb") if binary else open(temp, "w", encoding="utf-8", newline="") as f:
            count = fill(f)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return count


def _cell(value) -> object:
    if isinstance(value, list):
        return LIST_SEPARATOR.join(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def _csv(found: Iterator[dict], out: IO[str]) -> int:
    """RFC 4180 CSV with a header row; lists joined by "; ", booleans true/false, no value empty."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    count = 0
    for row in found:
        writer.writerow([_cell(row[c]) for c in COLUMNS])
        count += 1
    return count


def _jsonl(found: Iterator[dict], out: IO[str]) -> int:
    count = 0
    for row in found:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


def _pyarrow():
    try:
        import pyarrow  # type: ignore[import-untyped]
        import pyarrow.parquet  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        raise NewsmonError(PARQUET_HINT) from None
    return pyarrow


def _parquet_schema(pa):
    text, flag, many = pa.string(), pa.bool_(), pa.list_(pa.string())
    types = {
        "published_at": pa.timestamp("ms", tz="UTC"),
        "published_date": pa.date32(),
        "version": pa.int32(),
        "edited": flag,
        "deleted": flag,
        "flags": many,
        "watch": many,
        "authors": many,
        "story_size": pa.int32(),
    }
    return pa.schema([(c, types.get(c, text)) for c in COLUMNS])


def _typed(row: dict) -> dict:
    out = dict(row)
    if row["published_at"]:
        try:
            out["published_at"] = datetime.fromisoformat(row["published_at"])
            out["published_date"] = date.fromisoformat(row["published_date"])
        except ValueError:  # not a date (an old import): left empty rather than failing
            out["published_at"] = out["published_date"] = None
    return out


def _parquet(found: Iterator[dict], out: io.BufferedWriter, pa) -> int:
    import pyarrow.parquet as pq

    schema = _parquet_schema(pa)
    count, batch = 0, []
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        for row in found:
            batch.append(_typed(row))
            if len(batch) >= BATCH:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                count, batch = count + len(batch), []
        if batch or not count:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            count += len(batch)
    return count
