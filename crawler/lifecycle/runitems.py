"""The items a run stored in a section, as the lifecycle stage measures them: each read once for both the
section's snapshot (its new items' titles) and its extraction health (their text lengths and dates), not once
for each."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from crawler.store import items as item_store


@dataclass(frozen=True)
class RunItem:
    id: str
    url: str
    title: str | None  # the item's, else the one its article row was listed with
    title_en: str | None
    stored: bool  # the items table has a row for it (an unreadable row counts, as an empty item)
    text_chars: int  # characters of its text, blank lines between paragraphs included
    dated: bool  # it has a publication date


class RunItems:
    """``of(section, run_id)``: the run's items of the section, first seen first; read from the DB once."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self._read: dict[tuple[str, int], list[RunItem]] = {}

    def of(self, section: str, run_id: int) -> list[RunItem]:
        if (section, run_id) not in self._read:
            self._read[section, run_id] = self._load(section, run_id)
        return self._read[section, run_id]

    def _load(self, section: str, run_id: int) -> list[RunItem]:
        rows = self.conn.execute(
            "SELECT a.id, a.url, a.title, i.json FROM articles a LEFT JOIN items i ON i.id = a.id "
            "WHERE a.section = ? AND a.run_id = ? ORDER BY a.first_seen, a.id",
            (section, run_id),
        )
        out = []
        for row in rows:
            item = item_store.loads(row["json"]) or {}  # an unreadable row costs its item, not the section's measure
            out.append(
                RunItem(
                    id=row["id"],
                    url=row["url"],
                    title=item.get("title", row["title"]),
                    title_en=item.get("title_en"),
                    stored=row["json"] is not None,
                    text_chars=len(item.get("text") or ""),
                    dated=item.get("published_at") is not None,
                )
            )
        return out
