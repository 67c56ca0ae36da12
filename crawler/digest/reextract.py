"""Re-extract one day's items from their stored raw pages (``newsmon digest --reextract``).

For each item of the day: read ``output/<raw_path>`` (gzip), decode it as it was decoded at fetch time
(``raw_encoding``; a page stored without one is decoded as the crawl decodes: Scrapy, then
``crawler.crawl.charset`` corrections),
run ``crawler.extract.extraction.extract_article`` with the section's settings, and compare. A multi-page
article (``extras["pages"]``) is re-extracted page by page, each further page from its own raw copy and
encoding, and merged again (``crawler.extract.continuation.merge``); pages that were missing at fetch time
stay missing (``extras["incomplete"]`` is kept). An item whose
title, paragraphs, date or authors changed is updated through the item store (its day file follows at
the export that ends the command).
Its translation is reset to pending when its text changed (the translation stage redoes it; its
translation memory makes unchanged paragraphs free). An item whose raw page is missing or no longer
yields an article is left as it is and reported.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from crawler import state
from crawler.config import Config, Section
from crawler.exceptions import ExtractionError
from crawler.extract.stored import extract_stored
from crawler.items import content_hash, empty_translation, utc_now
from crawler.progress import Progress
from crawler.store import items as item_store
from crawler.store.dayfiles import export_now
from crawler.store.published import normalised

log = logging.getLogger(__name__)


@dataclass
class ReextractReport:
    items: int = 0
    changed: int = 0
    failed: list[str] = field(default_factory=list)  # "id: reason"

    def as_dict(self) -> dict:
        return {"items": self.items, "changed": self.changed, "failed": list(self.failed)}


def reextracted(output_dir: Path, item: dict, section: Section | None) -> dict | None:
    """The item re-extracted from its raw page, or None when nothing changed."""
    ext = extract_stored(output_dir, item, section)
    paragraphs = list(ext.paragraphs)
    # the page's date in the stored form, else the item's as it is (crawler/store/published.py)
    published = normalised(
        {"published_at": ext.published_at}
        if ext.published_at
        else {k: item.get(k) for k in ("published_at", "published_precision") if k in item}
    )
    authors = list(ext.authors) or item.get("authors") or []
    new_hash = content_hash(ext.title, paragraphs)
    if (
        new_hash == item.get("content_hash")
        and published.get("published_at") == item.get("published_at")
        and authors == (item.get("authors") or [])
    ):
        return None
    new = dict(
        item,
        title=ext.title,
        paragraphs=paragraphs,
        text="\n\n".join(paragraphs),
        authors=authors,
        content_hash=new_hash,
        extractor=ext.extractor,
        extras={**(item.get("extras") or {}), **(ext.extras or {}), "reextracted_at": utc_now()},
    )
    new.update(published)
    if new_hash != item.get("content_hash"):
        new.update(_redetect(paragraphs, ext.title, item))
        new.update(empty_translation(new.get("lang")))
    return new


def _redetect(paragraphs: list[str], title: str | None, item: dict) -> dict:
    try:
        from crawler.extract.language import detect_language

        found = detect_language(paragraphs, title)
    except Exception as exc:  # language detection must not lose a re-extraction
        log.warning("%s: language re-detection failed (%s); keeping %s", item["id"], exc, item.get("lang"))
        return {}
    if not found.lang:
        return {}
    return {"lang": found.lang, "lang_confidence": found.confidence, "paragraph_langs": found.paragraph_langs}


def reextract_day(output_dir: str | Path, day: str, config: Config | None, *, progress: bool = True) -> dict:
    """Re-extract every stored item of ``day``. Returns ``{items, changed, failed}``."""
    output_dir = Path(output_dir)
    sections = {s.key: s for s in config.sections} if config else {}
    report, updates = ReextractReport(), {}
    conn = state.connect(output_dir)
    try:
        rows = conn.execute("SELECT id, json FROM items WHERE day = ? ORDER BY id", (day,)).fetchall()
        report.items = len(rows)
        bar = Progress("reextract", len(rows)) if progress else None
        for row in rows:
            item = item_store.loads(row["json"])
            if item is None:
                report.failed.append(f"{row['id']}: unreadable row in the items table (not a JSON object)")
            else:
                _one(output_dir, item, sections, updates, report)
            if bar:
                bar.advance()
        if bar:
            bar.finish()
        if updates:
            _save_rows(conn, updates)
    finally:
        conn.close()
    if updates:
        export_now(output_dir)
    report.changed = len(updates)
    return report.as_dict()


def _one(output_dir: Path, item: dict, sections: dict, updates: dict, report: ReextractReport) -> None:
    key = item.get("section_key") or f"{item.get('source')}/{item.get('section')}"
    try:
        new = reextracted(output_dir, item, sections.get(key))
    except ExtractionError as exc:
        log.warning("reextract %s (%s): %s; the stored item is kept", item["id"], item.get("url"), exc)
        report.failed.append(f"{item['id']}: {exc}")
        return
    if new is not None:
        updates[item["id"]] = new


def _save_rows(conn, updates: dict[str, dict]) -> None:
    with state.transaction(conn):
        for item in updates.values():
            item_store.replace(conn, item)
