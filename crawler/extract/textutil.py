"""Small text helpers shared by the generic extractor and the site parsers."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

_SPACES = re.compile(r"[\s\u00a0\u3000]+")
# Invisible format characters: soft hyphen, zero-width space, non-joiner and joiner, word joiner, zero-width
# no-break space (a BOM inside the text). A reader sees no character there, but they sit inside words, so a
# search for the word misses the text: removed, not turned into spaces (a space would split the word).
_INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")
# A publication date this far ahead of "now" is a parsing accident (or an event date), not a date.
FUTURE_SLACK = timedelta(days=1)


def clean_text(text: str | None) -> str:
    """Collapse whitespace, including &nbsp; and the ideographic space Chinese pages indent with, and drop
    invisible format characters (``without_invisible``)."""
    return _SPACES.sub(" ", without_invisible(text or "")).strip()


def without_invisible(value):
    """``value`` (a string, or lists and dicts of them) without soft hyphens and zero-width characters."""
    if isinstance(value, str):
        return _INVISIBLE.sub("", value)
    if isinstance(value, list):
        return [without_invisible(v) for v in value]
    if isinstance(value, dict):
        return {k: without_invisible(v) for k, v in value.items()}
    return value


# Elements that start a new paragraph, in HTML and in trafilatura's output tree (head, quote, item…).
BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "main",
        "header",
        "footer",
        "aside",
        "blockquote",
        "pre",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "dl",
        "dt",
        "dd",
        "table",
        "tbody",
        "thead",
        "tr",
        "td",
        "th",
        "figure",
        "figcaption",
        "center",
        "form",
        "head",
        "quote",
        "list",
        "item",
        "row",
        "cell",
        "code",
        "graphic",
    }
)
LINE_BREAKS = frozenset({"br", "lb", "hr"})
NOT_TEXT_TAGS = frozenset({"script", "style", "noscript", "template", "iframe", "select", "button"})
SEPARATOR = re.compile(r"^[\s*•·\-–—=_]+$")


def element_text(el) -> str:
    """The element's text as one line (a <br> is a space here; use ``block_paragraphs`` to split)."""
    if el is None:
        return ""
    return clean_text(" ".join(block_paragraphs(el, keep_separators=True)))


def block_paragraphs(root, keep_separators: bool = False) -> list[str]:
    """One string per paragraph: text runs between block boundaries and line breaks, in order.

    Handles nesting the way a browser lays it out: a <td> holding <p>s gives one paragraph per
    <p>, a <div> with loose text and a <p> gives two. Separators such as ``* * *`` are dropped.
    """
    out: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        text = clean_text("".join(buf))
        buf.clear()
        if text and (keep_separators or not SEPARATOR.match(text)):
            out.append(text)

    def walk(el) -> None:
        buf.append(el.text or "")
        for child in el:
            tag = child.tag if isinstance(child.tag, str) else None
            if tag is None or tag in NOT_TEXT_TAGS:  # comments, scripts: no reader sees them
                pass
            elif tag in LINE_BREAKS:
                flush()
            elif tag in BLOCK_TAGS:
                flush()
                walk(child)
                flush()
            else:
                walk(child)
            buf.append(child.tail or "")

    walk(root)
    flush()
    return out


def split_authors(value: str | None) -> list[str]:
    if not value:
        return []
    return [a for a in (clean_text(x) for x in re.split(r"[;；、]|\band\b", value)) if a]


def iso_date_or_none(value: str | None, now: datetime | None = None) -> str | None:
    """Normalise a date/datetime string to ISO-8601; None if unparseable or in the future."""
    if not value:
        return None
    parsed = _parse_iso(value.strip())
    if parsed is None:
        return None
    now = now or datetime.now(UTC)
    if isinstance(parsed, datetime):
        moment = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        if moment > now + FUTURE_SLACK:
            return None
        return parsed.isoformat()
    if parsed > (now + FUTURE_SLACK).date():
        return None
    return parsed.isoformat()


def _parse_iso(value: str) -> date | datetime | None:
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
