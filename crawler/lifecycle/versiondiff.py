"""What an edit changed: two versions of an article compared paragraph by paragraph, then word by word, in the
original and in English (``newsmon diff``, the digest's edit blocks and diff pages, the edits feed).

Paragraphs are paired as the re-checks judge an edit (``textdiff.paragraph_diff``, the section's ignore
patterns applied); inside a changed paragraph the words are compared (``textdiff.word_diff``). English sides
come from the versions' translations (``versions.versions_of``): a version not translated yet has none, and the
English of a row is then left out rather than guessed.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from crawler.lifecycle.textdiff import EQUAL, paragraph_diff, word_diff
from crawler.lifecycle.versions import Version, versions_of
from crawler.store import items as item_store

Segments = list[tuple[str, str]]  # textdiff.word_diff's (mark, text) runs


@dataclass(frozen=True)
class Row:
    """One paragraph of the compared article: the same in both versions, changed, added or removed."""

    kind: str  # same | changed | added | removed
    old_index: int | None  # its position in the old / new version (0-based; None: not in that version)
    new_index: int | None
    original: Segments
    english: Segments | None  # None: an English article, or a side not translated

    @property
    def number(self) -> int:
        """The paragraph's number as a reader counts (in the new version; a removed one: in the old)."""
        return (self.new_index if self.new_index is not None else self.old_index or 0) + 1


@dataclass(frozen=True)
class VersionDiff:
    article_id: str
    lang: str | None
    url: str | None
    section: str | None
    old: Version
    new: Version
    title: Segments | None  # None: the title did not change
    title_en: Segments | None
    rows: list[Row]
    complete: bool = True  # False: rebuilt from an event's details (changed paragraphs only, no English)

    @property
    def changes(self) -> list[Row]:
        return [row for row in self.rows if row.kind != "same"]

    @property
    def translated(self) -> bool:
        """An article in another language than English whose two versions both have their English."""
        return self.lang != "en" and self.old.paragraphs_en is not None and self.new.paragraphs_en is not None

    @property
    def page_name(self) -> str:
        """The diff page's file name under ``output/diffs/``."""
        return f"{self.article_id}-v{self.new.number}.html"


def compare(article: dict, old: Version, new: Version, patterns: tuple[str, ...] = ()) -> VersionDiff:
    """``old`` against ``new`` of ``article`` (its ``id``, ``lang``, ``url``, ``section_key``)."""
    english = article.get("lang") != "en"
    rows = []
    for op in _opcodes(old.paragraphs, new.paragraphs, patterns):
        rows += _rows(op, old, new, english)
    title = word_diff(old.title, new.title) if (old.title or "") != (new.title or "") else None
    title_en = None
    if english and title is not None and old.title_en is not None and new.title_en is not None:
        title_en = word_diff(old.title_en, new.title_en)
    return VersionDiff(
        article.get("id") or "",
        article.get("lang"),
        article.get("url"),
        article.get("section_key"),
        old,
        new,
        title,
        title_en,
        rows,
    )


def _opcodes(old: list[str], new: list[str], patterns: tuple[str, ...]) -> list[dict]:
    """``paragraph_diff``'s operations with the equal runs between them, in order."""
    ops, i, j = [], 0, 0
    for op in paragraph_diff(old, new, patterns) + [
        {"op": "end", "old_index": len(old), "new_index": len(new), "old": [], "new": []}
    ]:
        same = min(op["old_index"] - i, op["new_index"] - j)
        if same > 0:
            ops.append(
                {"op": "equal", "old_index": i, "new_index": j, "old": old[i : i + same], "new": new[j : j + same]}
            )
        if op["op"] != "end":
            ops.append(op)
        i, j = op["old_index"] + len(op["old"]), op["new_index"] + len(op["new"])
    return ops


def _rows(op: dict, old: Version, new: Version, english: bool) -> list[Row]:
    rows = []
    for k in range(max(len(op["old"]), len(op["new"]))):
        i = op["old_index"] + k if k < len(op["old"]) else None
        j = op["new_index"] + k if k < len(op["new"]) else None
        kind = (
            "same"
            if op["op"] == "equal"
            else "changed"
            if i is not None and j is not None
            else "removed"
            if j is None
            else "added"
        )
        before = old.paragraphs[i] if i is not None else ""
        after = new.paragraphs[j] if j is not None else ""
        original = [(EQUAL, after)] if kind == "same" else word_diff(before, after)
        rows.append(Row(kind, i, j, original, _english(old, new, i, j, kind) if english else None))
    return rows


def _english(old: Version, new: Version, i: int | None, j: int | None, kind: str) -> Segments | None:
    old_en = old.paragraphs_en[i] if old.paragraphs_en is not None and i is not None else None
    new_en = new.paragraphs_en[j] if new.paragraphs_en is not None and j is not None else None
    if kind == "same":
        shown = new_en if new_en is not None else old_en
        return [(EQUAL, shown)] if shown is not None else None
    if (i is not None and old_en is None) or (j is not None and new_en is None):
        return None
    return word_diff(old_en or "", new_en or "")


# ---------------------------------------------------------------- reading from the state DB


def article_diff(
    conn: sqlite3.Connection, article_id: str, version: int | None = None, patterns: tuple[str, ...] = ()
) -> tuple[VersionDiff | None, list[Version]]:
    """Version ``version`` (default: the latest) against the one before it, and every version. The diff is
    None when the article has one version or ``version`` is not one of its versions after the first."""
    item = item_store.get(conn, article_id)
    versions = versions_of(conn, article_id)
    by_number = {v.number: v for v in versions}
    number = version if version is not None else (versions[-1].number if versions else 0)
    if item is None or number not in by_number or number - 1 not in by_number:
        return None, versions
    return compare(item, by_number[number - 1], by_number[number], patterns), versions


def event_diff(conn: sqlite3.Connection, event: dict, patterns: tuple[str, ...] = ()) -> VersionDiff | None:
    """The diff an ``article_edited`` event reports, from the kept versions; from the event's own details
    (its changed paragraphs, no English) when they are gone or were never kept (an older store)."""
    details = event.get("details") or {}
    version = details.get("version")
    article_id = event.get("article_id")
    if not article_id or not isinstance(version, int):
        return None
    diff, _ = article_diff(conn, article_id, version, patterns)
    return diff or from_details(event)


def from_details(event: dict) -> VersionDiff | None:
    """An ``article_edited`` event's diff as its details hold it: the changed paragraphs only."""
    details = event.get("details") or {}
    ops = details.get("paragraphs")
    if not isinstance(ops, list):
        return None
    rows = []
    for op in ops:
        if isinstance(op, dict) and {"old", "new", "old_index", "new_index"} <= op.keys():
            rows += _rows(
                op, Version(0, None, None, _padded(op, "old")), Version(0, None, None, _padded(op, "new")), False
            )
    before, after = details.get("title_before"), details.get("title_after")
    title = word_diff(before, after) if before is not None and after is not None and before != after else None
    number = details["version"] if isinstance(details.get("version"), int) else 0  # 0: not recorded
    article = {"id": event.get("article_id"), "url": details.get("url"), "section_key": event.get("section")}
    return VersionDiff(
        article["id"] or "",
        None,
        article["url"],
        article["section_key"],
        Version(number - 1, None, before, []),
        Version(number, event.get("at"), after, []),
        title,
        None,
        rows,
        complete=False,
    )


def _padded(op: dict, side: str) -> list[str]:
    """The op's paragraphs of one side at their positions (the rest of that version is not in the event)."""
    start = op[f"{side}_index"]
    return [""] * start + [str(p) for p in op[side]]


def patterns_of(config, section_key: str | None) -> tuple[str, ...]:
    """The ignore patterns of a configured section (none for a section no longer configured)."""
    if config is None or not section_key:
        return ()
    return next((tuple(s.ignore_patterns) for s in config.sections if s.key == section_key), ())
