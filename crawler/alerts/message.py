"""One alert message summarising events: plain text, grouped by type, English and original titles."""

from __future__ import annotations

from collections import Counter

from crawler.lifecycle.diffview import CONTEXT, text_lines
from crawler.lifecycle.versiondiff import from_details
from crawler.phrases import in_words

HEADINGS = {
    "crawler_offline": "Crawler offline",
    "crawler_online": "Crawler back online",
    "watch_matched": "Watch hits",
    "section_gone": "Sections gone",
    "section_empty": "Sections empty",
    "section_broken": "Sections broken",
    "section_erroring": "Sections erroring",
    "section_reappeared": "Sections back",
    "section_extraction_degraded": "Extraction degraded",
    "section_extraction_recovered": "Extraction back",
    "section_off_subject": "Sections off subject",
    "section_on_subject": "Sections on subject again",
    "section_appeared": "New sections",
    "section_changed": "New items",
    "section_stale": "Sections quiet",
    "article_edited": "Articles edited",
    "article_deleted": "Articles deleted",
    "article_held": "Articles published days after their dateline",
}
# A heading's words for one event, where they differ: the title reads "1 section gone, 2 new items".
ONE = {
    "watch_matched": "watch hit",
    "section_gone": "section gone",
    "section_empty": "section empty",
    "section_broken": "section broken",
    "section_erroring": "section erroring",
    "section_reappeared": "section back",
    "section_off_subject": "section off subject",
    "section_on_subject": "section on subject again",
    "section_appeared": "new section",
    "section_changed": "new item",
    "section_stale": "section quiet",
    "article_edited": "article edited",
    "article_deleted": "article deleted",
    "article_held": "article published days after its dateline",
}
ORDER = list(HEADINGS)
MAX_ITEMS = 10
DIFF_ROWS = 3  # changed paragraphs an alert shows (the digest and `newsmon diff` show more)


def compose(pending: list[dict], titles: dict[str, dict], prefix: str, limit: int) -> tuple[str, str]:
    """``(title, body)`` for the events in ``pending`` (oldest first)."""
    counts = Counter(e["type"] for e in pending)
    summary = ", ".join(
        f"{counts[t]} {ONE.get(t, HEADINGS[t].lower()) if counts[t] == 1 else HEADINGS[t].lower()}"
        for t in ORDER
        if counts[t]
    )
    title = f"{prefix}: {summary}"
    shown = pending[:limit]
    lines = []
    for kind in ORDER:
        group = [e for e in shown if e["type"] == kind]
        if group:
            lines += ["", f"{HEADINGS[kind]} ({len(group)})"]
            for ev in group:
                lines += _lines(ev, titles)
    if len(pending) > limit:
        lines += ["", f"… and {len(pending) - limit} more events: see alerts.jsonl or `newsmon alerts`."]
    runs = sorted({e["run_id"] for e in pending if e["run_id"] is not None})
    head = (
        f"{len(pending)} event{'s' if len(pending) != 1 else ''} from run{'s' if len(runs) > 1 else ''} "
        f"{', '.join(map(str, runs))}"
    )
    retried = sum(1 for e in pending if e.get("attempts"))
    if retried:
        head += f" ({retried} could not be delivered before and are sent again)"
    return title, "\n".join([head, *lines]).strip() + "\n"


def _lines(ev: dict, titles: dict[str, dict]) -> list[str]:
    details = ev["details"]
    if ev["type"] == "section_changed":
        merged = [{**i, **titles.get(i.get("id"), {})} for i in details.get("items", [])]
        items = [_title(i) + _also(i) for i in merged]
        head = f"• {ev['section']}: {details.get('count', len(items))} new"
        more = [f"    – {t}" for t in items[:MAX_ITEMS]]
        if len(items) > MAX_ITEMS:
            more.append(f"    – … {len(items) - MAX_ITEMS} more")
        return [head, *more]
    if ev["type"] == "watch_matched":
        item = {**details, **titles.get(ev.get("article_id"), {})}
        phrases = in_words(details.get("phrases", []), details.get("found", []))
        return [
            f"• {ev['section']}: {_title(item)}",
            f"    watch {details.get('watch')}: {phrases} in {', '.join(details.get('in', []))} — {details.get('url')}",
        ]
    if ev["type"].startswith("article_"):
        item = {**details, **titles.get(ev.get("article_id"), {})}
        lines = [f"• {ev['section']}: {_title(item)}", f"    {ev['cause']} — {details.get('url')}"]
        return lines + _diff_excerpt(ev)
    if not ev["section"]:  # about the crawler, not a section (crawler_offline, crawler_online)
        return [f"• {ev['cause']}"]
    return [f"• {ev['section']}: {ev['cause']}"]


def _title(item: dict) -> str:
    """English title with the original beside it when the item was translated."""
    original = item.get("title") or item.get("url") or "(untitled)"
    english = item.get("title_en")
    if english and english.strip() != original.strip():
        return f"{english} [original: {original}]"
    return original


def _also(item: dict) -> str:
    """A new item whose story other outlets carry too (crawler/stories) says in how many."""
    story = item.get("story") if isinstance(item.get("story"), dict) else {}
    others = [s for s in story.get("sources") or [] if s != item.get("source")]
    return f" (also in {len(others)} other outlet{'s' if len(others) != 1 else ''})" if others else ""


def _diff_excerpt(ev: dict) -> list[str]:
    """An edit's changed title and paragraphs, changed words marked ``[-removed-]{+added+}``, trimmed around
    the changes; then the command that shows the whole diff, original and English."""
    diff = from_details(ev) if ev["type"] == "article_edited" else None
    if diff is None:
        return []
    lines = text_lines(diff, CONTEXT, "    ", DIFF_ROWS)
    version = f" --version {diff.new.number}" if diff.new.number else ""
    return lines + [f"    whole diff: newsmon diff {diff.article_id[:8]}{version}"] if lines else []
