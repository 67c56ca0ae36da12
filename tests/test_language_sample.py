"""Language detection on a bounded sample gives the answers detection on the page's leading text gave.

``previous_detect_language`` below is ``crawler.extract.language.detect_language`` as it was before the
sample became a few hundred characters drawn from several paragraphs (langdetect then read the first
600 characters of the body, and each paragraph of a mixed page whole). Both run over every recorded
page — its extracted article and, to have pages that mix scripts, every text block of the whole page
(menus, footers and all) — and over the entries of the recorded feeds; the page language and the
per-paragraph languages must be the same.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import feedparser
import lxml.html
import pytest
from scrapy.http import HtmlResponse

from crawler.exceptions import ExtractionError
from crawler.extract.extraction import extract_article, parse_html
from crawler.extract.language import LangResult, detect_language, detect_text
from crawler.extract.textutil import block_paragraphs
from tests.recorded import recorded

RESOURCES = Path(__file__).resolve().parent / "resources"

# ── the previous code, verbatim but for its names ───────────────────────────────────────────────────────
PREVIOUS_SAMPLE_CHARS = 600
PREVIOUS_SCRIPTS = {
    "han": re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"),
    "kana": re.compile(r"[\u3040-\u30ff]"),
    "hangul": re.compile(r"[\uac00-\ud7af\u1100-\u11ff]"),
    "cyrillic": re.compile(r"[\u0400-\u04ff]"),
    "latin": re.compile(r"[A-Za-z\u00c0-\u024f]"),
    "arabic": re.compile(r"[\u0600-\u06ff]"),
}


def previous_detect_language(paragraphs: list[str], title: str | None = None) -> LangResult:
    texts = [p for p in paragraphs if p and p.strip()]
    if not texts:
        lang, confidence = detect_text(title or "")
        return LangResult(lang, confidence)
    lang, confidence = detect_text(_previous_sample(texts))
    return LangResult(lang, confidence, _previous_paragraph_languages(texts, lang))


def _previous_paragraph_languages(paragraphs: list[str], page_lang: str | None) -> list[str | None] | None:
    scripts = [_previous_dominant_script(p) for p in paragraphs]
    if len({s for s in scripts if s}) < 2:
        return None
    langs = [detect_text(p)[0] if s else None for p, s in zip(paragraphs, scripts)]
    if all(lang in (None, page_lang) for lang in langs):
        return None
    return langs


def _previous_dominant_script(text: str) -> str | None:
    counts = {name: len(rx.findall(text)) for name, rx in PREVIOUS_SCRIPTS.items()}
    total = sum(counts.values())
    if total < 20 and counts["han"] < 20 // 4:
        return None
    return max(counts, key=counts.get)


def _previous_sample(texts: list[str]) -> str:
    out, size = [], 0
    for text in texts:
        out.append(text)
        size += len(text)
        if size >= PREVIOUS_SAMPLE_CHARS:
            break
    return " ".join(out)[:PREVIOUS_SAMPLE_CHARS]


# ── the recorded texts ─────────────────────────────────────────────────────────────────────────────────


def _recorded_pages() -> list[dict]:
    """Every recorded HTML page of pages.json and every page of tests/resources/expected, with how it is
    served (the expected files name a Content-Type; pages.json an encoding)."""
    pages = {}
    for spec in json.loads((RESOURCES / "recorded" / "pages.json").read_text(encoding="utf-8"))["pages"]:
        if spec["file"].endswith(".html"):
            pages[spec["file"]] = {
                "file": spec["file"],
                "url": spec.get("url") or "http://example.org/",
                "content_type": f"text/html; charset={spec['encoding'].split()[0]}",
            }
    for path in sorted((RESOURCES / "expected").glob("*/*.json")):
        spec = json.loads(path.read_text(encoding="utf-8"))
        pages[spec["file"]] = {"file": spec["file"], "url": spec["url"], "content_type": spec["content_type"]}
    return sorted(pages.values(), key=lambda p: p["file"])


def _texts_of_page(page: dict) -> list[tuple[str, list[str], str | None]]:
    body = recorded(page["file"]).read_bytes()
    html = HtmlResponse(page["url"], body=body, headers={"Content-Type": page["content_type"]}).text
    out = []
    try:
        got = extract_article(html, page["url"])
        out.append((f"{page['file']} article", got.paragraphs, got.title))
    except ExtractionError:
        pass
    tree = parse_html(html, page["url"])
    for el in tree.xpath("//script | //style"):
        el.drop_tree()
    out.append((f"{page['file']} whole page", block_paragraphs(tree.find(".//body")), None))
    return out


def _feed_texts() -> list[tuple[str, list[str], str | None]]:
    out = []
    for spec in json.loads((RESOURCES / "recorded" / "pages.json").read_text(encoding="utf-8"))["pages"]:
        if not spec["file"].endswith(".xml"):
            continue
        feed = feedparser.parse(recorded(spec["file"]).read_bytes())
        entries = []
        for entry in feed.entries:
            summary = lxml.html.fromstring(f"<div>{entry.get('summary') or ''}</div>")
            paragraphs = block_paragraphs(summary)
            entries.append(
                (f"{spec['file']} entry {entry.get('id') or entry.get('link')}", paragraphs, entry.get("title"))
            )
        out.extend(entries)
        out.append((f"{spec['file']} all entries", [p for _, ps, _ in entries for p in ps], None))
    return out


CASES = [case for page in _recorded_pages() for case in _texts_of_page(page)] + _feed_texts()


def test_the_cases_cover_every_language_and_mixed_pages():
    answers = [previous_detect_language(paragraphs, title) for _, paragraphs, title in CASES]
    assert {"zh", "ru", "en"} <= {a.lang for a in answers}
    assert sum(a.paragraph_langs is not None for a in answers) >= 5, "pages mixing languages"
    assert any(len(" ".join(paragraphs)) > 10 * 600 for _, paragraphs, _ in CASES)


@pytest.mark.parametrize("name, paragraphs, title", CASES, ids=[c[0] for c in CASES])
def test_sampled_detection_answers_as_before(name, paragraphs, title):
    before = previous_detect_language(paragraphs, title)
    after = detect_language(paragraphs, title)
    assert (after.lang, after.paragraph_langs) == (before.lang, before.paragraph_langs)
