"""What every section spider shares: the entry-point request (conditional GET), the snapshot row, the
errbacks that record failures, following the article links, and fetching the further pages of an article
for the extraction pipeline (``fetch_page``). Subclasses only say how links are read from their kind of
entry point (``links_of``) and what the next entry page is (``next_url``).
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

import scrapy
from scrapy.http import TextResponse
from twisted.python.failure import Failure

from crawler.crawl import conditional, links, context as runner_context, snapshots, store
from crawler import state
from crawler.crawl.charset import best_response
from crawler.config import Section, load_config
from crawler.crawl.report import SectionReport
from crawler.exceptions import ConfigError
from crawler.crawl.fetcherrors import PageFetchFailed, describe
from crawler.items import canonicalize_url, utc_now

log = logging.getLogger(__name__)


class SectionSpider(scrapy.Spider):
    kind = ""   # listing | feed | sitemap

    def __init__(self, section: Section | str | None = None, report: SectionReport | None = None, **kw):
        super().__init__(**kw)
        if section is None:
            raise ConfigError(f"the {self.name} spider needs a section: -a section=<source/section>")
        self.section = section
        self.report = report

    @classmethod
    def update_settings(cls, settings) -> None:
        """A bare ``scrapy crawl`` gets the config's ``[crawler]`` politeness too (``newsmon run`` has
        already put it in the settings)."""
        super().update_settings(settings)
        if settings.get("NEWSMON_RUN_ID") is None:
            from crawler.crawl.settings import CRAWLER_KEYS, crawler_table

            config = load_config(settings.get("NEWSMON_CONFIG") or os.environ.get("NEWSMON_CONFIG"))
            for key, value in crawler_table(config).items():
                for name in CRAWLER_KEYS[key][1]:
                    settings.set(name, value, priority="spider")

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.setup(crawler.settings)
        return spider

    def setup(self, settings) -> None:
        """Resolve the section and the run this crawl belongs to (``scrapy crawl`` opens its own run)."""
        if isinstance(self.section, str):
            self.section = find_section(settings.get("NEWSMON_CONFIG") or os.environ.get("NEWSMON_CONFIG"),
                                        self.section)
        if self.section.kind != self.kind:
            raise ConfigError(f"section {self.section.key} is a {self.section.kind}, not a {self.kind}")
        self.report = self.report or SectionReport(self.section.key)
        self.run = runner_context.from_settings(settings)
        self.timeout = settings.getfloat("DOWNLOAD_TIMEOUT")
        self.db = state.connect(self.run.output_dir)
        self.snapshot = snapshots.Snapshot(self.section.key, self.section.url, self.section.link_rule())
        self.followed: set[str] = set()
        self.claimed: set[str] = set()        # canonical URLs of the articles this crawl fetches
        self.entry_pages: set[str] = {self.section.url}

    # -- entry point -------------------------------------------------------------------------------
    async def start(self):
        yield self.entry_request(self.section.url, page=1)

    def entry_request(self, url: str, page: int) -> scrapy.Request:
        # Only the first page is asked conditionally: a 304 carries the previous run's links of *all*
        # pages over, while a 304 on page 2 alone could not say which links were on it.
        # An edited link rule (or a first run) needs the full page, not a 304.
        conditional_get = page == 1 and snapshots.same_rule_as_last_time(self.db, self.section.key,
                                                                         self.section.link_rule())
        headers = conditional.request_headers(self.db, url) if conditional_get else {}
        return scrapy.Request(url, headers=headers, callback=self.on_entry,
                              errback=self.on_entry_error, dont_filter=True,
                              meta={"page": page, "handle_httpstatus_list": [304]})

    def on_entry(self, response):
        page = response.meta["page"]
        if page == 1:
            self.snapshot.http_status, self.snapshot.final_url = response.status, response.url
            self.snapshot.page_bytes = len(response.body)
        if response.status == 304:
            if page == 1:    # same as last run: carry its links over (they are known, so no request)
                self.snapshot.not_modified = True
                carried = snapshots.previous_links(self.db, self.section.key)
                self.snapshot.add_links(carried)
                yield from self.follow(carried)
            return
        if not isinstance(response, TextResponse) or not response.body.strip():
            self.entry_page_failed(page, "empty page" if not response.body.strip() else "not a text page")
            return
        response = self.decoded(response)
        if page == 1:
            self.snapshot.validators[self.section.url] = conditional.validators_of(response.headers)
        try:
            found = self.links_of(response)
        except links.MalformedFeed as exc:
            self.entry_page_failed(page, f"malformed {self.kind}: {exc}")
            return
        self.snapshot.add_links(found)
        yield from self.follow(found)
        next_url = self.next_url(response, found)
        if next_url and page < self.section.max_pages and next_url not in self.entry_pages:
            self.entry_pages.add(next_url)            # a "next" link back to a read page ends the walk
            yield self.entry_request(next_url, page + 1)

    def on_entry_error(self, failure):
        failed = describe(failure, self.timeout)
        page = failure.request.meta.get("page", 1)
        if page == 1:
            snap = self.snapshot
            snap.http_status, snap.final_url, snap.page_bytes = failed.http_status, failed.final_url, failed.page_bytes
        self.entry_page_failed(page, failed.text, url=failure.request.url)

    def entry_page_failed(self, page: int, message: str, url: str | None = None) -> None:
        if page == 1:
            self.snapshot.error = message
            self.report.entry_failed(f"{url or self.section.url}: {message}")
        else:
            self.report.article_failed(url or f"{self.kind} page {page}", message)

    def links_of(self, response: TextResponse) -> list[str]:
        raise NotImplementedError

    def next_url(self, response: TextResponse, found: list[str]) -> str | None:
        return None

    # -- articles ----------------------------------------------------------------------------------
    def follow(self, urls: list[str]):
        """Request the article links not stored yet (all of them with --refetch)."""
        urls = [u for u in urls if u not in self.followed]
        self.followed.update(urls)
        self.report.links_found += len(urls)
        canonical = {u: canonicalize_url(u) for u in urls}
        known = set() if self.run.refetch else store.known_urls(self.db, list(canonical.values()))
        fresh = [u for u in urls if canonical[u] not in known]
        self.claimed.update(canonical[u] for u in fresh)
        self.report.new += len(fresh)
        for url in fresh:
            yield scrapy.Request(url, callback=self.on_article, errback=self.on_article_error,
                                 meta={"link": url})

    def on_article(self, response):
        link = response.meta["link"]
        page, problem = self.article_page(link, response)
        if problem:
            self.report.article_failed(link, problem)
            return
        yield {"page": page}

    def article_page(self, link: str, response) -> tuple[store.FetchedPage | None, str | None]:
        """The response as a ``FetchedPage`` (charset lies corrected), or why it is not an article page."""
        if not isinstance(response, TextResponse):
            content_type = response.headers.get("Content-Type", b"?").decode("latin-1")
            return None, f"not an HTML page ({content_type})"
        if not response.body.strip():
            return None, "empty body"
        response = self.decoded(response)
        etag, last_modified = conditional.validators_of(response.headers)
        return store.FetchedPage(self.section, link, response.url, response.body, response.text,
                                 response.encoding, utc_now(), etag, last_modified), None

    async def fetch_page(self, url: str) -> store.FetchedPage:
        """Another page of an article (a further page, or the first page of a further page linked on its
        own), fetched like any request of this crawl: robots.txt, User-Agent, retries and redirects
        (downloader middlewares) and the site's politeness slot. Raises ``PageFetchFailed`` saying why."""
        request = scrapy.Request(url, dont_filter=True)
        try:
            response = await self.crawler.engine.download_async(request)
        except Exception as exc:  # the download failed: say why in the words the errbacks use
            failure = Failure(exc)
            failure.request = request
            raise PageFetchFailed(describe(failure, self.timeout).text) from None
        if not 200 <= response.status < 300:
            raise PageFetchFailed(f"HTTP {response.status}")
        page, problem = self.article_page(url, response)
        if problem:
            raise PageFetchFailed(problem)
        return page

    def claim(self, url: str) -> bool:
        """Take on the article whose first page is ``url``: False when this crawl already fetches it or
        it is stored (with --refetch: only when this crawl already fetches it)."""
        canonical = canonicalize_url(url)
        if canonical in self.claimed or (not self.run.refetch and store.known_urls(self.db, [canonical])):
            return False
        self.claimed.add(canonical)
        return True

    def on_article_error(self, failure):
        self.report.article_failed(failure.request.meta.get("link", failure.request.url),
                                   describe(failure, self.timeout).text)

    def decoded(self, response: TextResponse) -> TextResponse:
        better, note = best_response(response)
        if note:
            log.warning("%s: %s: %s", self.section.key, response.url, note)
        return better

    # -- end ---------------------------------------------------------------------------------------
    def closed(self, reason: str) -> None:
        try:
            snapshots.write_snapshot(self.db, self.run.run_id, self.snapshot)
        except (OSError, sqlite3.Error) as exc:     # a full disk: the run ends saying so, once
            (log.debug if store.storage_failure() else log.error)(
                "%s: the section's snapshot could not be recorded: %s", self.section.key, exc)
        finally:
            self.report.finish()
            self.db.close()
            self.run.close()


def find_section(config_path: str | None, key: str) -> Section:
    """The section ``source/section`` of the config (for ``scrapy crawl <kind> -a section=KEY``)."""
    config = load_config(Path(config_path) if config_path else None)
    for section in config.sections:
        if section.key == key:
            return section
    raise ConfigError(f"unknown section {key!r} (see `newsmon sources list`)")
