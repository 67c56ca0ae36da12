"""A small polite HTTP fetcher for work outside Scrapy (article re-checks), with the crawl's politeness
(``crawler.crawl.politeness``: its User-Agent and request headers, delay, timeout, robots.txt switch and parser,
largest page) and conditional GET. Blocking, and not meant to be shared between threads:
``crawler.lifecycle.hostpool`` gives each host thread its own fetcher, while several hosts are fetched side by side.

Each request waits its turn at the cycle's per-host registry (``crawler.crawl.gaps.GAPS``), as every request of
the crawl does: one request at a time per host, and at least the host's delay (lengthened by the randomisation,
never shortened) since the host's last request — this fetcher's, another fetcher's, or the crawl's. The delay is
``delays[netloc]`` when given (the re-checks pass each host's section ``download_delay``), else the politeness
delay. Every redirect hop is a request like any other: its target's robots.txt is obeyed (a forbidden hop ends
the fetch with "forbidden by robots.txt": nothing is concluded) and it waits its turn at its target host (urllib
would follow it at once, to a host that may have just been asked). robots.txt itself, and its redirects, are
fetched without asking robots.txt, as Scrapy fetches it. A page larger than its largest size — ``page_limits[url]``
when given (the re-checks pass each page's section ``max_page_bytes``), else the politeness ``max_bytes`` — is an
answer-less error, as Scrapy cancels it: cut short, it would read as an edit.

A 429 or 503 answer's ``Retry-After`` holds the host for every client of the cycle (``GAPS.hold``): the host's next
request waits it out, or, when it asks for longer than a run waits, fails at once without being sent
("… asked for no request before …": nothing is concluded).

``get(..., proxy=URL)`` sends the request, its redirect hops and the robots.txt it needs through that proxy (a
section's ``proxy``, ``crawler.crawl.proxies.ProxyThrough``); robots.txt is read per host and route.
"""

from __future__ import annotations

import logging
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from scrapy.robotstxt import RobotParser

from crawler.crawl.charset import decode as decode_body
from crawler.crawl.gaps import GAPS, RETRY_AFTER_STATUSES, HostHeld, host_of, retry_after_seconds
from crawler.crawl.politeness import Politeness
from crawler.crawl.proxies import ProxyThrough, route_of

log = logging.getLogger(__name__)


@dataclass
class Fetched:
    url: str
    status: int | None  # None: no response (DNS, refused, timeout, robots)
    final_url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None
    further: list[Fetched] = field(default_factory=list)  # the article's further pages (hostpool Job.further)


def decode(got: Fetched) -> tuple[str, str]:
    """The page's text and encoding, decoded as the crawl decodes (``crawler.crawl.charset.decode``)."""
    return decode_body(got.body, got.final_url or got.url, got.headers.get("Content-Type", "text/html"))


class PoliteFetcher:
    def __init__(
        self, politeness: Politeness, delays: dict[str, float] | None = None, page_limits: dict[str, int] | None = None
    ):
        self.politeness = politeness
        self.delays = {host.lower(): seconds for host, seconds in (delays or {}).items()}
        self.page_limits = dict(page_limits or {})  # URL → largest page in bytes (its section's)
        self._robots: dict[tuple[str, str | None], RobotParser | None] = {}  # (origin, proxy route) → parser
        self._openers: dict[str | None, urllib.request.OpenerDirector] = {}  # proxy (None: direct) → opener
        self._holding: str | None = None  # the host whose turn this fetcher has (request in flight)

    def delay_of(self, host: str) -> float:
        return self.delays.get(host.lower(), self.politeness.delay)

    def get(
        self, url: str, etag: str | None = None, last_modified: str | None = None, proxy: str | None = None
    ) -> Fetched:
        if self.politeness.obey_robots and not self.allowed(url, proxy):
            return Fetched(url, None, error="forbidden by robots.txt")
        headers = self._headers()
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return self._open(url, headers, proxy=proxy, max_bytes=self.page_limits.get(url))

    def allowed(self, url: str, proxy: str | None = None) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        key = (origin, route_of(proxy))
        if key not in self._robots:
            self._robots[key] = self._load_robots(origin, proxy)
        parser = self._robots[key]
        return parser is None or parser.allowed(url, self.politeness.robots_agent)

    def _load_robots(self, origin: str, proxy: str | None) -> RobotParser | None:
        got = self._open(f"{origin}/robots.txt", self._headers(), obey_robots=False, proxy=proxy)
        if got.status != 200:  # no robots.txt (or unreachable): everything is allowed, as in Scrapy
            return None
        return self.politeness.robots(got.body)

    def _headers(self) -> dict[str, str]:
        return {**dict(self.politeness.headers), "User-Agent": self.politeness.user_agent}

    def _opener(self, proxy: str | None) -> urllib.request.OpenerDirector:
        if proxy not in self._openers:
            through = [ProxyThrough(proxy, self.politeness.proxy_auth_encoding)] if proxy else []
            self._openers[proxy] = urllib.request.build_opener(_PoliteRedirects(self), *through)
        return self._openers[proxy]

    def _take_turn(self, url: str) -> None:
        """Wait until the registry lets a request to ``url``'s host go; this fetcher has that host's turn
        until ``_end_turn`` (its answer is read, or it redirected elsewhere)."""
        self._end_turn()
        host = host_of(url)
        GAPS.wait(host, self.delay_of(host))
        self._holding = host

    def _honour_retry_after(self, url: str, status: int, headers) -> None:
        if status in RETRY_AFTER_STATUSES:
            seconds = retry_after_seconds(headers.get("Retry-After"))
            if seconds is not None:
                GAPS.hold(host_of(url), seconds)

    def _end_turn(self) -> None:
        if self._holding is not None:
            GAPS.done(self._holding)
            self._holding = None

    def _open(
        self,
        url: str,
        headers: dict[str, str],
        obey_robots: bool = True,
        proxy: str | None = None,
        max_bytes: int | None = None,
    ) -> Fetched:
        request = urllib.request.Request(url, headers=headers)
        request.obey_robots = obey_robots  # read by _PoliteRedirects for each hop
        request.section_proxy = proxy
        timeout = self.politeness.timeout
        max_bytes = max_bytes or self.politeness.max_bytes
        try:
            self._take_turn(url)
        except HostHeld as exc:
            return Fetched(url, None, error=str(exc))
        try:
            with self._opener(proxy).open(request, timeout=timeout) as resp:
                body = _read_at_most(resp, max_bytes)
                if body is None:
                    return Fetched(
                        url,
                        None,
                        resp.geturl(),
                        dict(resp.headers.items()),
                        error=f"page larger than {max_bytes} bytes",
                    )
                return Fetched(url, resp.status, resp.geturl(), dict(resp.headers.items()), body)
        except urllib.error.HTTPError as exc:
            with exc:
                self._honour_retry_after(exc.geturl() or url, exc.code, exc.headers)
                return Fetched(url, exc.code, exc.geturl() or url, dict(exc.headers.items()), b"", f"HTTP {exc.code}")
        except TimeoutError:
            return Fetched(url, None, error=f"timeout after {timeout:g} s")
        except (RobotsForbidden, HostHeldHop) as exc:
            return Fetched(url, None, error=str(exc.reason))
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, socket.gaierror):
                return Fetched(url, None, error=f"DNS lookup failed for {urlsplit(url).hostname}")
            return Fetched(url, None, error=f"{type(reason).__name__}: {reason}")
        except (OSError, ValueError) as exc:
            return Fetched(url, None, error=f"{type(exc).__name__}: {exc}")
        finally:
            self._end_turn()


def _read_at_most(resp, max_bytes: int) -> bytes | None:
    """The body, or None when it is larger than ``max_bytes`` (told by Content-Length before reading)."""
    declared = resp.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return None
    body = resp.read(max_bytes + 1)
    return None if len(body) > max_bytes else body


class RobotsForbidden(urllib.error.URLError):
    """A redirect led to a page the target host's robots.txt forbids."""


class HostHeldHop(urllib.error.URLError):
    """A redirect led to a host that asked (Retry-After) for no request until later than the run waits."""


class _PoliteRedirects(urllib.request.HTTPRedirectHandler):
    """urllib's redirect handling, but a hop is a request like any other: its target's robots.txt is obeyed
    (through the same proxy) and it waits its turn at its target host."""

    def __init__(self, fetcher: PoliteFetcher):
        self.fetcher = fetcher

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        hop = super().redirect_request(req, fp, code, msg, headers, newurl)
        if hop is not None:
            # The redirect's answer is in: the host's turn ends before anything else is asked (robots.txt of the
            # target, the hop), so a fetcher never holds one host while it waits for another.
            self.fetcher._end_turn()
            hop.obey_robots = getattr(req, "obey_robots", True)
            hop.section_proxy = getattr(req, "section_proxy", None)
            if (
                hop.obey_robots
                and self.fetcher.politeness.obey_robots
                and not self.fetcher.allowed(hop.full_url, hop.section_proxy)
            ):
                raise RobotsForbidden(f"redirected to {hop.full_url}, forbidden by robots.txt")
            try:
                self.fetcher._take_turn(hop.full_url)
            except HostHeld as exc:
                raise HostHeldHop(str(exc)) from None
        return hop
