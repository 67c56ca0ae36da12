"""A draft of the week's brief: Markdown in the newsletter's shape, for an editor to cut and comment.

Five parts, each entry with its source link and dates:
1. sections that came back or went off their subject (their events, with the window's items; an item of a
   section with a ``subject`` that mentions none of it is marked);
2. each watch's hits, with the sentence quoted in English and in the original (the hit's stored
   keyword-in-context when it has one, else the sentence around the first match, found here);
3. transcript quotes by speaker: each turn that a watch phrase occurs in (``crawler.extract.quotes``, as
   ``newsmon quotes`` finds them; only the watch's ``speakers`` when it names some), with the question it
   answers (the nearest earlier turn by another speaker), in the original and in English;
4. held datelines (items flagged ``dateline_lag``);
5. stories carried by several outlets (``story`` with two sources or more).
The window is the items' publication day (else crawl day) and the events' day, ``since``…``until``
inclusive. Reads ``items`` and ``events``; writes nothing.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field

from crawler.analysis.flags import DATELINE_LAG, OFF_SUBJECT, dateline_words, held_words
from crawler.analysis.trend import ITEM_DATE
from crawler.extract.quotes import Quote, quotes_in
from crawler.extract.speakers import Turn
from crawler.items import english_title, section_key
from crawler.phrases import Phrase, parse
from crawler.store.items import loads
from crawler.watch.settings import watches_of as configured_watches
from crawler.wording import plural

SECTION_EVENTS = ("section_reappeared", "section_off_subject")
EVENT_WORDS = {"section_reappeared": "back", "section_off_subject": "off its subject"}
QUOTE_CHARS = 400
_SENTENCE = re.compile(r"[^.!?。！？]*[.!?。！？]+[\"'»”)]*|[^.!?。！？]+$")


@dataclass(frozen=True)
class WatchSpec:
    """What the brief needs of a ``[[watch]]``: its name, phrases and the speakers it is limited to."""

    name: str
    phrases: tuple[str, ...]
    speakers: tuple[str, ...] = ()


@dataclass
class Window:
    since: str
    until: str
    items: list[dict] = field(default_factory=list)  # the window's items, oldest first (``_date`` set)
    events: list[dict] = field(default_factory=list)  # the window's section events, oldest first


def load_window(conn: sqlite3.Connection, since: str, until: str) -> Window:
    window = Window(since, until)
    rows = conn.execute(
        f"SELECT {ITEM_DATE} AS date, day, json FROM items WHERE {ITEM_DATE} BETWEEN ? AND ? ORDER BY date, seq",
        (since, until),
    )
    for row in rows:
        item = loads(row["json"])
        if item is not None:
            window.items.append({**item, "_date": row["date"], "_day": row["day"]})
    marks = ",".join("?" * len(SECTION_EVENTS))
    events = conn.execute(
        f"SELECT type, at, section, cause FROM events WHERE type IN ({marks}) "
        f"AND substr(at, 1, 10) BETWEEN ? AND ? ORDER BY seq",
        (*SECTION_EVENTS, since, until),
    )
    window.events = [dict(e) for e in events]
    return window


def render(window: Window, watches: list[WatchSpec], names: dict[str, str], generated_at: str) -> str:
    sources = {item.get("source") for item in window.items}
    parts = [
        f"# Brief draft, {window.since} – {window.until}",
        "",
        f"_newsmon draft from {plural(len(window.items), 'item')} of {plural(len(sources), 'outlet')}, "
        f"generated {generated_at}: "
        f"cut and comment._",
        "",
    ]
    for title, lines in (
        ("Sections back or off their subject", sections_part(window, names)),
        ("Watches", watches_part(window, watches)),
        ("Transcript quotes", quotes_part(window, watches)),
        ("Held datelines", held_part(window)),
        ("Carried by several outlets", stories_part(window)),
    ):
        parts += [f"## {title}", "", *(lines or ["_Nothing in this window._"]), ""]
    return "\n".join(parts).rstrip("\n") + "\n"


# ---------------------------------------------------------------- the parts
def sections_part(window: Window, names: dict[str, str]) -> list[str]:
    keys = list(
        dict.fromkeys(
            [e["section"] for e in window.events]
            + [section_key(i) for i in window.items if OFF_SUBJECT in (i.get("flags") or [])]
        )
    )
    out = []
    for key in keys:
        out += [f"### {md(key)}{' — ' + md(names[key]) if names.get(key) else ''}", ""]
        out += [
            f"- {EVENT_WORDS[e['type']]} on {e['at'][:10]}: {md(e['cause'])}"
            for e in window.events
            if e["section"] == key
        ]
        for item in (i for i in window.items if section_key(i) == key):
            off = " · **no mention of the section's subject**" if OFF_SUBJECT in (item.get("flags") or []) else ""
            out.append(f"- {entry(item)}{off}")
        out.append("")
    return out[:-1] if out else out


def watches_part(window: Window, watches: list[WatchSpec]) -> list[str]:
    out = []
    for watch in watches:
        hits = [
            (item, hit)
            for item in window.items
            for hit in item.get("watch") or []
            if isinstance(hit, dict) and hit.get("name") == watch.name
        ]
        if not hits:
            continue
        out += [f"### {md(watch.name)} ({plural(len(hits), 'item')})", ""]
        for item, hit in hits:
            out.append(f"- {entry(item)}")
            out += [f"  > {line}" for line in quoted_sentences(item, hit, watch)]
        out.append("")
    return out[:-1] if out else out


def quoted_sentences(item: dict, hit: dict, watch: WatchSpec) -> list[str]:
    """English, then the original: from the hit's stored context, else found here."""
    stored = [c for c in hit.get("contexts") or [] if isinstance(c, dict)]
    if stored:
        first = stored[0]
        english = (first.get("english") or {}).get("text")
        original = (first.get("original") or {}).get("text")
    else:
        original, english = sentence_pair(item, [parse(p) for p in hit.get("phrases") or watch.phrases])
    if item.get("lang") == "en":
        return [md(original)] if original else []
    return [f"EN: {md(english)}" if english else "EN: (not translated)"] + ([md(original)] if original else [])


def sentence_pair(item: dict, phrases: list[Phrase]) -> tuple[str | None, str | None]:
    """(original, English) sentence around the first match: the matching paragraph's sentence, and the
    sentence at the same place of the other language's paragraph of the same index."""
    originals = item.get("paragraphs") or [item.get("text") or ""]
    english = item.get("paragraphs_en") or []
    for i, paragraph in enumerate(originals):
        other = english[i] if i < len(english) else None
        if (at := first_match(paragraph, phrases)) is not None:
            return sentence_at(paragraph, at), sentence_at(other, at / max(len(paragraph), 1) * len(other or ""))
        if other and (at := first_match(other, phrases)) is not None:
            return sentence_at(paragraph, at / max(len(other), 1) * len(paragraph)), sentence_at(other, at)
    title = item.get("title") or ""
    return (title or None), item.get("title_en")


def first_match(text: str | None, phrases: list[Phrase]) -> int | None:
    starts = [m.start() for p in phrases if text and (m := p.search(text)) is not None]
    return min(starts) if starts else None


def sentence_at(text: str | None, at: float) -> str | None:
    """The sentence of ``text`` holding character ``at``, cut to ``QUOTE_CHARS``."""
    if not text:
        return None
    for m in _SENTENCE.finditer(text):
        if m.end() > at and m.group(0).strip():
            return cut(m.group(0).strip())
    return cut(text.strip())


def quotes_part(window: Window, watches: list[WatchSpec]) -> list[str]:
    """Each turn a watch's phrases occur in (``crawler.extract.quotes``; within the watch's speakers when it
    names some), under its speaker, after the question it answers."""
    by_speaker: dict[str, list[str]] = {}
    seen: set[tuple[str, int]] = set()
    for item in window.items:
        if not (item.get("extras") or {}).get("turns"):
            continue
        for watch in watches:
            for quote in quotes_in(item, list(watch.phrases), list(watch.speakers)):
                if (item["id"], quote.turn.index) in seen:
                    continue
                seen.add((item["id"], quote.turn.index))
                by_speaker.setdefault(quote.turn.speaker, []).extend(quote_lines(item, quote))
    out = []
    for speaker, lines in by_speaker.items():
        out += [f"### {md(speaker)}", "", *lines, ""]
    return out[:-1] if out else out


def quote_lines(item: dict, quote: Quote) -> list[str]:
    lines = [f"- {entry(item)}"]
    if quote.question is not None:
        lines += said(item, f"asked by {md(quote.question.speaker)}", quote.question)
    return lines + said(item, md(quote.turn.speaker), quote.turn)


def said(item: dict, who: str, turn: Turn) -> list[str]:
    """'  - Vladimir Putin: “…”', its English beneath for a Chinese or Russian transcript."""
    lines = [f"  - {who}: “{md(cut(turn.text))}”"]
    if item.get("lang") != "en":
        lines.append(f"    EN: “{md(cut(turn.text_en))}”" if turn.text_en else "    EN: (not translated)")
    return lines


def held_part(window: Window) -> list[str]:
    return [
        f"- {entry(item)} · {held_words(item).lower()}: {md(dateline_words(item))}"
        for item in window.items
        if DATELINE_LAG in (item.get("flags") or [])
    ]


def stories_part(window: Window) -> list[str]:
    stories: dict[str, list[dict]] = {}
    for item in window.items:
        story = item.get("story")
        if isinstance(story, dict) and len(story.get("sources") or []) > 1:
            stories.setdefault(story["id"], []).append(item)
    out = []
    for members in stories.values():
        sources = list(dict.fromkeys(str(m.get("source")) for m in members))
        out += [
            f"### {md(english_title(members[0]) or members[0].get('title'))} "
            f"({len(sources)} outlets: {', '.join(sources)})",
            "",
        ]
        out += [f"- {entry(m)}" for m in members] + [""]
    return out[:-1] if out else out


# ---------------------------------------------------------------- one line of an item
def entry(item: dict) -> str:
    """'[English title](url) (original title) — source/section, published 2025-09-08, crawled 2025-09-11'."""
    english, original = english_title(item), item.get("title")
    shown = english or original or "(untitled)"
    link = f"[{md(shown)}]({item['url']})" if item.get("url") else md(shown)
    also = f" ({md(original)})" if original and english and original != english else ""
    published = (item.get("published_at") or "")[:10]
    crawled = item.get("_day") or (item.get("fetched_at") or "")[:10]
    dates = (f"published {published}, " if published else "") + f"crawled {crawled}"
    return f"{link}{also} — {section_key(item)}, {dates}"


def cut(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"


def md(text: object) -> str:
    """Crawled text made inert in Markdown: emphasis, links and HTML characters escaped, one line."""
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", " ".join(str(text or "").split()))


def watches_of(config) -> list[WatchSpec]:
    return [WatchSpec(w.name, tuple(w.phrases), tuple(w.speakers)) for w in configured_watches(config)]


def names_of(config) -> dict[str, str]:
    """Section key → "Source › Section" for the configured sections."""
    out = {}
    for source in config.sources:
        for sec in source.sections:
            out[sec.key] = f"{source.name} › {sec.name}"
    return out
