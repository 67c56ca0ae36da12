"""A sitemap: article URLs of a ``urlset``, filtered by the section's URL regex. A ``sitemapindex`` is walked
breadth first: each index's children are requested as it is read, nested indexes included, until the section's
``max_pages`` sitemaps (the first index counted) are requested; the ones past that are named in one line as
skipped. A sitemap an index lists again is not read twice: when it is one of the index's own ancestors (a loop)
and no sitemap of article URLs was reachable at all, the section fails saying so; else the repeat is named as
skipped.

A ``.xml.gz`` served as is (no Content-Encoding: Scrapy leaves it) is inflated here, no further than the
section's ``max_page_bytes``: a gzip bomb costs that much memory, not what it would inflate to.
"""

from __future__ import annotations

import struct
import zlib

from scrapy.http import XmlResponse
from scrapy.utils.gz import gunzip

from crawler.crawl import links
from crawler.crawl.fetcherrors import size_words
from spiders._base import SectionSpider

try:  # Scrapy's own (private) class for "inflated past max_size"; a ValueError, whatever its name becomes
    from scrapy.utils._compression import _DecompressionMaxSizeExceeded as TooLarge
except ImportError:  # pragma: no cover
    TooLarge = ValueError


class SitemapSpider(SectionSpider):
    name = "sitemap"
    kind = "sitemap"

    def setup(self, settings) -> None:
        super().setup(settings)
        self.listed_by: dict[str, str] = {}  # sitemap URL → the index that listed it
        self.urlsets = 0  # sitemaps of article URLs read
        self.children: list[str] = []  # the sitemaps the index just read lists
        self.listed_again: list[tuple[str, str]] = []  # (index, a sitemap it lists that was requested already)
        self.beyond_max_pages: list[str] = []

    def on_entry(self, response):
        if response.body[:2] == b"\x1f\x8b":  # sitemap.xml.gz served as-is
            try:
                body = gunzip(response.body, max_size=self.max_page_bytes)
            except TooLarge:
                problem = f"larger than {size_words(self.max_page_bytes)} once decompressed"
            except (OSError, EOFError, struct.error, zlib.error) as exc:
                problem = f"not a readable gzip file ({exc})"
            else:
                problem = None
            if problem:
                self.note_entry_response(response)
                self.entry_page_failed(response.meta["page"], problem, url=response.url)
                return
            response = XmlResponse(
                response.url, status=response.status, headers=response.headers, body=body, request=response.request
            )
        yield from super().on_entry(response)

    def links_of(self, response) -> list[str]:
        kind, found = links.read_sitemap(response.text, response.url)
        self.skip_not_http(found.not_http)
        if kind == "sitemapindex":
            self.children = found.urls
            return []
        self.urlsets += 1
        return links.matches_pattern(found.urls, self.section.link_pattern)

    def entry_pages_after(self, response, found, page):
        """Every child of the index just read, while the section's ``max_pages`` allows."""
        index = requested_url(response)
        children, self.children = self.children, []
        for child in children:
            if child in self.entry_pages:
                self.listed_again.append((index, child))
            elif len(self.entry_pages) < self.section.max_pages:
                self.entry_pages.add(child)
                self.listed_by[child] = index
                yield self.entry_request(child, len(self.entry_pages))
            else:
                self.beyond_max_pages.append(child)

    def ancestors(self, url: str) -> list[str]:
        """The indexes above ``url``, nearest first."""
        out: list[str] = []
        while url in self.listed_by and url not in out:
            url = self.listed_by[url]
            out.append(url)
        return out

    def account_for_unfollowed(self) -> None:
        super().account_for_unfollowed()
        self.report.links_skipped(
            self.beyond_max_pages, "max_pages", f"a sitemap beyond max_pages = {self.section.max_pages}"
        )
        loops = [
            (index, child) for index, child in self.listed_again if child == index or child in self.ancestors(index)
        ]
        if loops and not self.urlsets and not self.report.entry_error:
            index, child = loops[0]
            self.entry_page_failed(
                1,
                f"the sitemap index loops back ({index} lists {child}, already read): "
                f"no sitemap of article URLs reached",
            )
            loops = []
        for index, child in self.listed_again:
            if (index, child) in loops:
                self.report.link_skipped(
                    child, "sitemap-loop", f"listed again by {index}, an index below it (a loop): read once"
                )
            elif child != index and child not in self.ancestors(index):
                self.report.link_skipped(child, "duplicate", f"listed again by {index}: read once")


def requested_url(response) -> str:
    """The URL the spider asked for (a redirected sitemap answers from another)."""
    return (response.meta.get("redirect_urls") or [response.url])[0]
