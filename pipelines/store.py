"""Store: raw page (gzip) + state DB rows + one line in the day's items.jsonl (crawler.crawl.store)."""

from __future__ import annotations

import logging
import sqlite3

from scrapy.exceptions import DropItem

from crawler.crawl.store import Store

log = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.store: Store | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self):
        run = self.crawler.spider.run
        self.store = Store(run.output_dir, run.run_id, run.day)

    def close_spider(self):
        if self.store:
            self.store.close()

    def process_item(self, item):
        report = self.crawler.spider.report
        page = item["page"]
        try:
            landed = self.store.save(page, item["extracted"], item["lang"], item.get("further_pages", ()))
        except (OSError, sqlite3.Error) as exc:  # disk full, permissions, a locked DB: unstored, so retried next run
            report.article_failed(page.requested_url, f"could not store: {exc}")
            raise DropItem(str(exc)) from None
        report.fetched += 1
        if landed is None:
            raise DropItem("already stored")
        report.landed += 1
        return {"id": landed["id"], "page": page}
