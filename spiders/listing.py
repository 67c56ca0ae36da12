"""A listing page: article links by the section's CSS/XPath selector and/or URL regex; follows the
``next_css`` link up to ``max_pages`` pages."""

from __future__ import annotations

from crawler.crawl import links
from spiders._base import SectionSpider


class ListingSpider(SectionSpider):
    name = "listing"
    kind = "listing"

    def links_of(self, response) -> list[str]:
        return links.listing_links(response.text, response.url, self.section)

    def next_url(self, response, found) -> str | None:
        return links.next_page(response.text, response.url, self.section.next_css)
