"""Paragraph-level diff of two versions of an article, blind to volatile text (ignore patterns)."""

from __future__ import annotations

import difflib
import re
from collections import Counter

from crawler.items import normalize_text


def comparable(text: str | None, patterns: tuple[str, ...]) -> str:
    """Normalized text with every ignore pattern removed: what an edit is judged on."""
    text = text or ""
    for pattern in patterns:
        text = re.sub(pattern, "", text)
    return normalize_text(text)


def same_content(old_title, old_paras, new_title, new_paras, patterns: tuple[str, ...]) -> bool:
    return comparable(old_title, patterns) == comparable(new_title, patterns) and _keys(old_paras, patterns) == _keys(
        new_paras, patterns
    )


def _keys(paragraphs: list[str], patterns: tuple[str, ...]) -> list[str]:
    return [k for k in (comparable(p, patterns) for p in paragraphs) if k]


def paragraph_diff(old: list[str], new: list[str], patterns: tuple[str, ...] = ()) -> list[dict]:
    """Operations turning ``old`` into ``new``: ``{op: replace|insert|delete, old_index, new_index, old, new}``
    (indexes are paragraph positions; ``old``/``new`` are the paragraphs' text as published)."""
    matcher = difflib.SequenceMatcher(
        a=[comparable(p, patterns) for p in old], b=[comparable(p, patterns) for p in new], autojunk=False
    )
    return [
        {"op": tag, "old_index": i1, "new_index": j1, "old": old[i1:i2], "new": new[j1:j2]}
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def summarize(ops: list[dict], title_changed: bool) -> str:
    """The diff in words: 'title changed; 1 paragraph changed, 2 added'."""
    changed = sum(max(len(o["old"]), len(o["new"])) for o in ops if o["op"] == "replace")
    added = sum(len(o["new"]) for o in ops if o["op"] == "insert")
    removed = sum(len(o["old"]) for o in ops if o["op"] == "delete")
    parts = [
        f"{n} paragraph{'s' if n != 1 else ''} {word}" if i == 0 else f"{n} {word}"
        for i, (n, word) in enumerate(
            (n, w) for n, w in ((changed, "changed"), (added, "added"), (removed, "removed")) if n
        )
    ]
    words = ", ".join(parts)
    if title_changed:
        return "title changed" + (f"; {words}" if words else "")
    return words or "whitespace or markup only"


# ---------------------------------------------------------------- word level: what an edit changed inside a paragraph

# A word is a run of letters and digits; a Han, kana or hangul character is a word of its own (Chinese has no
# spaces, so a changed character must not mark the whole sentence); spaces and each punctuation mark are tokens.
_CJK = "\u2e80-\u2fff\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+|\s+|[^\w\s]")

EQUAL, REMOVED, ADDED = "=", "-", "+"


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text or "")


def word_diff(old: str | None, new: str | None) -> list[tuple[str, str]]:
    """``old`` turned into ``new`` as segments ``(mark, text)``: ``=`` kept, ``-`` removed, ``+`` added; a
    changed run of words is its removed text, then its added text. Joining the ``=`` and ``-`` texts gives
    ``old`` back, the ``=`` and ``+`` texts ``new``."""
    a, b = tokens(old or ""), tokens(new or "")
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    out: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            _push(out, EQUAL, "".join(a[i1:i2]))
            continue
        _push(out, REMOVED, "".join(a[i1:i2]))
        _push(out, ADDED, "".join(b[j1:j2]))
    return out


def _push(out: list[tuple[str, str]], mark: str, text: str) -> None:
    if not text:
        return
    if out and out[-1][0] == mark:
        out[-1] = (mark, out[-1][1] + text)
    else:
        out.append((mark, text))


def marked(segments: list[tuple[str, str]]) -> str:
    """Segments as one line of text, changes marked as ``git diff --word-diff`` does: ``[-old-]{+new+}``."""
    return "".join(
        text if mark == EQUAL else f"[-{text}-]" if mark == REMOVED else f"{{+{text}+}}" for mark, text in segments
    )


def trimmed(segments: list[tuple[str, str]], context: int) -> list[tuple[str, str]]:
    """Kept text cut down around the changes: before the first change its last ``context`` characters, after
    the last its first ones, between two changes both ends ("…" for what is left out)."""
    last = len(segments) - 1
    return [
        (mark, _cut(text, context, n == 0, n == last) if mark == EQUAL else text)
        for n, (mark, text) in enumerate(segments)
    ]


def _cut(text: str, context: int, first: bool, last: bool) -> str:
    if len(text) <= (context if first or last else 2 * context) + 1:
        return text
    if first and last:
        return _head(text, 2 * context) + "…"
    if first:
        return "…" + _tail(text, context)
    if last:
        return _head(text, context) + "…"
    return _head(text, context) + "…" + _tail(text, context)


def _head(text: str, size: int) -> str:
    """About ``size`` first characters, cut after a whole word (CJK text: at ``size``)."""
    head = text[:size]
    if text[size : size + 1].isspace() or " " not in head:
        return head
    return head[: head.rindex(" ") + 1]


def _tail(text: str, size: int) -> str:
    tail = text[-size:]
    if text[-size - 1 : -size].isspace() or " " not in tail:
        return tail
    return tail[tail.index(" ") :]


def changed_chars(old: str | None, new: str | None) -> int:
    """How many characters an edit changed, spaces not counted: each changed run of words is compared letter
    by letter (``5 → 7`` is 1, a comma 1, ``10:15 → 10:42`` 2, a new sentence its length)."""
    count, removed = 0, ""
    for mark, text in word_diff(old, new) + [(EQUAL, "")]:
        if mark == REMOVED:
            removed = text
        elif mark == ADDED:
            count += _letters_changed(removed, text)
            removed = ""
        else:
            count += len("".join(removed.split()))
            removed = ""
    return count


def _letters_changed(old: str, new: str) -> int:
    a, b = "".join(old.split()), "".join(new.split())
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal")


def edit_size(
    old_title: str | None,
    old_paras: list[str],
    new_title: str | None,
    new_paras: list[str],
    patterns: tuple[str, ...] = (),
) -> int:
    """Characters an edit changed in the title and the text, as the edit is judged (ignore patterns applied,
    spaces not counted): what ``[lifecycle] min_edit_chars`` is compared with."""
    size = changed_chars(comparable(old_title, patterns), comparable(new_title, patterns))
    for op in paragraph_diff(old_paras, new_paras, patterns):
        old = [comparable(p, patterns) for p in op["old"]]
        new = [comparable(p, patterns) for p in op["new"]]
        paired = min(len(old), len(new))
        size += sum(changed_chars(a, b) for a, b in zip(old[:paired], new[:paired]))
        size += sum(len("".join(p.split())) for p in old[paired:] + new[paired:])
    return size


# A time of day (10:15, 09:30:05) is what an "updated at" line changes; any other number (a figure, a date, a
# count) changing is news, however few characters it takes.
_TIME_OF_DAY = re.compile(r"(?<![\d:])\d{1,2}:\d{2}(?::\d{2})?(?![\d:])")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def numbers_of(text: str) -> Counter:
    return Counter(_NUMBER.findall(_TIME_OF_DAY.sub(" ", text)))


def numbers_changed(
    old_title: str | None,
    old_paras: list[str],
    new_title: str | None,
    new_paras: list[str],
    patterns: tuple[str, ...] = (),
) -> bool:
    """Did the edit change a number other than a time of day (ignore patterns applied)? Such an edit is
    reported even under ``min_edit_chars``: ``5 → 7 killed`` and ``6月16日 → 6月15日`` are one character."""

    def numbers(title, paras):
        return numbers_of(" ".join([comparable(title, patterns), *(comparable(p, patterns) for p in paras)]))

    return numbers(old_title, old_paras) != numbers(new_title, new_paras)
