"""Load items written by newsmon (day files, a backup, a colleague's archive) into the state DB
(``newsmon import FILE.jsonl…``): the way back when ``state.sqlite`` is lost, and the fast way to build a
large archive.

Idempotent: an item whose canonical URL is already stored is skipped, so importing the same file twice, or
a day file of this very output directory, adds nothing. A file whose name ends in ``.gz`` is read gunzipped
(``items.jsonl.gz``: the day files of earlier days). An item lands on the day of the folder its file is in
(``2026-12-03/items.jsonl``), else on the day of its ``fetched_at``. A line that is not an item of
newsmon's schema is named (file:line: why) and skipped; it never stops the others. The day files of the
days that gained items are written from the DB at the end.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from crawler import state
from crawler.items import canonicalize_url, item_id
from crawler.store import dayfiles
from crawler.store import items as item_store

REQUIRED = ("id", "source", "section_key", "url", "canonical_url", "fetched_at", "content_hash")
BATCH = 500


@dataclass
class ImportReport:
    read: int = 0
    imported: int = 0
    known: int = 0
    rejected: list[str] = field(default_factory=list)

    def as_line(self) -> str:
        return (
            f"{self.read} line(s) read: {self.imported} imported, {self.known} already stored, "
            f"{len(self.rejected)} rejected"
        )


def import_files(output_dir: Path, files: list[Path]) -> ImportReport:
    report = ImportReport()
    dayfiles.sweep(output_dir)
    conn = state.connect(output_dir)
    try:
        for path in files:
            _import_file(conn, Path(path), report)
        dayfiles.export_changed(conn, output_dir)
    finally:
        conn.close()
    return report


def _import_file(conn: sqlite3.Connection, path: Path, report: ImportReport) -> None:
    folder_day = path.parent.name if dayfiles.DAY.match(path.parent.name) else None
    batch: list[tuple[dict, str]] = []
    number = 0
    try:
        with gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb") as fh:
            for number, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                report.read += 1
                item, problem = _item_of(raw)
                if problem:
                    report.rejected.append(f"{path}:{number}: {problem}")
                    continue
                batch.append((item, folder_day or item["fetched_at"][:10]))
                if len(batch) >= BATCH:
                    _store(conn, batch, report)
                    batch = []
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:  # the lines before the damage are imported
        report.rejected.append(f"{path}: not a readable gzip file after line {number} ({exc})")
    _store(conn, batch, report)


def _item_of(raw: bytes) -> tuple[dict, str | None]:
    if not raw.endswith(b"\n"):
        return {}, "torn line (no newline at the end)"
    try:
        item = json.loads(raw)
    except ValueError as exc:
        return {}, f"not JSON ({exc})"
    if not isinstance(item, dict):
        return {}, "not a JSON object"
    missing = [k for k in REQUIRED if not isinstance(item.get(k), str) or not item.get(k)]
    if missing:
        return {}, f"not a newsmon item: no {', '.join(missing)}"
    if item_id(canonicalize_url(item["canonical_url"])) != item["id"]:
        return {}, f"id {item['id']} is not the id of its canonical_url"
    if not isinstance(item.get("paragraphs", []), list):
        return {}, "paragraphs is not a list"
    return item, None


def _store(conn: sqlite3.Connection, batch: list[tuple[dict, str]], report: ImportReport) -> None:
    if not batch:
        return
    with state.transaction(conn):
        for item, day in batch:
            pages = [
                (canonicalize_url(p["url"]), item["id"])
                for p in ((item.get("extras") or {}).get("pages") or [])[1:]
                if isinstance(p, dict) and p.get("url")
            ]
            if item_store.insert_article(
                conn, item, day, run_id=None, first_seen=item["fetched_at"], further_pages=pages
            ):
                report.imported += 1
            else:
                report.known += 1
