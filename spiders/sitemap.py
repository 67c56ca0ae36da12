"""A sitemap: article URLs of a ``urlset``, filtered by the section's URL regex; a ``sitemapindex`` is
followed into its child sitemaps (``max_pages`` sitemaps in all, in index order)."""

from __future__ import annotations

import gzip

from scrapy.http import XmlResponse

from crawler.crawl import links
from spiders._base import SectionSpider


class SitemapSpider(SectionSpider):
    name = "sitemap"
    kind = "sitemap"

    def on_entry(self, response):
        if response.body[:2] == b"\x1f\x8b":       # sitemap.xml.gz served as-is
            response = XmlResponse(response.url, status=response.status, headers=response.headers,
                                   body=gzip.decompress(response.body), request=response.request)
        yield from super().on_entry(response)

    def links_of(self, response) -> list[str]:
        kind, locs = links.sitemap_urls(response.text, response.url)
        if kind == "sitemapindex":
            self.child_sitemaps = locs
            return []
        return links.matches_pattern(locs, self.section.link_pattern)

    def next_url(self, response, found) -> str | None:
        children = getattr(self, "child_sitemaps", [])
        return children.pop(0) if children else None
