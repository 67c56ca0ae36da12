"""One `newsmon run` cycle whose extraction + language detection run in a process pool (benchmark only).

    python benchmarks/crawl_with_pool.py CONFIG OUTPUT WORKERS

The shipped pipelines extract in-line on the reactor thread. This runner swaps the extract and language
pipelines for ``PoolAnalysePipeline`` (``crawler.extract.analysis.shared_pool``) and runs the same cycle, so that
bench_crawl.py can measure what moving that CPU work off the reactor would change. Nothing else differs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]


class PoolAnalysePipeline:
    """ExtractPipeline + LanguagePipeline, awaiting a worker process instead of blocking the reactor."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self):
        from crawler.extract.analysis import shared_pool

        shared_pool(int(os.environ["BENCH_POOL_WORKERS"]))

    async def process_item(self, item):
        from scrapy.exceptions import DropItem

        from crawler.extract.analysis import shared_pool
        from crawler.exceptions import ExtractionError

        page = item["page"]
        try:
            item["extracted"], item["lang"] = await shared_pool().analyse(page.text, page.url, page.section)
        except ExtractionError as exc:
            self.crawler.spider.report.article_failed(page.requested_url, f"extraction failed: {exc}")
            raise DropItem(str(exc)) from None
        return item


def main(config_path: str, output: str, workers: str) -> int:
    import crawler.crawl.settings
    from crawler.extract.analysis import close_shared_pool
    from crawler.config import load_config
    from crawler.runner import run_cycle

    os.environ["BENCH_POOL_WORKERS"] = workers
    crawler.crawl.settings.ITEM_PIPELINES = {"crawl_with_pool.PoolAnalysePipeline": 100,
                                       "pipelines.store.StorePipeline": 300}
    try:
        result = run_cycle(load_config(config_path, output_dir=output))
    finally:
        close_shared_pool()
    return 0 if result.status == "ok" else 1


if __name__ == "__main__":      # the pool's workers are spawned: they must not run the cycle again
    sys.exit(main(*sys.argv[1:4]))
