"""How newsmon treats a site, stated once for its two HTTP stacks: the Scrapy crawl and the article re-checks
(``crawler.lifecycle.fetch.PoliteFetcher``: urllib, on threads, after the crawl).

Both read the cycle's settings (``crawler.crawl.settings.for_config``: the module's defaults, then the
``[crawler]`` table, over Scrapy's own defaults): the User-Agent and the other default request headers, the delay
between two requests to a host, the timeout, whether robots.txt is obeyed, the largest page accepted, and the
robots.txt parser (Scrapy's ``ROBOTSTXT_PARSER``, Protego), and how proxy credentials are encoded. A page one
stack may fetch the other may too: a re-check refused where the crawl was allowed would never see that article's
edits or deletion. A section's ``download_delay`` overrides the delay for its own crawl
(``crawler.runner.spider_class``) and for the re-checks of its host (``recheck.host_delays``).

The delay is a minimum gap between two requests to a host, kept across both stacks and every crawler of the
cycle by one per-host registry (``crawler.crawl.gaps``); its randomisation only lengthens a gap. A section's
``proxy`` carries its requests in both stacks (``crawler.crawl.proxies``).
"""

from __future__ import annotations

from dataclasses import dataclass

from scrapy.robotstxt import RobotParser
from scrapy.settings import BaseSettings, Settings
from scrapy.utils.misc import load_object

from crawler.crawl.settings import for_config


@dataclass(frozen=True)
class Politeness:
    user_agent: str
    delay: float  # the least seconds between two requests to one host
    timeout: float  # seconds
    obey_robots: bool
    max_bytes: int  # a larger page is refused whole (as Scrapy cancels it), never cut short
    robots_agent: str  # the name robots.txt groups are matched against
    robots_parser: str  # dotted path of a ``scrapy.robotstxt.RobotParser``
    # Scrapy's other headers (Accept, Accept-Language): a page negotiated on them must not differ between stacks.
    headers: tuple[tuple[str, str], ...]
    proxy_auth_encoding: str = "latin-1"  # a proxy's user:password as bytes (Scrapy's HTTPPROXY_AUTH_ENCODING)

    @classmethod
    def of_settings(cls, settings: BaseSettings) -> Politeness:
        """The politeness of Scrapy ``settings``, read as Scrapy's downloader and middlewares read them."""
        agent = settings.get("USER_AGENT")
        return cls(
            user_agent=agent,
            delay=settings.getfloat("DOWNLOAD_DELAY"),
            timeout=settings.getfloat("DOWNLOAD_TIMEOUT"),
            obey_robots=settings.getbool("ROBOTSTXT_OBEY"),
            max_bytes=settings.getint("DOWNLOAD_MAXSIZE"),
            # RobotsTxtMiddleware: ROBOTSTXT_USER_AGENT when set, else the request's User-Agent
            robots_agent=settings.get("ROBOTSTXT_USER_AGENT") or agent,
            robots_parser=settings.get("ROBOTSTXT_PARSER"),
            headers=tuple(settings.getdict("DEFAULT_REQUEST_HEADERS").items()),
            proxy_auth_encoding=settings.get("HTTPPROXY_AUTH_ENCODING") or "latin-1",
        )

    def robots(self, body: bytes) -> RobotParser:
        """A robots.txt body parsed by the crawl's parser class; ``.allowed(url, self.robots_agent)``."""
        return load_object(self.robots_parser).from_crawler(None, body)


def politeness_of(config) -> Politeness:
    """The politeness a cycle run with ``config`` crawls with (a bad ``[crawler]`` key is a ConfigError)."""
    return Politeness.of_settings(Settings(for_config(config)))
