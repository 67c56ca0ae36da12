"""An RSS or Atom feed (legacy-encoded ones included: Scrapy decodes by the XML declaration, gb2312 as
GB18030), read by feedparser's tolerant parser (``crawler.crawl.links.read_feed``); the section's URL regex,
if any, filters the entry links; ``max_pages`` > 1 follows the feed's ``<link rel="next">`` (the Kremlin's
feed/page/N).

Each entry's date rides with its article request (``meta["listed_published_at"]``) to the item
(``item["listed_published_at"]``): the extraction pipeline takes it as ``published_at`` when the article
page itself gives no date."""

from __future__ import annotations

import logging

from crawler.crawl import links
from spiders._base import SectionSpider

log = logging.getLogger(__name__)

LISTED_DATE = "listed_published_at"


class FeedSpider(SectionSpider):
    name = "feed"
    kind = "feed"

    def setup(self, settings) -> None:
        super().setup(settings)
        self.listed_dates: dict[str, str] = {}  # article link → its entry's date, first entry wins

    def links_of(self, response) -> list[str]:
        feed = links.read_feed(response.text, response.url)
        if feed.repaired:  # said once per run in the log file: the feed is served broken, yet read
            log.info(
                "%s: %s is not well-formed XML (%s); read tolerantly: %d entries",
                self.section.key,
                response.url,
                feed.repaired,
                len(feed.entries),
            )
        for entry in feed.entries:
            if entry.published:
                self.listed_dates.setdefault(entry.url, entry.published)
        return links.feed_links(response.text, response.url, self.section)

    def next_url(self, response, found) -> str | None:
        return links.feed_next_page(response.text, response.url)

    def follow(self, urls: list[str]):
        for request in super().follow(urls):
            if self.listed_dates.get(request.meta.get("link")):
                request.meta[LISTED_DATE] = self.listed_dates[request.meta["link"]]
            yield request

    def on_article(self, response):
        for item in super().on_article(response):
            if response.meta.get(LISTED_DATE):
                item[LISTED_DATE] = response.meta[LISTED_DATE]
            yield item
