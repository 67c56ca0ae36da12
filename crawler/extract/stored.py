"""A stored item's raw pages read back and extracted again by the extractor installed now.

Used where a stored item must be compared with what today's code makes of the same page: re-extraction of a
day (``crawler/digest/reextract.py``) and article re-checks of an item stored by another extractor
(``crawler/lifecycle/recheck.py``). Page 1 is ``output/<raw_path>`` (zstd or gzip, read by
``crawler.crawl.store.read_raw``), decoded as it was at fetch time (``raw_encoding``; a page stored without
one is decoded as the crawl decodes: Scrapy, then ``crawler.crawl.charset`` corrections); a multi-page
article's further pages come from their own raw copies and encodings (``extras["pages"]``) and are merged
again (``crawler.extract.continuation.merge``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from crawler.exceptions import ExtractionError

if TYPE_CHECKING:
    from crawler.config import Section
    from crawler.extract.extracted import Extracted


def load_page(output_dir: Path, item: dict) -> str:
    """The stored raw page of ``item`` (or of one ``extras["pages"]`` record), decoded."""
    if not item.get("raw_path"):
        raise ExtractionError("no raw page stored for this item")
    from crawler.crawl.store import read_raw

    try:
        body = read_raw(Path(output_dir), item["raw_path"])
    except FileNotFoundError:
        raise ExtractionError(f"raw page missing: {item['raw_path']}") from None
    except OSError as exc:  # RawPageError included: damaged, or its dictionary missing
        raise ExtractionError(f"raw page unreadable: {item['raw_path']}: {exc}") from None
    if item.get("raw_encoding"):
        try:
            return body.decode(item["raw_encoding"], errors="replace")
        except LookupError:
            raise ExtractionError(f"raw page {item['raw_path']}: unknown encoding {item['raw_encoding']!r}") from None
    from crawler.crawl.charset import decode  # Scrapy's decoding, charset lies corrected, as the crawl

    return decode(body, item["url"])[0]


def extract_stored(output_dir: Path, item: dict, section: Section | None) -> Extracted:
    """``item``'s stored pages extracted again, merged as the crawl merged them; ``ExtractionError`` when a
    page cannot be read or no longer yields an article (a further page too: half an article compares badly)."""
    from crawler.extract.extraction import extract_article

    first = extract_article(load_page(output_dir, item), item["url"], section)
    return with_further_pages(output_dir, item, first, section)


def with_further_pages(output_dir: Path, item: dict, first: Extracted, section: Section | None) -> Extracted:
    """The re-extracted first page followed by the item's further pages, each re-extracted from its raw
    copy; ``first`` itself for a one-page article."""
    from crawler.extract.continuation import PAGES, merge
    from crawler.extract.extraction import extract_article

    records = (item.get("extras") or {}).get(PAGES) or []
    if len(records) < 2:
        return first
    pages = [(records[0], first)]
    for record in records[1:]:
        stored = {"raw_path": record.get("raw_path"), "raw_encoding": record.get("raw_encoding"), "url": record["url"]}
        pages.append((record, extract_article(load_page(output_dir, stored), record["url"], section)))
    return merge(pages)
