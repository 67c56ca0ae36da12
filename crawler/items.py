"""The item: one article as one JSON object — its schema (``Item``) and the pure helpers around it.

Only ``crawler.store.items`` writes items; everything else reads them or asks it to change a field.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any, TypedDict
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that never change what an article is.
TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|yclid|from|spm|ref)$", re.I)
TRANSLATION_FIELDS = ("title_en", "text_en", "paragraphs_en", "translation")


class Translation(TypedDict):
    engine: str | None
    model: str | None
    status: str  # done | pending | not_needed | failed
    error: str | None
    translated_at: str | None


class Item(TypedDict, total=False):
    """One article, as stored in the ``items`` row and written as one line of its day's items.jsonl.
    Keys in this order; ``watch``, ``story`` and ``flags`` only when a feature has something to say."""

    id: str  # sha256(canonical_url)[:16]
    source: str
    section: str  # the section's id within the source
    section_key: str  # "source/section"
    url: str  # final URL after redirects
    canonical_url: str
    fetched_at: str  # ISO-8601 UTC
    published_at: str | None  # YYYY-MM-DDTHH:MM:SS±HH:MM, the site's offset (crawler/store/published.py)
    published_precision: str  # "time", or "date" when only the day was known (absent without a date)
    title: str | None
    text: str  # paragraphs joined by a blank line
    paragraphs: list[str]
    lang: str | None
    lang_confidence: float | None
    paragraph_langs: list[str] | None
    authors: list[str]
    content_hash: str
    raw_path: str  # relative to the output directory
    raw_encoding: str
    version: int  # 1, then 2… for edits found by re-checks
    extras: dict[str, Any]  # parser extras (pages, incomplete, lead, place, tags …); a transcript's
    #                              turns [{speaker (one name per person), speaker_label (as printed), text}] and
    #                              pull_quotes [text] (crawler/extract/speakers.py)
    extractor: dict[str, Any]  # what extracted this version: parser, its version, trafilatura's
    title_en: str | None
    text_en: str | None
    paragraphs_en: list[str] | None
    translation: Translation
    watch: list[dict]  # [{name, phrases, found, in}]
    story: dict  # {id, size, items, sources, langs}
    flags: list[str]  # dateline_lag, off_subject (crawler/analysis/flags.py)


def utc_now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def canonicalize_url(url: str) -> str:
    """Canonical form: lower-case scheme/host, no fragment, no tracking params, no default port."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.port and not (
        (parts.scheme == "http" and parts.port == 80) or (parts.scheme == "https" and parts.port == 443)
    ):
        host = f"{host}:{parts.port}"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING_PARAMS.match(k)]
    )
    return urlunsplit((parts.scheme.lower(), host, parts.path or "/", query, ""))


def item_id(canonical_url: str) -> str:
    """Stable id: the same article gets the same id on every run and machine."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:16]


def normalize_text(text: str) -> str:
    """NFC, whitespace runs made one space, the ends stripped (``str.split`` splits where ``\\s`` matches)."""
    return " ".join(unicodedata.normalize("NFC", text or "").split())


def content_hash(title: str | None, paragraphs: list[str]) -> str:
    """Hash of the normalized title and paragraphs: whitespace-only changes are not edits."""
    h = hashlib.sha256()
    h.update(normalize_text(title or "").encode("utf-8"))
    for p in paragraphs:
        h.update(b"\n")
        h.update(normalize_text(p).encode("utf-8"))
    return h.hexdigest()


def empty_translation(lang: str | None) -> dict:
    """The translation fields an item lands with, before the translation stage runs."""
    needed = lang in ("zh", "ru")
    return {
        "title_en": None,
        "text_en": None,
        "paragraphs_en": None,
        "translation": {
            "engine": None,
            "model": None,
            "status": "pending" if needed else "not_needed",
            "error": None,
            "translated_at": None,
        },
    }


def section_key(item: dict) -> str:
    """The item's "source/section" key ("?" for a part it lacks)."""
    return item.get("section_key") or f"{item.get('source', '?')}/{item.get('section', '?')}"


def english_title(item: dict) -> str | None:
    """The item's title in English: its own when English, else its translation (None until translated)."""
    return item.get("title") if item.get("lang") == "en" else item.get("title_en")
