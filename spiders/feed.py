"""An RSS or Atom feed (legacy-encoded ones included: Scrapy decodes by the XML declaration, gb2312 as
GB18030); the section's URL regex, if any, filters the entry links; ``max_pages`` > 1 follows the feed's
``<link rel="next">`` (the Kremlin's feed/page/N)."""

from __future__ import annotations

from crawler.crawl import links
from spiders._base import SectionSpider


class FeedSpider(SectionSpider):
    name = "feed"
    kind = "feed"

    def links_of(self, response) -> list[str]:
        return links.feed_links(response.text, response.url, self.section)

    def next_url(self, response, found) -> str | None:
        return links.feed_next_page(response.text, response.url)
