"""Extraction: the decoded page (``response.text``, never raw bytes) → title, paragraphs, date, authors.

With ``[crawler] extraction_workers = N`` (N > 0) extraction and language detection run together in N
worker processes (``crawler.extract.analysis``) and the reactor keeps downloading meanwhile; with 0 (the
default) they run in-line, which is as fast when the politeness delay, not the CPU, paces the crawl.
"""

from __future__ import annotations

import logging

from scrapy.exceptions import DropItem

from crawler.exceptions import ExtractionError
from crawler.extract.analysis import shared_pool
from crawler.extract.extraction import extract_article

log = logging.getLogger(__name__)


class ExtractPipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.workers = crawler.settings.getint("NEWSMON_EXTRACTION_WORKERS", 0)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_item(self, item):
        page = item["page"]
        try:
            if self.workers > 0:
                item["extracted"], item["lang"] = await shared_pool(self.workers).analyse(
                    page.text, page.url, page.section)
            else:
                item["extracted"] = extract_article(page.text, page.url, page.section)
        except ExtractionError as exc:
            self._failed(page, f"extraction failed: {exc}")
        except Exception as exc:  # an extractor bug on one odd page must not stop the section
            log.debug("extraction of %s crashed", page.url, exc_info=True)
            self._failed(page, f"extraction crashed: {type(exc).__name__}: {exc}")
        return item

    def _failed(self, page, reason: str) -> None:
        self.crawler.spider.report.article_failed(page.requested_url, reason)
        raise DropItem(reason) from None
