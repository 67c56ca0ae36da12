"""Keyword in context for a watch hit: the sentence around each match, in the original and in English.

Translations are kept per paragraph beside the original (``paragraphs_en[i]`` translates ``paragraphs[i]``,
``title_en`` the title: ``crawler.translation.translator``), so the English of a match in an original
paragraph is the English paragraph of the same index, and the other way round for a match in the English.
Sentences are not aligned (a translation may merge or split them): the side without a match shows the
sentence at the same relative place in its paragraph. Pure functions, no I/O.

A context (stored with the hit: the item's ``watch`` field and ``watch_hits.contexts``)::

    {"in": "title" | "text", "paragraph": 3,        # 0-based paragraph of the text; null for the title
     "original": {"text": "…sentence…", "marks": [[start, end], …]},
     "english": {"text": "…", "marks": […]} | null}  # null: an English item, or no translation

``marks`` are character offsets of the matches in that ``text``; ``highlight`` renders them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from crawler.phrases import Phrase, fold, parse

MAX_CONTEXTS = 3  # per hit: the first paragraphs (title first) where a phrase occurs
MAX_CHARS = 320  # a longer sentence is cut around its first match
# The end of a sentence: Western punctuation before a space, or Chinese/Japanese punctuation (no space after).
_SENTENCE_END = re.compile(r"[.!?…]+[\"'»”)\]]*\s+|[。！？；]+[”」』）]*\s*")


class Aligned:
    """An item's title and paragraphs beside their English (``aligned``), each text folded and lower-cased
    once however many hits of the item ask for their contexts."""

    def __init__(self, item: dict):
        self.rows = aligned(item)
        self._views: dict[tuple[str, bool], tuple[str, str]] = {}

    def marks(self, text: str | None, phrases: list[Phrase]) -> list[list[int]]:
        """``marks_of`` with the text's folded and lower-cased forms kept for the next phrase or hit."""
        if not text:
            return []
        spans = []
        for phrase in phrases:
            key = (text, phrase.folds)
            if key not in self._views:
                folded = fold(text) if phrase.folds else text
                self._views[key] = (folded, folded.lower())
            spans += [(m.start(), m.end()) for m in phrase.finditer_folded(*self._views[key]) if m.end() > m.start()]
        return _merged(spans)


def contexts_of(item: dict, phrases: Iterable[str], paragraphs: Aligned | None = None) -> list[dict]:
    """The contexts of ``phrases`` in ``item``: one per paragraph (or title) where any occurs, at most
    ``MAX_CONTEXTS``, in reading order. ``paragraphs``: the item's ``Aligned``, when several hits share it."""
    parsed = [parse(p) for p in phrases]
    paragraphs = paragraphs or Aligned(item)
    out = []
    for where, index, original, english in paragraphs.rows:
        original_marks = paragraphs.marks(original, parsed)
        english_marks = paragraphs.marks(english, parsed) if english else []
        if not original_marks and not english_marks:
            continue
        at_original = _fraction(original, original_marks)
        at_english = _fraction(english, english_marks) if english else None
        out.append(
            {
                "in": where,
                "paragraph": index,
                "original": side(original, original_marks, at_english),
                "english": side(english, english_marks, at_original) if english else None,
            }
        )
        if len(out) >= MAX_CONTEXTS:
            break
    return out


def aligned(item: dict) -> list[tuple[str, int | None, str, str | None]]:
    """``(where, paragraph index, original, English)``: the title, then each paragraph; English is None
    for an English item and where no translation is kept."""
    originals = item.get("paragraphs") or [p for p in (item.get("text") or "").split("\n\n") if p]
    english: list[str] = []
    english_title = None
    if (item.get("lang") or "") != "en":
        english = item.get("paragraphs_en") or [p for p in (item.get("text_en") or "").split("\n\n") if p]
        english_title = item.get("title_en") or None
    rows: list[tuple[str, int | None, str, str | None]] = []
    if item.get("title"):
        rows.append(("title", None, item["title"], english_title))
    for i, paragraph in enumerate(originals):
        rows.append(("text", i, paragraph, english[i] if i < len(english) and english[i] else None))
    return rows


def marks_of(text: str | None, phrases: list[Phrase]) -> list[list[int]]:
    """``[start, end]`` of every match of any phrase in ``text``, in order, overlaps merged."""
    return _merged([(m.start(), m.end()) for p in phrases for m in p.finditer(text or "") if m.end() > m.start()])


def _merged(spans: list[tuple[int, int]]) -> list[list[int]]:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``text`` (the text between sentence ends, spaces trimmed)."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        spans.append((start, m.end()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return [
        (s + len(text[s:e]) - len(text[s:e].lstrip()), e - len(text[s:e]) + len(text[s:e].rstrip()))
        for s, e in spans
        if text[s:e].strip()
    ]


def side(text: str, marks: list[list[int]], anchor: float | None) -> dict:
    """The sentence(s) of ``text`` holding its first match, its marks shifted into them; without a match,
    the sentence at ``anchor`` (a fraction of the paragraph: where the other language's match is)."""
    spans = sentences(text) or [(0, len(text))]
    if marks:
        first, last = marks[0]
        chosen = [s for s in spans if s[1] > first and s[0] < last] or spans[:1]
    else:
        at = int((anchor or 0.0) * len(text))
        chosen = [next((s for s in spans if s[1] > at), spans[-1])]
    start, end = chosen[0][0], chosen[-1][1]
    inside = [[a - start, b - start] for a, b in marks if a >= start and b <= end]
    return _cut(text[start:end], inside)


def _cut(text: str, marks: list[list[int]]) -> dict:
    """At most ``MAX_CHARS`` of ``text`` around its first mark, "…" where cut."""
    if len(text) <= MAX_CHARS:
        return {"text": text, "marks": marks}
    focus = marks[0][0] if marks else 0
    start = max(0, min(focus - MAX_CHARS // 3, len(text) - MAX_CHARS))
    end = start + MAX_CHARS
    lead = "…" if start > 0 else ""
    shift = len(lead) - start
    kept = [[a + shift, b + shift] for a, b in marks if a >= start and b <= end]
    return {"text": lead + text[start:end] + ("…" if end < len(text) else ""), "marks": kept}


def _fraction(text: str | None, marks: list[list[int]]) -> float | None:
    return marks[0][0] / len(text) if text and marks else None


def highlight(snippet: dict | None, mark: Callable[[str], str], plain: Callable[[str], str] = str) -> str:
    """A snippet's text with each match passed through ``mark`` and the rest through ``plain`` (an HTML
    escape, or nothing): ``highlight(s, lambda w: f"**{w}**")``."""
    if not snippet:
        return ""
    text, out, at = snippet.get("text") or "", [], 0
    for start, end in snippet.get("marks") or []:
        if start < at or end > len(text):  # a damaged or hand-edited row: show the rest unmarked
            continue
        out += [plain(text[at:start]), mark(text[start:end])]
        at = end
    out.append(plain(text[at:]))
    return "".join(out)
