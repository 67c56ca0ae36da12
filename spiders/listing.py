"""A listing page: article links by the section's CSS/XPath selector and/or URL regex; follows the
``next_css`` link up to ``max_pages`` pages. An href the rule picks that is no http(s) link (``mailto:``,
``javascript:``) is named as a skipped link."""

from __future__ import annotations

from crawler.crawl import links
from spiders._base import SectionSpider


class ListingSpider(SectionSpider):
    name = "listing"
    kind = "listing"

    def links_of(self, response) -> list[str]:
        found = links.read_listing(response.text, response.url, self.section)
        self.skip_not_http(found.not_http)
        return found.urls

    def next_url(self, response, found) -> str | None:
        return links.next_page(response.text, response.url, self.section.next_css)
