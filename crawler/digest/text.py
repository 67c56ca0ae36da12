"""``digest.txt``: one day, made for grep.

Layout (every crawled string is put on one line: newlines and tabs become spaces)::

    # newsmon digest 2026-11-29: 12 items, 2 alerts, 1 watch hit, 1 section in trouble
    == WATCHED (1) ==            (only when a [[watch]] matched an item of the day)
    WATCH watch:Xi | people/politics | "习近平" in title, text | EN: … | #3f2a1b2c
        #3f2a1b2c ¶2 ZH  **习近平**主席会见了…      (the sentence around each match, the match between **)
        #3f2a1b2c ¶2 EN  President **Xi Jinping** met …
    == ALERTS (2) ==
    ALERT 2026-11-29 02:14 UTC | section_broken | mid/news | the link rule finds nothing (was 20) | http://…
    ALERT 2026-11-29 02:14 UTC | article_edited | mid/news | 1 paragraph changed | http://…
        EDIT #5e1c0a9d ¶2    RU  … переговоры [-в среду-]{+в четверг+} …   (each changed paragraph, trimmed)
        EDIT #5e1c0a9d ¶2    EN  … talks on [-Wednesday-]{+Thursday+} …
        EDIT #5e1c0a9d whole diff: ../diffs/5e1c0a9d….html or newsmon diff 5e1c0a9d --version 2
    == SECTIONS (6) ==
    FAILED      | mid/news | HTTP 503 (http://…)
    OK          | kremlin-en/news | 20 links, 3 new
    == ITEMS (12) ==
    ### kremlin-en/news — Kremlin (English) › News (3) ###
    2026-11-29 | kremlin-en | news | en | EN: Meeting with … | ORIG: (same) | http://… | #3f2a1b2c | EDITED
        #3f2a1b2c EN  first paragraph in English
        #3f2a1b2c ZH  the original paragraph beneath it (for Chinese and Russian items)

A grep for a phrase of a title lands on the item's header line; a grep for a phrase of its first
paragraphs lands on a paragraph line, whose ``#id`` finds the header (``grep 3f2a1b2c digest.txt``).
"""

from __future__ import annotations

import re

from crawler.digest.data import TROUBLE, DayData, alert_extra, grouped, item_date, paragraph_pairs
from crawler.items import english_title, section_key
from crawler.lifecycle import diffview
from crawler.phrases import in_words
from crawler.watch.context import highlight
from crawler.wording import plural

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")


def one_line(text: str | None) -> str:
    return _CONTROL.sub(" ", text or "").strip()


def field(text: str | None) -> str:
    """A header field: one line, and no ' | ' that would shift the columns."""
    return one_line(text).replace("|", "¦")


def render(data: DayData, paragraphs: int, generated_at: str) -> str:
    lines = [headline(data), f"# generated {generated_at}; runs: {_runs(data)}", ""]
    lines += watched_lines(data) + [""] if data.watched else []
    lines += alert_lines(data) + [""]
    lines += section_lines(data) + [""]
    lines += item_lines(data, paragraphs)
    return "\n".join(lines).rstrip("\n") + "\n"


def headline(data: DayData) -> str:
    trouble = data.trouble
    words = f"{plural(len(data.items), 'item')}, {plural(len(data.alerts), 'alert')}"
    if data.watched:
        words += f", {plural(len(data.watched), 'watch hit')}"
    if trouble:
        words += f", {plural(len(trouble), 'section')} in trouble: " + ", ".join(f"{s.state} {s.key}" for s in trouble)
    if data.problems:
        words += f", {plural(len(data.problems), 'stored record')} unreadable"
    return f"# newsmon digest {data.day}: {words}"


def _runs(data: DayData) -> str:
    if not data.runs:
        return "none recorded"
    return ", ".join(
        f"#{r['id']} {r['started_at']}" + (f" {r['status']}" if r.get("status") not in (None, "running") else "")
        for r in data.runs
    )


def alert_lines(data: DayData) -> list[str]:
    out = [f"== ALERTS ({len(data.alerts)}) =="]
    if not data.alerts:
        out.append("(no alerts)")
    for event in data.alerts:
        details = event.get("details") or {}
        url = details.get("url") or details.get("article_url") or ""
        at = (event.get("at") or "")[:16].replace("T", " ")
        out.append(
            " | ".join(
                x
                for x in (
                    f"ALERT {at} UTC",
                    field(event.get("type")),
                    field(event.get("section")),
                    field(event.get("cause")),
                    field(alert_extra(event)),
                    field(url),
                )
                if x
            )
        )
        out += edit_lines(data.edits.get(event.get("id") or ""), data.served_at)
    return out


def edit_lines(diff, served_at: str = "") -> list[str]:
    """What an edit changed, under its alert: a line per language of each changed paragraph, trimmed around
    the changes (``[-removed-]{+added+}``), then where the whole diff is."""
    if diff is None:
        return []
    tag = f"    EDIT #{diff.article_id[:8]} "
    lines = [
        _CONTROL.sub(" ", line).rstrip() for line in diffview.text_lines(diff, diffview.CONTEXT, tag, diffview.MAX_ROWS)
    ]
    where = f"{diffview.page_link(diff, served_at)} or " if diff.complete else ""
    return lines + [f"{tag}whole diff: {where}newsmon diff {diff.article_id[:8]} --version {diff.new.number}"]


def watched_lines(data: DayData) -> list[str]:
    """One line per watch hit: ``WATCH watch:Xi | people/politics | "习近平" in title, text | EN: … | #3f2a1b2c``."""
    out = [f"== WATCHED ({len(data.watched)}) =="]
    for item, hit in data.watched:
        phrases = in_words(hit.get("phrases") or [], hit.get("found") or [])
        where = ", ".join(hit.get("in") or [])
        title = english_title(item)
        title = f"EN: {field(title)}" if title else f"{(item.get('lang') or '?').upper()}: {field(item.get('title'))}"
        out.append(
            " | ".join(
                [
                    f"WATCH watch:{field(hit.get('name'))}",
                    section_key(item),
                    field(f"{phrases} in {where}"),
                    title,
                    f"#{item['id'][:8]}",
                ]
            )
        )
        out += context_lines(item, hit)
    return out


def context_lines(item: dict, hit: dict) -> list[str]:
    """The sentence around each match of a hit (``crawler.watch.context``), original then English, the
    match between ``**``; each line starts with the item's ``#id`` as the paragraph lines do."""
    out, lang = [], (item.get("lang") or "?").upper()
    for ctx in hit.get("contexts") or []:
        if not isinstance(ctx, dict):
            continue
        where = "title" if ctx.get("in") == "title" else f"¶{(ctx.get('paragraph') or 0) + 1}"
        out.append(f"    #{item['id'][:8]} {where} {lang}  {one_line(highlight(ctx.get('original'), _strong))}")
        if ctx.get("english"):
            out.append(f"    #{item['id'][:8]} {where} EN  {one_line(highlight(ctx['english'], _strong))}")
    return out


def _strong(word: str) -> str:
    return f"**{word}**"


def section_lines(data: DayData) -> list[str]:
    out = [f"== SECTIONS ({len(data.sections)}) =="]
    out += [f"!! UNREADABLE | {field(problem)}" for problem in data.problems]
    if not data.sections:
        out.append("(no section was crawled and none is configured)")
    for status in data.sections:
        mark = "!! " if status.state in TROUBLE else "   "
        out.append(f"{mark}{status.state:<11} | {status.key} | {field(status.detail)}")
    return out


def item_lines(data: DayData, paragraphs: int) -> list[str]:
    out = [f"== ITEMS ({len(data.items)}) =="]
    if not data.items:
        out.append("(no new items this day: see SECTIONS above for why)")
    for key, items in grouped(data):
        if out[-1]:
            out.append("")
        name = " › ".join(x for x in (data.names.get(key.split("/")[0]), data.names.get(key)) if x)
        out.append(f"### {key}{' — ' + name if name else ''} ({len(items)}) ###")
        for item in items:
            out.append(header(item, data))
            out += note_lines(item, data)
            out += body(item, paragraphs)
            out += also_lines(item, data)
            out.append("")
    return out


def header(item: dict, data: DayData) -> str:
    key = section_key(item)
    source, _, section = key.partition("/")
    lang = item.get("lang") or "?"
    title_en = english_title(item)
    en = f"EN: {field(title_en)}" if title_en else "EN: (translation pending)"
    orig = "ORIG: (same)" if lang == "en" else f"{lang.upper()}: {field(item.get('title'))}"
    flags = " ".join(data.flags.get(item["id"], [])) or "-"
    return " | ".join(
        [
            item_date(item, data.day),
            source,
            section,
            lang,
            en,
            orig,
            field(item.get("url")),
            f"#{item['id'][:8]}",
            flags,
        ]
    )


def note_lines(item: dict, data: DayData) -> list[str]:
    """What the item's flags mean: ``    #3f2a1b2c NOTE HELD 3 DAYS: datelined …`` (crawler/analysis)."""
    return [f"    #{item['id'][:8]} NOTE {one_line(note)}" for note in data.notes.get(item["id"], [])]


def also_lines(item: dict, data: DayData) -> list[str]:
    """One line per other copy of the item's story that day: grep still finds its title and URL."""
    out = []
    for copy in data.copies.get(item["id"], []):
        lang = copy.get("lang") or "?"
        title_en = english_title(copy) if lang != "en" else None
        english = f" (EN: {field(title_en)})" if title_en else ""
        flags = " ".join(data.flags.get(copy["id"], []))
        out.append(
            " ".join(
                x
                for x in (
                    f"  also: {section_key(copy)} {lang} {field(copy.get('title'))}{english}",
                    field(copy.get("url")),
                    f"#{copy['id'][:8]}",
                    flags,
                )
                if x
            )
        )
    return out


def body(item: dict, paragraphs: int) -> list[str]:
    tag = f"    #{item['id'][:8]}"
    lang = (item.get("lang") or "?").upper()
    pairs = paragraph_pairs(item, paragraphs)
    if lang == "EN":
        return [f"{tag} EN  {one_line(original)}" for original, _ in pairs]
    translated = any(english for _, english in pairs)
    status = (item.get("translation") or {}).get("status") or "pending"
    # nothing in English yet: said once (not at all for a language newsmon does not translate)
    out = [] if translated or status == "not_needed" else [f"{tag} EN  (translation {status})"]
    for original, english in pairs:
        if translated:
            out.append(f"{tag} EN  {one_line(english)}" if english else f"{tag} EN  (not translated)")
        out.append(f"{tag} {lang:<3} {one_line(original)}")
    return out
