"""Store: raw page (gzip) + state DB rows + one line in the day's items.jsonl (crawler.crawl.store).

Storing runs on one writer thread shared by every crawler of the cycle, not on the reactor: compressing
the page, the fsyncs and the SQLite commit release the GIL, so the reactor extracts the next page
meanwhile. One thread, as the reactor was before: the writes of all sections stay serialized, in the
order raw page → DB row → JSONL line that crash recovery relies on.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from concurrent.futures import ThreadPoolExecutor

from scrapy.exceptions import DropItem

from crawler.crawl.store import Store

log = logging.getLogger(__name__)

_writer: ThreadPoolExecutor | None = None


def writer() -> ThreadPoolExecutor:
    """The cycle's writer thread (each Store's SQLite connection lives and dies on it)."""
    global _writer
    if _writer is None:
        _writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsmon-store")
    return _writer


class StorePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.store: Store | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self):
        run = self.crawler.spider.run
        self.store = writer().submit(Store, run.output_dir, run.run_id, run.day).result()

    def close_spider(self):
        if self.store:
            writer().submit(self.store.close).result()

    async def process_item(self, item):
        report = self.crawler.spider.report
        page = item["page"]
        try:
            landed = await asyncio.get_running_loop().run_in_executor(
                writer(), self.store.save, page, item["extracted"], item["lang"], item.get("further_pages", ()))
        except (OSError, sqlite3.Error) as exc:  # disk full, permissions, a locked DB: unstored, so retried next run
            report.article_failed(page.requested_url, f"could not store: {exc}")
            raise DropItem(str(exc)) from None
        report.fetched += 1
        if landed is None:
            raise DropItem("already stored")
        report.landed += 1
        return {"id": landed["id"], "page": page}
