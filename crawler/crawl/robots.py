"""robots.txt fetched once per host per cycle, not once per section.

Each section is crawled by a crawler of its own (``crawler.runner.crawl``), and Scrapy's
``RobotsTxtMiddleware`` keeps its parsers per crawler: the four Kremlin sections would each fetch
kremlin.ru/robots.txt, each time behind the host's download delay. This middleware shares the parsed
file between the crawlers of one process. One process runs one cycle (Twisted's reactor cannot be
restarted), so the cache lives exactly as long as the cycle. A host reached through a section's proxy
(``crawler.crawl.proxies``) may answer differently than reached directly: the file is kept per host and route.
"""

from __future__ import annotations

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.http import Request
from scrapy.robotstxt import RobotParser
from scrapy.utils.httpobj import urlparse_cached

from crawler.crawl.proxies import route_of

# (netloc, proxy route or None) → parser (None: no usable robots.txt, everything allowed), shared by the
# cycle's crawlers.
PARSED: dict[tuple[str, str | None], RobotParser | None] = {}


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    async def robot_parser(self, request: Request) -> RobotParser | None:
        key = (urlparse_cached(request).netloc, route_of(request.meta.get("proxy")))
        if key in PARSED:
            return PARSED[key]
        parser = await super().robot_parser(request)
        PARSED[key] = parser
        return parser
