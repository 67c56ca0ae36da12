"""What every section spider shares: the entry-point request (conditional GET), the snapshot row, the
errbacks that record failures, following the article links, and fetching the further pages of an article
for the extraction pipeline (``fetch_page``). Subclasses only say how links are read from their kind of
entry point (``links_of``) and what the next entry page is (``next_url``).

Every link a section finds ends counted in its report (``crawler.crawl.report``): an item, a failed page, or a
skipped one with its reason. The spider decides the skips before a request exists: a link off the section's
site, longer than ``URLLENGTH_LIMIT``, not http(s), or past the section's ``max_links``. What Scrapy drops after
that (its duplicate filter: a redirect loop, a redirect to a page already requested) reaches ``on_dropped``
through the ``request_dropped`` signal. Every request carries the section's ``max_page_bytes`` as Scrapy's
``download_maxsize`` meta, which the download handler and the decompression middleware both obey.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

import scrapy
from scrapy import signals
from scrapy.http import TextResponse
from twisted.python.failure import Failure

from crawler import state
from crawler.config import Section, load_config
from crawler.crawl import conditional, links, snapshots, store
from crawler.crawl import context as runner_context
from crawler.crawl.charset import best_response
from crawler.crawl.fetcherrors import PageFetchFailed, describe
from crawler.crawl.report import SKIPS_NAMED, SectionReport, short
from crawler.exceptions import ConfigError
from crawler.extract import analysis
from crawler.items import canonicalize_url, utc_now
from crawler.lifecycle.machine import RULE_ERROR

log = logging.getLogger(__name__)

# Scrapy's own warnings about a page it refuses (past DOWNLOAD_MAXSIZE as sent or as inflated, or cut short) say
# again what the errback reports as that page's one line; they show at -vv.
SCRAPY_REPEATS = ("scrapy.core.downloader.handlers.http11", "scrapy.downloadermiddlewares.httpcompression")
# A body starting so is no HTML page whatever its Content-Type says.
BINARY_MAGIC = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"GIF8", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"PK\x03\x04", "a ZIP archive"),
)
# Content-Types that are never an article page (Scrapy may still build a TextResponse for them from the body).
BINARY_TYPES = (
    "image/",
    "audio/",
    "video/",
    "font/",
    "application/pdf",
    "application/zip",
    "application/msword",
    "application/vnd.",
    "application/x-shockwave-flash",
)


def quiet_scrapy_repeats() -> None:
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        for name in SCRAPY_REPEATS:
            logging.getLogger(name).setLevel(logging.ERROR)


class SectionSpider(scrapy.Spider):
    kind = ""  # listing | feed | sitemap

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
        crawler.signals.connect(spider.on_dropped, signal=signals.request_dropped)
        quiet_scrapy_repeats()
        return spider

    def setup(self, settings) -> None:
        """Resolve the section and the run this crawl belongs to (``scrapy crawl`` opens its own run)."""
        if isinstance(self.section, str):
            self.section = find_section(
                settings.get("NEWSMON_CONFIG") or os.environ.get("NEWSMON_CONFIG"), self.section
            )
        if self.section.kind != self.kind:
            raise ConfigError(f"section {self.section.key} is a {self.section.kind}, not a {self.kind}")
        self.report = self.report or SectionReport(self.section.key)
        self.run = runner_context.from_settings(settings)
        self.timeout = settings.getfloat("DOWNLOAD_TIMEOUT")
        self.db = state.connect(self.run.output_dir)
        self.snapshot = snapshots.Snapshot(self.section.key, self.section.url, self.section.link_rule())
        self.followed: set[str] = set()
        self.claimed: set[str] = set()  # canonical URLs of the articles this crawl fetches
        self.entry_pages: set[str] = {self.section.url}
        self.max_page_bytes = self.section.max_page_bytes or settings.getint("DOWNLOAD_MAXSIZE")
        self.max_links = self.section.max_links or settings.getint("NEWSMON_MAX_LINKS")
        self.url_limit = settings.getint("URLLENGTH_LIMIT")
        # The section's site (its entry point's registered domain; the one it redirects to as well): a link
        # elsewhere is no article of this section, and another site gets no request paced by this crawl's slot.
        self.sites = {links.site_of(self.section.url)}
        self.requested = 0  # article links requested, against max_links
        self.beyond_max_links: list[str] = []

    def limits(self) -> dict:
        """Request meta: the section's largest page, obeyed by Scrapy as it downloads and as it decompresses
        (its warning size equal: a page is kept whole or refused, and the refusal is the page's one line)."""
        return {"download_maxsize": self.max_page_bytes, "download_warnsize": self.max_page_bytes}

    # -- entry point -------------------------------------------------------------------------------
    async def start(self):
        yield self.entry_request(self.section.url, page=1)

    def entry_request(self, url: str, page: int) -> scrapy.Request:
        # Only the first page is asked conditionally: a 304 carries the previous run's links of *all*
        # pages over, while a 304 on page 2 alone could not say which links were on it.
        # An edited link rule (or a first run) needs the full page, not a 304.
        conditional_get = page == 1 and snapshots.same_rule_as_last_time(
            self.db, self.section.key, self.section.link_rule()
        )
        headers = conditional.request_headers(self.db, url) if conditional_get else {}
        return scrapy.Request(
            url,
            headers=headers,
            callback=self.on_entry,
            errback=self.on_entry_error,
            dont_filter=True,
            meta={"page": page, "handle_httpstatus_list": [304], **self.limits()},
        )

    def on_entry(self, response):
        page = response.meta["page"]
        self.note_entry_response(response)
        if response.status == 304:
            if page == 1:  # same as last run: carry its links over (they are known, so no request)
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
        except links.BadLinkRule as exc:  # the rule, not the page: the section is in error until it is fixed
            self.entry_page_failed(page, f"{RULE_ERROR}: {exc}")
            return
        self.snapshot.add_links(found)
        yield from self.follow(found)
        try:
            yield from self.entry_pages_after(response, found, page)
        except links.BadLinkRule as exc:
            self.entry_page_failed(page, f"{RULE_ERROR}: {exc}")

    def note_entry_response(self, response) -> None:
        """The first entry page's answer, for the snapshot row (whatever its body turns out to be)."""
        if response.meta["page"] == 1:
            self.snapshot.http_status, self.snapshot.final_url = response.status, response.url
            self.snapshot.page_bytes = len(response.body)
            self.sites.add(links.site_of(response.url))  # a section moved to a new domain: its links there

    def entry_pages_after(self, response, found: list[str], page: int):
        """Requests for the entry pages to read after this one: the next page, up to ``max_pages``."""
        next_url = self.next_url(response, found)
        if next_url and page < self.section.max_pages and next_url not in self.entry_pages:
            self.entry_pages.add(next_url)  # a "next" link back to a read page ends the walk
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
        """Request the article links not stored yet (all of them with --refetch), up to ``max_links`` in all;
        a link off the section's site or longer than Scrapy's URL limit is skipped, saying so."""
        urls = [u for u in urls if u not in self.followed]
        self.followed.update(urls)
        self.report.links_found += len(urls)
        urls = self.worth_a_request(urls)
        canonical = {u: canonicalize_url(u) for u in urls}
        known = set() if self.run.refetch else store.known_urls(self.db, list(canonical.values()))
        fresh = [u for u in urls if canonical[u] not in known]
        self.report.new += len(fresh)
        room = max(self.max_links - self.requested, 0)
        self.beyond_max_links += fresh[room:]  # named in one line when the crawl ends; a later run takes them
        fresh = fresh[:room]
        self.requested += len(fresh)
        analysis.expect(len(fresh))
        self.claimed.update(canonical[u] for u in fresh)
        for url in fresh:
            yield scrapy.Request(
                url, callback=self.on_article, errback=self.on_article_error, meta={"link": url, **self.limits()}
            )

    def worth_a_request(self, urls: list[str]) -> list[str]:
        """``urls`` but those too long (Scrapy's UrlLengthMiddleware would drop them with an INFO line only) or
        off the section's site, which are named as skipped: one line per reason."""
        too_long = [u for u in urls if len(u) > self.url_limit]
        self.report.links_skipped(too_long, "too-long", f"URL longer than {self.url_limit} characters")
        urls = [u for u in urls if len(u) <= self.url_limit]
        off_site = [u for u in urls if links.site_of(u) not in self.sites]
        if off_site:
            hosts = sorted({links.site_of(u) for u in off_site})
            shown = ", ".join(hosts[:SKIPS_NAMED]) + (" …" if len(hosts) > SKIPS_NAMED else "")
            self.report.links_skipped(
                off_site,
                "off-site",
                f"off-site link ({shown}; the section's site is {' or '.join(sorted(self.sites))})",
            )
        return [u for u in urls if links.site_of(u) in self.sites]

    def skip_not_http(self, hrefs: list[str]) -> None:
        """The rule picked these hrefs, but they are no http(s) links (``mailto:``, ``javascript:``)."""
        hrefs = [h for h in hrefs if h not in self.followed]
        self.followed.update(hrefs)
        self.report.links_skipped(hrefs, "not-http", "not an http(s) link")

    def on_dropped(self, request, **_signal) -> None:
        """Scrapy's scheduler refused ``request`` (``request_dropped``): its duplicate filter had seen the URL
        in this crawl. After a redirect that is a loop (the chain comes back to one of its own URLs: the page
        is lost) or another link's page (which is counted as that link); else a link written two ways."""
        link = request.meta.get("link") or request.url
        chain = list(request.meta.get("redirect_urls", []))
        if request.url in chain:
            loop = " → ".join(short(u) for u in [*chain[chain.index(request.url) :], request.url])
            if "page" in request.meta and "link" not in request.meta:
                self.entry_page_failed(request.meta["page"], f"redirect loop: {loop}", url=chain[0])
            else:
                self.report.article_failed(link, f"redirect loop: {loop}")
        elif chain:
            self.report.link_skipped(
                link, "duplicate", f"redirected to {short(request.url)}: the same page as another link of this crawl"
            )
        else:
            self.report.link_skipped(link, "duplicate", "the same page as another link of this crawl")

    def on_article(self, response):
        link = response.meta["link"]
        page, problem = self.article_page(link, response)
        if problem:
            self.report.article_failed(link, problem)
            return
        yield {"page": page}

    def article_page(self, link: str, response) -> tuple[store.FetchedPage | None, str | None]:
        """The response as a ``FetchedPage`` (charset lies corrected), or why it is not an article page."""
        content_type = response.headers.get("Content-Type", b"").decode("latin-1").split(";")[0].strip().lower()
        if content_type.startswith(BINARY_TYPES):
            return None, f"not an HTML page ({content_type})"
        for magic, what in BINARY_MAGIC:
            if response.body.startswith(magic):
                return None, f"not an HTML page ({what}, served as {content_type or 'no Content-Type'})"
        if not isinstance(response, TextResponse):
            return None, f"not an HTML page ({content_type or '?'})"
        if not response.body.strip():
            return None, "empty body"
        response = self.decoded(response)
        etag, last_modified = conditional.validators_of(response.headers)
        return store.FetchedPage(
            self.section,
            link,
            response.url,
            response.body,
            response.text,
            response.encoding,
            utc_now(),
            etag,
            last_modified,
        ), None

    async def fetch_page(self, url: str) -> store.FetchedPage:
        """Another page of an article (a further page, or the first page of a further page linked on its
        own), fetched like any request of this crawl: robots.txt, User-Agent, retries and redirects
        (downloader middlewares) and the site's politeness slot. Raises ``PageFetchFailed`` saying why."""
        request = scrapy.Request(url, dont_filter=True, meta=self.limits())
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
        self.report.article_failed(
            failure.request.meta.get("link", failure.request.url), describe(failure, self.timeout).text
        )

    def decoded(self, response: TextResponse) -> TextResponse:
        better, note = best_response(response)
        if note:
            log.warning("%s: %s: %s", self.section.key, response.url, note)
        return better

    # -- end ---------------------------------------------------------------------------------------
    def account_for_unfollowed(self) -> None:
        """When the crawl ends: the links left for a later run (past ``max_links``) in one line."""
        self.report.links_skipped(self.beyond_max_links, "max_links", f"beyond max_links = {self.max_links}")

    def closed(self, reason: str) -> None:
        self.account_for_unfollowed()
        try:
            snapshots.write_snapshot(self.db, self.run.run_id, self.snapshot)
        except (OSError, sqlite3.Error) as exc:  # a full disk: the run ends saying so, once
            (log.debug if store.storage_failure() else log.error)(
                "%s: the section's snapshot could not be recorded: %s", self.section.key, exc
            )
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
