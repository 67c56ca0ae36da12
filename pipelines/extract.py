"""Extraction: the decoded page (``response.text``, never raw bytes) → title, paragraphs, date, authors."""

from __future__ import annotations

import logging

from scrapy.exceptions import DropItem

from crawler.exceptions import ExtractionError
from crawler.extract.extraction import extract_article

log = logging.getLogger(__name__)


class ExtractPipeline:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        page = item["page"]
        try:
            item["extracted"] = extract_article(page.text, page.url, page.section)
        except ExtractionError as exc:
            self.crawler.spider.report.article_failed(page.requested_url, f"extraction failed: {exc}")
            raise DropItem(str(exc)) from None
        except Exception as exc:  # an extractor bug on one odd page must not stop the section
            log.debug("extraction of %s crashed", page.url, exc_info=True)
            self.crawler.spider.report.article_failed(
                page.requested_url, f"extraction crashed: {type(exc).__name__}: {exc}")
            raise DropItem(str(exc)) from None
        return item
