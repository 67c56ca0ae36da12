"""kremlin.ru / en.kremlin.ru article pages (news and transcripts).

Generic extraction misses the lead, takes an announcement's event date for its publication date and
flattens transcripts; this parser keeps the lead as the first paragraph, reads the date (and time,
Moscow) from the page's own meta block and splits transcripts into speaker turns, each named
(``crawler.extract.speakers``: ``speaker`` the one name, ``speaker_label`` as printed). Pull quotes
(``<blockquote>``) repeat words said on the page: they go to ``extras["pull_quotes"]``, not into the text.
"""

from __future__ import annotations

import re

from crawler.extract.extracted import Extracted
from crawler.extract.parsers import register
from crawler.extract.parsers.base import SiteParser, drop, first, local_datetime, meta_content, select, text_of
from crawler.extract.speakers import name_turns
from crawler.extract.textutil import block_paragraphs, clean_text, element_text

TIME_RE = re.compile(r"\b(\d{1,2}:\d{2})\b")
# After a bold name: an optional stage note in parentheses, then the colon ("<b>Putin</b> (<i>…</i>):").
NOTE_THEN_COLON = re.compile(r"^\s*(\([^)]*\))?\s*:")
MAX_SPEAKER_CHARS = 120  # a longer bold run is a heading, not a name
# Inside the body but not text: hidden person tooltips, photo sliders, embedded video/audio players.
NOT_TEXT = (
    "span.read__tooltip",
    ".hidden",
    ".slider",
    ".masha-ignore",
    ".read__bottommeta",
    "script",
    "style",
    "figure",
    "video",
    "audio",
    "noscript",
)


@register
class KremlinParser(SiteParser):
    name = "kremlin"
    VERSION = 2
    hosts = ("kremlin.ru",)
    signature = "article.read__in div.read__internal_content"

    def parse(self, tree, url: str):
        body = first(tree, "div.read__internal_content")
        if body is None:
            return None
        published = published_at(tree)  # before the drop: the fallback date sits in a dropped block
        drop(body, *NOT_TEXT)
        pull_quotes = [q for q in ("\n\n".join(block_paragraphs(b)) for b in select(body, "blockquote")) if q]
        drop(body, "blockquote")
        lead = block_paragraphs(first(tree, "div.read__lead")) if first(tree, "div.read__lead") is not None else []
        body_paragraphs = block_paragraphs(body)
        extras = {"parser": self.name}
        if lead:
            extras["lead"] = "\n\n".join(lead)
        place = text_of(tree, "div.read__place")
        if place:
            extras["place"] = place
        tags = [t.strip() for t in meta_content(tree, "keywords").split(",") if t.strip()]
        if tags:
            extras["tags"] = tags
        turns = speaker_turns(body)
        if turns:
            extras["turns"] = name_turns(turns)
        if pull_quotes:
            extras["pull_quotes"] = pull_quotes
        return Extracted(
            title=text_of(tree, "h1.entry-title") or None,
            paragraphs=lead + body_paragraphs,
            published_at=published,
            authors=[],
            extras=extras,
        )


def published_at(tree) -> str | None:
    """``time.read__published`` (+ ``.read__time``); announcements only have the bottom meta time."""
    published = first(tree, "time.read__published[datetime]")
    if published is not None:
        return local_datetime(published.get("datetime")[:10], _hhmm(text_of(tree, ".read__time")), "Europe/Moscow")
    bottom = first(tree, ".read__bottommeta time[datetime]")
    if bottom is not None:
        return local_datetime(bottom.get("datetime")[:10], _hhmm(element_text(bottom)), "Europe/Moscow")
    return None


def _hhmm(text: str) -> str | None:
    match = TIME_RE.search(text or "")
    return match.group(1).zfill(5) if match else None


def speaker_turns(body) -> list[dict]:
    """[{speaker (the label as printed), text}] from ``<p><b>Name:</b> …`` paragraphs; unlabelled ones continue
    the turn."""
    turns: list[dict] = []
    for p in body.iter("p"):
        text = element_text(p)
        if not text or text.strip("* ") == "":
            continue
        label = speaker_label(p)
        if label is not None:
            speaker, rest = label
            turns.append({"speaker": speaker, "text": rest})
        elif turns:
            turns[-1]["text"] = f"{turns[-1]['text']}\n\n{text}".strip()
    return turns


def speaker_label(p) -> tuple[str, str] | None:
    """(speaker, remaining text) when the paragraph opens with a bold speaker label, else None.

    The label may be split over several bold runs ("<b>Security Council Secretary</b> <b>NIKOLAI
    PATRUSHEV:</b>"), with the colon inside or after the last run, after an optional stage note.
    """
    if (p.text or "").strip():
        return None
    bolds = _leading_bold_run(p)
    if not bolds:
        return None
    label = clean_text(" ".join(element_text(b) for b in bolds))
    after = clean_text(_text_after(p, bolds[-1]))
    if label.endswith(":"):
        speaker, rest = label[:-1].strip(), after
    else:
        match = NOTE_THEN_COLON.match(after)
        if not match:
            return None  # bold without a colon: a heading or emphasis, not a speaker
        speaker, rest = label, after[match.end() :].strip()
    if not speaker or len(speaker) > MAX_SPEAKER_CHARS:
        return None
    return speaker, rest


def _leading_bold_run(p) -> list:
    """The bold elements that open the paragraph, separated by nothing but whitespace."""
    run = []
    for child in p:
        if child.tag not in ("b", "strong"):
            break
        run.append(child)
        if element_text(child).endswith(":") or (child.tail or "").strip():
            break
    return run


def _text_after(p, bold) -> str:
    parts = [bold.tail or ""]
    for sibling in bold.itersiblings():
        parts.append("".join(sibling.itertext()))
        parts.append(sibling.tail or "")
    return "".join(parts)
