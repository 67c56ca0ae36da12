"""Is the output directory what the state DB says it is? (``newsmon verify [--repair]``)

Checks every day file against the DB's items of that day (missing, extra, duplicate, torn or differing
lines; a day file the DB has no items for), every item's raw pages (missing files), and temp files left by
killed processes. Each problem is one line. ``repair`` writes every day file from the DB and removes the
temp files; a missing raw page cannot be restored from the DB (the next re-extraction of that item will say
so), nor can a line for an item the DB does not hold (``newsmon import`` loads such a file first).
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from crawler.store import dayfiles
from crawler.store import items as item_store
from crawler.store.diskspace import sweep_temp_files, temp_files


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    repairable_days: set[str] = field(default_factory=set)
    days: int = 0
    items: int = 0

    def add(self, line: str, day: str | None = None) -> None:
        self.problems.append(line)
        if day:
            self.repairable_days.add(day)


def verify(conn: sqlite3.Connection, output_dir: Path) -> Findings:
    output_dir = Path(output_dir)
    found = Findings()
    db_days = set(item_store.days(conn))
    for day in sorted(db_days | dayfiles.file_days(output_dir)):
        found.days += 1
        _check_day(conn, output_dir, day, found)
    _check_raw(conn, output_dir, found)
    for tmp in temp_files(output_dir):
        found.add(f"{tmp}: temp file left by a killed process")
    return found


def _check_day(conn: sqlite3.Connection, output_dir: Path, day: str, found: Findings) -> None:
    rows = {r["id"]: item_store.line(r["json"]) for r in item_store.day_rows(conn, day)}
    found.items += len(rows)
    files = dayfiles.day_files(output_dir, day)
    if not files:
        if rows:
            found.add(f"{dayfiles.items_path(output_dir, day)}: missing ({len(rows)} item(s) in the state DB)", day)
        return
    path = files[0]  # the gzipped one when there are both: the plain one is what a crash left beside it
    for extra in files[1:]:
        found.add(f"{extra}: left beside {path.name} by an interrupted export", day)
    try:
        data = dayfiles.read_day_file(path)
    except dayfiles.DamagedDayFile as exc:
        found.add(str(exc), day)
        return
    if data and not data.endswith(b"\n"):
        found.add(f"{path}: torn last line (no newline at the end)", day)
    seen: Counter[str] = Counter()
    for number, raw in enumerate(data.splitlines(), start=1):
        ident = _line_id(raw)
        if ident is None:
            found.add(f"{path}:{number}: not a JSON item line", day)
            continue
        seen[ident] += 1
        if ident not in rows:
            where = item_store.get(conn, ident)
            why = "not in the state DB (newsmon import loads it)" if where is None else "belongs to another day"
            found.add(f"{path}:{number}: item {ident} {why}", day if where is not None else None)
        elif seen[ident] == 1 and raw.decode("utf-8", "replace") != rows[ident]:
            found.add(f"{path}:{number}: item {ident} differs from the state DB", day)
    for ident, count in seen.items():
        if count > 1:
            found.add(f"{path}: item {ident} has {count} lines", day)
    for ident in rows.keys() - seen.keys():
        found.add(f"{path}: item {ident} missing", day)


def _line_id(raw: bytes) -> str | None:
    try:
        obj = json.loads(raw)
    except ValueError:
        return None
    return obj.get("id") if isinstance(obj, dict) and isinstance(obj.get("id"), str) else None


def _check_raw(conn: sqlite3.Connection, output_dir: Path, found: Findings) -> None:
    for row in conn.execute("SELECT id, json FROM items ORDER BY seq"):
        item = item_store.loads(row["json"])
        if item is None:
            found.add(f"item {row['id']}: its state DB row holds no valid JSON")
            continue
        paths = [item.get("raw_path")] + [
            p.get("raw_path") for p in (item.get("extras") or {}).get("pages", [])[1:] if isinstance(p, dict)
        ]
        for rel in filter(None, paths):
            if not (output_dir / rel).exists():
                found.add(f"{output_dir / rel}: raw page of item {row['id']} missing")


def repair(conn: sqlite3.Connection, output_dir: Path) -> tuple[list[str], list[Path]]:
    """Write every day file from the DB and sweep temp files. Returns (days written, temp files removed)."""
    report = dayfiles.export_all(conn, output_dir)
    return report.written, sweep_temp_files(output_dir)
