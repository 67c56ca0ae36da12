"""Paragraph-level diff of two versions of an article, blind to volatile text (ignore patterns)."""

from __future__ import annotations

import difflib
import re

from crawler.items import normalize_text


def comparable(text: str | None, patterns: tuple[str, ...]) -> str:
    """Normalized text with every ignore pattern removed: what an edit is judged on."""
    text = text or ""
    for pattern in patterns:
        text = re.sub(pattern, "", text)
    return normalize_text(text)


def same_content(old_title, old_paras, new_title, new_paras, patterns: tuple[str, ...]) -> bool:
    return (comparable(old_title, patterns) == comparable(new_title, patterns) and
            _keys(old_paras, patterns) == _keys(new_paras, patterns))


def _keys(paragraphs: list[str], patterns: tuple[str, ...]) -> list[str]:
    return [k for k in (comparable(p, patterns) for p in paragraphs) if k]


def paragraph_diff(old: list[str], new: list[str], patterns: tuple[str, ...] = ()) -> list[dict]:
    """Operations turning ``old`` into ``new``: ``{op: replace|insert|delete, old_index, new_index, old, new}``
    (indexes are paragraph positions; ``old``/``new`` are the paragraphs' text as published)."""
    matcher = difflib.SequenceMatcher(a=[comparable(p, patterns) for p in old],
                                      b=[comparable(p, patterns) for p in new], autojunk=False)
    return [{"op": tag, "old_index": i1, "new_index": j1, "old": old[i1:i2], "new": new[j1:j2]}
            for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def summarize(ops: list[dict], title_changed: bool) -> str:
    """The diff in words: 'title changed; 1 paragraph changed, 2 added'."""
    changed = sum(max(len(o["old"]), len(o["new"])) for o in ops if o["op"] == "replace")
    added = sum(len(o["new"]) for o in ops if o["op"] == "insert")
    removed = sum(len(o["old"]) for o in ops if o["op"] == "delete")
    parts = [f"{n} paragraph{'s' if n != 1 else ''} {word}" if i == 0 else f"{n} {word}"
             for i, (n, word) in enumerate((n, w) for n, w in ((changed, "changed"), (added, "added"),
                                                                (removed, "removed")) if n)]
    words = ", ".join(parts)
    if title_changed:
        return "title changed" + (f"; {words}" if words else "")
    return words or "whitespace or markup only"
