"""robots.txt fetched once per host per cycle, not once per section.

Each section is crawled by a crawler of its own (``crawler.runner.crawl``), and Scrapy's
``RobotsTxtMiddleware`` keeps its parsers per crawler: the four Kremlin sections would each fetch
kremlin.ru/robots.txt, each time behind the host's download delay. This middleware shares the parsed
file between the crawlers of one process. One process runs one cycle (Twisted's reactor cannot be
restarted), so the cache lives exactly as long as the cycle.
"""

from __future__ import annotations

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.http import Request
from scrapy.robotstxt import RobotParser
from scrapy.utils.httpobj import urlparse_cached

# netloc → parser (None: no usable robots.txt, everything allowed), shared by the cycle's crawlers.
PARSED: dict[str, RobotParser | None] = {}


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        if netloc in PARSED:
            return PARSED[netloc]
        parser = await super().robot_parser(request)
        PARSED[netloc] = parser
        return parser
