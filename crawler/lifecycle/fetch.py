"""A small polite HTTP fetcher for work outside Scrapy (article re-checks): configured User-Agent,
robots.txt (urllib.robotparser), a delay per host, a timeout, conditional GET. Blocking, and not meant to be
shared between threads: ``crawler.lifecycle.hostpool`` gives each host thread its own fetcher, so each host
keeps one request at a time, its delay and its robots.txt, while several hosts are fetched side by side.

The delay is ``delays[netloc]`` when given (the re-checks pass each host's section ``download_delay``), else
``delay``. Every redirect hop is a request like any other: its target's robots.txt is obeyed (a forbidden
hop ends the fetch with "forbidden by robots.txt": nothing is concluded) and it waits its target host's delay
first (urllib would follow it at once, to a host that may have just been asked by this fetcher).
"""

from __future__ import annotations

import logging
import socket
import time
import urllib.error
import urllib.request
import urllib.robotparser
from dataclasses import dataclass, field
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024


@dataclass
class Fetched:
    url: str
    status: int | None                      # None: no response (DNS, refused, timeout, robots)
    final_url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None
    further: list["Fetched"] = field(default_factory=list)   # the article's further pages (hostpool Job.further)


class PoliteFetcher:
    def __init__(self, user_agent: str, timeout: float = 20, delay: float = 1.5, obey_robots: bool = True,
                 delays: dict[str, float] | None = None):
        self.user_agent, self.timeout, self.delay, self.obey_robots = user_agent, timeout, delay, obey_robots
        self.delays = {host.lower(): seconds for host, seconds in (delays or {}).items()}
        self._robots: dict[str, urllib.robotparser.RobotFileParser | None] = {}
        self._last: dict[str, float] = {}
        self._opener = urllib.request.build_opener(_PoliteRedirects(self))

    def delay_of(self, host: str) -> float:
        return self.delays.get(host.lower(), self.delay)

    def get(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        if self.obey_robots and not self.allowed(url):
            return Fetched(url, None, error="forbidden by robots.txt")
        headers = {"User-Agent": self.user_agent}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return self._open(url, headers)

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            self._robots[origin] = self._load_robots(origin)
        parser = self._robots[origin]
        return parser is None or parser.can_fetch(self.user_agent, url)

    def _load_robots(self, origin: str) -> urllib.robotparser.RobotFileParser | None:
        got = self._open(f"{origin}/robots.txt", {"User-Agent": self.user_agent})
        if got.status != 200:       # no robots.txt (or unreachable): everything is allowed, as in Scrapy
            return None
        parser = urllib.robotparser.RobotFileParser()
        parser.parse(got.body.decode("utf-8", errors="replace").splitlines())
        return parser

    def _wait(self, host: str) -> None:
        last = self._last.get(host)
        if last is not None:
            pause = self.delay_of(host) - (time.monotonic() - last)
            if pause > 0:
                time.sleep(pause)
        self._last[host] = time.monotonic()

    def _open(self, url: str, headers: dict[str, str]) -> Fetched:
        self._wait(urlsplit(url).netloc)
        request = urllib.request.Request(url, headers=headers)
        try:
            with self._opener.open(request, timeout=self.timeout) as resp:
                return Fetched(url, resp.status, resp.geturl(), dict(resp.headers.items()), resp.read(MAX_BYTES))
        except urllib.error.HTTPError as exc:
            with exc:
                return Fetched(url, exc.code, exc.geturl() or url, dict(exc.headers.items()), b"",
                               f"HTTP {exc.code}")
        except (socket.timeout, TimeoutError):
            return Fetched(url, None, error=f"timeout after {self.timeout:g} s")
        except RobotsForbidden as exc:
            return Fetched(url, None, error=str(exc.reason))
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, socket.gaierror):
                return Fetched(url, None, error=f"DNS lookup failed for {urlsplit(url).hostname}")
            return Fetched(url, None, error=f"{type(reason).__name__}: {reason}")
        except (OSError, ValueError) as exc:
            return Fetched(url, None, error=f"{type(exc).__name__}: {exc}")


class RobotsForbidden(urllib.error.URLError):
    """A redirect led to a page the target host's robots.txt forbids."""


class _PoliteRedirects(urllib.request.HTTPRedirectHandler):
    """urllib's redirect handling, but a hop is a request like any other: its target's robots.txt is obeyed
    and it waits its target host's delay."""

    def __init__(self, fetcher: PoliteFetcher):
        self.fetcher = fetcher

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        hop = super().redirect_request(req, fp, code, msg, headers, newurl)
        if hop is not None:
            if self.fetcher.obey_robots and not self.fetcher.allowed(hop.full_url):
                raise RobotsForbidden(f"redirected to {hop.full_url}, forbidden by robots.txt")
            self.fetcher._wait(urlsplit(hop.full_url).netloc)
        return hop
