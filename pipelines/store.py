"""Store: raw page (gzip) + state DB rows (+ the day file's early line) through crawler.crawl.store.

Storing runs on one writer thread shared by every crawler of the cycle, not on the reactor: compressing
the page, the writes, the batch syncs of the raw pages and the SQLite commit release the GIL, so the
reactor extracts the next page meanwhile. One thread, as the reactor was before: the writes of all sections stay
serialized, in the order raw page → DB row → day-file line that crash recovery relies on.

When storing fails for want of space (or any I/O error), nothing more can be stored: the failure is kept
for the runner (``crawler.crawl.store.storage_failure``), the article counts as failed, and the crawler
closes, so the run ends at once with one line instead of one error per remaining article.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from concurrent.futures import ThreadPoolExecutor

from scrapy.exceptions import DropItem

from crawler.crawl.store import Store, note_storage_failure, storage_failure
from crawler.store.diskspace import StorageError

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
        if storage_failure() is not None:
            report.article_failed(page.requested_url, "not stored: storing stopped (disk full)", quiet=True)
            raise DropItem("storing stopped")
        try:
            landed = await asyncio.get_running_loop().run_in_executor(
                writer(), self.store.save, page, item["extracted"], item["lang"], item.get("further_pages", ())
            )
        except StorageError as exc:  # a full disk: nothing more can be stored this run
            note_storage_failure(exc)
            report.article_failed(page.requested_url, f"not stored: {exc}", quiet=True)
            self._stop()
            raise DropItem(str(exc)) from None
        except (OSError, sqlite3.Error) as exc:  # permissions, a locked DB: unstored, so retried next run
            report.article_failed(page.requested_url, f"could not store: {exc}")
            raise DropItem(str(exc)) from None
        report.fetched += 1
        if landed is None:
            raise DropItem("already stored")
        report.landed += 1
        return {"id": landed["id"], "page": page}

    def _stop(self) -> None:
        # Scheduled, not awaited: closing waits for the items in flight, this one included.
        engine = self.crawler.engine
        if engine is not None and engine.spider is not None:
            asyncio.ensure_future(engine.close_spider_async(reason="storage_failed"))
