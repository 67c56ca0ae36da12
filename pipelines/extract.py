"""Extraction: the decoded page (``response.text``, never raw bytes) → title, paragraphs, date, authors.

Extraction and language detection run together (``crawler.extract.analysis``): in worker processes, the
reactor downloading meanwhile, once ``[crawler] extraction_workers`` ("auto" by default) has started them;
in-line before that and with 0, which is as fast when the politeness delay, not the CPU, paces the crawl.

An article whose page declares further pages (``crawler.extract.continuation``) has them fetched here,
through the spider (``SectionSpider.fetch_page``: a normal request of the crawl), extracted the same way
and merged: the item carries the merged text and ``item["further_pages"]`` (their ``FetchedPage``s, for
the store). A further page linked on its own is replaced by its article's first page.

An article whose pages give no date takes the one its feed entry gave (``item["listed_published_at"]``,
set by ``spiders/feed.py``) as ``published_at``.
"""

from __future__ import annotations

import logging

from scrapy.exceptions import DropItem

from crawler.crawl.fetcherrors import PageFetchFailed
from crawler.exceptions import ExtractionError
from crawler.extract.analysis import shared_pool
from crawler.extract.continuation import DEFAULT_MAX_FURTHER_PAGES, PageWalk, first_page_of, further_pages

log = logging.getLogger(__name__)


class ExtractPipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        # A number (a string when it comes from the environment) or "auto"; its default: crawler.crawl.settings.
        workers = crawler.settings.get("NEWSMON_EXTRACTION_WORKERS")
        self.workers = workers if workers == "auto" else int(workers)
        self.max_further = crawler.settings.getint("NEWSMON_MAX_FURTHER_PAGES", DEFAULT_MAX_FURTHER_PAGES)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_item(self, item):
        page = item["page"]
        try:
            extracted, lang = await self.analyse(page)
            first = first_page_of(extracted, page.url)
            if first:
                page = item["page"] = await self.first_page_instead(page, first)
                extracted, lang = await self.analyse(page)
            item["extracted"] = extracted
            if lang is not None:
                item["lang"] = lang
            if further_pages(extracted):
                await self.merge_further_pages(item)
            if item["extracted"].published_at is None and item.get("listed_published_at"):
                # the page gives no date: the one its feed entry gave (spiders/feed.py) is the next best
                item["extracted"].published_at = item["listed_published_at"]
        except PageFetchFailed as exc:
            self._failed(page, f"first page of the article: {exc}")
        except ExtractionError as exc:
            self._failed(page, f"extraction failed: {exc}", unextracted=True)
        except DropItem:
            raise
        except Exception as exc:  # an extractor bug on one odd page must not stop the section
            log.debug("extraction of %s crashed", page.url, exc_info=True)
            self._failed(page, f"extraction crashed: {type(exc).__name__}: {exc}", unextracted=True)
        return item

    async def analyse(self, page):
        """``(Extracted, LangResult | None)``: the language comes with it from the analysis pool only."""
        if self.workers == 0:
            from crawler.extract.extraction import extract_article  # only here: workers read pages elsewhere

            return extract_article(page.text, page.url, page.section), None
        return await shared_pool(self.workers).analyse(page.text, page.url, page.section)

    async def first_page_instead(self, page, first: str):
        """A further page linked on its own (``…-2.html`` in a listing) is not an article: its article's
        first page is, unless this crawl already fetches it or it is stored."""
        spider = self.crawler.spider
        if not spider.claim(first):
            log.info(
                "%s: %s is a further page of %s, already stored or fetched; skipped",
                spider.section.key,
                page.url,
                first,
            )
            raise DropItem("a further page of an article already taken")
        log.info("%s: %s is a further page of %s; fetching that instead", spider.section.key, page.url, first)
        return await spider.fetch_page(first)

    async def merge_further_pages(self, item) -> None:
        """Fetch and extract the pages the article continues on; one that fails is named, never silently
        dropped: the article lands with the others and ``extras["incomplete"]``."""
        spider, page = self.crawler.spider, item["page"]
        walk = PageWalk(page.url, item["extracted"], self.max_further)
        fetched = []
        while (url := walk.next_url()) is not None:
            try:
                further = await spider.fetch_page(url)
                extracted, _lang = await self.analyse(further)
            except (PageFetchFailed, ExtractionError) as exc:
                walk.fail(url, str(exc))
                continue
            except Exception as exc:  # an extractor bug on a further page must not lose the article
                log.debug("extraction of %s crashed", url, exc_info=True)
                walk.fail(url, f"extraction crashed: {type(exc).__name__}: {exc}")
                continue
            if walk.add(url, extracted, further.url):
                fetched.append(further)
        for missing in walk.failed:  # counted as failures: the run did not get what the site has
            spider.report.article_failed(
                missing["url"], f"further page of {page.url}: {missing['error']}; the article lands without it"
            )
        for missing in walk.skipped:  # the configured limit: said, not counted
            log.warning(
                "%s: %s: %s of %s; the article lands without it",
                spider.section.key,
                missing["url"],
                missing["error"],
                page.url,
            )
        item["extracted"], item["further_pages"] = walk.merged(), fetched
        # Language of the whole article, detected by the language pipeline in-line whichever path
        # extracted the pages: the worker's answer covered page 1 only.
        item.pop("lang", None)

    def _failed(self, page, reason: str, unextracted: bool = False) -> None:
        report = self.crawler.spider.report  # unextracted: the page answered, the article was not in it
        (report.extraction_failed if unextracted else report.article_failed)(page.requested_url, reason)
        raise DropItem(reason) from None
