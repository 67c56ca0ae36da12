"""``download_delay`` as a minimum gap between two requests to one host, whichever client of the cycle sends them.

A cycle asks a host from several HTTP clients: each section is crawled by a Scrapy crawler of its own, whose
downloader keeps its own per-host slot (a slot's delay holds within one section only), then the article
re-checks ask again through ``crawler.lifecycle.fetch.PoliteFetcher``. ``GAPS``, one registry per process (one
process runs one cycle), knows when each host was last asked, by whom and with what delay. A request to a host
goes only when

* the requests that asked for the host before it have gone (first come, first served);
* fewer than ``limit`` requests to the host are in flight (``CONCURRENT_REQUESTS_PER_DOMAIN``, 1 by default) —
  a request counts until its answer (or failure) is back, so nothing queues behind it where it is sent;
* its gap has passed since the host's last request: its own delay lengthened by the randomisation (× 1 to
  1 + ``JITTER``, never shorter), and at least the delay of whoever sent that last request (a section or
  AutoThrottle that asked for a longer delay is not cut short by the next client).

A host is the URL's host and port as written (``host_of``), as the re-checks count hosts.

A host that answers 429 or 503 with a ``Retry-After`` (seconds, or an HTTP date) gets no request before then,
from either stack (``hold``): a wait up to ``LONGEST_WAIT`` is waited out (Scrapy's retry of the page, or the
host's next request, goes after it); past that, every request the run would still send the host fails at
once with ``HostHeld`` ("… asked for no request before …"), and the next run asks again.

``GapMiddleware`` applies the registry to every request of a crawl — entry pages, articles, further pages,
robots.txt, retries and redirect hops. It sits last among the downloader middlewares, right before Scrapy's
download slot, which therefore never holds back a request it let go: the slot's delay is at most the gap
(``DOWNLOAD_DELAY``, or AutoThrottle's longer one, which the middleware reads from the slot), and Scrapy's own
randomisation, which could halve a gap, is off (``DOWNLOAD_DELAY_JITTER = 0`` in ``crawler.crawl.settings``).
A busy reactor (an extraction in-line) may still send a request a little after it went: the host's last request
is then dated from when Scrapy's download handler sent it (``download_latency``, known when its headers arrive).
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

# A gap is the delay × uniform(1, 1 + JITTER): as irregular as Scrapy's ±50%, but only ever longer.
JITTER = 0.5
# A waiter looks at its host again at least this often, even unwoken: a lost wake-up costs a second, never a hang.
RECHECK_EVERY = 1.0
# The longest Retry-After a run waits out (seconds); a host asking for a longer pause is left until the next run.
LONGEST_WAIT = 60.0
# Statuses whose Retry-After is honoured: too many requests, service unavailable.
RETRY_AFTER_STATUSES = (429, 503)


class HostHeld(Exception):
    """A request to a host that asked, by Retry-After, for no request until later than this run waits."""


def retry_after_seconds(value: str | bytes | None, now: float | None = None) -> float | None:
    """The seconds a ``Retry-After`` header value asks to wait (delay-seconds or an HTTP date), or None when it
    says nothing usable. ``now``: the wall-clock time (``time.time()``) an HTTP date is counted from."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    value = (value or "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def host_of(url: str) -> str:
    """The host a request counts against: the URL's host and port as written (lower-case, without userinfo), as
    the re-checks count hosts — two loopback servers on two ports are two sites."""
    return urlsplit(url).netloc.rpartition("@")[2].lower()


def lengthening() -> float:
    """The factor one request's delay is multiplied by."""
    return random.uniform(1.0, 1.0 + JITTER)  # noqa: S311 — irregular spacing, not a secret


@dataclass
class _Host:
    last: float = float("-inf")  # time.monotonic() when the latest request to the host went
    keep: float = 0.0  # the delay its client keeps after it
    in_flight: int = 0
    waiting: deque = field(default_factory=deque)  # waiters' wake-up callables, first come first
    not_before: float = float("-inf")  # time.monotonic() before which the host asked for nothing


class HostGaps:
    """Each host's last request and its waiting requests; safe to use from the reactor and from threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hosts: dict[str, _Host] = {}

    # -- blocking (the re-check threads) -----------------------------------------------------------
    def wait(self, host: str, delay: float, limit: int = 1) -> None:
        """Block until a request to ``host`` may go; it counts as in flight until ``done(host)``."""
        woken = threading.Event()
        token = self._join(host, woken.set)
        factor = lengthening()
        try:
            while True:
                woken.clear()  # before looking: a wake-up after the look is not lost
                pause = self._turn(host, token, delay, factor, limit)
                if pause is None:
                    return
                woken.wait(pause)
        except BaseException:
            self._leave(host, token)
            raise

    # -- asynchronous (the crawl's downloader middleware, on the reactor's asyncio loop) -----------
    async def wait_async(self, host: str, delay: Callable[[], float], limit: int = 1) -> None:
        """``wait`` for a coroutine; ``delay()`` is asked on every look (AutoThrottle may raise it meanwhile)."""
        loop = asyncio.get_running_loop()
        woken = asyncio.Event()
        token = self._join(host, lambda: _call_soon(loop, woken.set))
        factor = lengthening()
        try:
            while True:
                woken.clear()
                pause = self._turn(host, token, delay(), factor, limit)
                if pause is None:
                    return
                try:
                    async with asyncio.timeout(pause):
                        await woken.wait()
                except TimeoutError:
                    pass
        except BaseException:
            self._leave(host, token)
            raise

    # -- shared --------------------------------------------------------------------------------------
    def done(self, host: str) -> None:
        """A request that went has its answer (or failed): the next one may go once its gap has passed."""
        with self._lock:
            state = self._hosts[host]
            state.in_flight = max(0, state.in_flight - 1)
            head = state.waiting[0] if state.waiting else None
        if head is not None:
            head()

    def hold(self, host: str, seconds: float) -> None:
        """``host`` asked (Retry-After) for no request during the next ``seconds``."""
        with self._lock:
            state = self._hosts.setdefault(host, _Host())
            state.not_before = max(state.not_before, time.monotonic() + seconds)
        log.info("%s asked for no request during the next %.0f s (Retry-After)", host, seconds)

    def held_for(self, host: str) -> float:
        """Seconds until ``host``'s Retry-After has passed (0: not held)."""
        with self._lock:
            state = self._hosts.get(host)
            return max(0.0, state.not_before - time.monotonic()) if state is not None else 0.0

    def sent(self, host: str, at: float) -> None:
        """The request that went was sent at ``at`` (``time.monotonic()``): later than it went when the reactor
        was busy in between (an extraction), so the next gap counts from then."""
        with self._lock:
            state = self._hosts[host]
            state.last = max(state.last, at)

    def _join(self, host: str, wake: Callable[[], None]) -> object:
        token = _Waiter(wake)
        with self._lock:
            self._hosts.setdefault(host, _Host()).waiting.append(token)
        return token

    def _leave(self, host: str, token: object) -> None:
        with self._lock:
            state = self._hosts[host]
            was_head = bool(state.waiting) and state.waiting[0] is token
            try:
                state.waiting.remove(token)
            except ValueError:
                return
            head = state.waiting[0] if state.waiting and was_head else None
        if head is not None:
            head()

    def _turn(self, host: str, token: object, delay: float, factor: float, limit: int) -> float | None:
        """None: the request goes now (counted in flight); else the seconds to sleep before looking again."""
        with self._lock:
            state = self._hosts[host]
            now = time.monotonic()
            if state.not_before - now > LONGEST_WAIT:
                until = datetime.fromtimestamp(time.time() + state.not_before - now, UTC)
                raise HostHeld(
                    f"not requested: {host} asked for no request before {until:%Y-%m-%d %H:%M:%S} UTC "
                    f"(Retry-After); the next run asks again"
                )
            if state.waiting[0] is not token or state.in_flight >= limit:
                return RECHECK_EVERY  # woken when it becomes first, or when an answer comes back
            ready = max(state.last + max(delay * factor, state.keep), state.not_before)
            if now < ready:
                return min(ready - now, RECHECK_EVERY)
            state.waiting.popleft()
            state.in_flight += 1
            state.last, state.keep = now, delay
            head = state.waiting[0] if state.waiting else None
        if head is not None:  # the next one counts its gap from now
            head()
        return None


def _call_soon(loop: asyncio.AbstractEventLoop, wake: Callable[[], None]) -> None:
    """Wake a coroutine from any thread; a loop already closed has no one left to wake."""
    try:
        loop.call_soon_threadsafe(wake)
    except RuntimeError:
        pass


class _Waiter:
    __slots__ = ("wake",)

    def __init__(self, wake: Callable[[], None]) -> None:
        self.wake = wake

    def __call__(self) -> None:
        self.wake()


# The cycle's registry: every crawler's GapMiddleware and every re-check fetcher of this process.
GAPS = HostGaps()


class GapMiddleware:
    """Holds each request of a crawl until ``GAPS`` lets it go (see the module's docstring)."""

    def __init__(self, crawler) -> None:
        from scrapy import signals

        self.crawler = crawler
        self.delay = crawler.settings.getfloat("DOWNLOAD_DELAY")  # the section's own, when it sets one
        self.limit = max(1, crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"))
        self._sent: dict[int, str] = {}  # id(request) → host, until its answer is back
        self._waiting: set[asyncio.Task] = set()
        crawler.signals.connect(self._headers_received, signal=signals.headers_received)
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler) -> GapMiddleware:
        return cls(crawler)

    def _delay(self, request) -> float:
        """The section's delay, or AutoThrottle's current one for the host's slot when it is longer."""
        downloader = self.crawler.engine.downloader
        slot = downloader.slots.get(downloader.get_slot_key(request))
        return max(self.delay, slot.delay) if slot is not None else self.delay

    async def process_request(self, request):
        from scrapy.exceptions import IgnoreRequest

        host = host_of(request.url)
        turn = asyncio.ensure_future(GAPS.wait_async(host, lambda: self._delay(request), self.limit))
        self._waiting.add(turn)
        try:
            await turn
        except HostHeld as exc:
            raise IgnoreRequest(str(exc)) from None
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                GAPS.done(host)  # its turn came, but it will not be sent
            if asyncio.current_task().cancelling():
                raise  # this download itself is cancelled: let it be
            raise IgnoreRequest(f"{request.url}: the crawl closed while the request waited for its turn") from None
        finally:
            self._waiting.discard(turn)
        self._sent[id(request)] = host
        return None

    def process_response(self, request, response):
        self._answered(request)
        if response.status in RETRY_AFTER_STATUSES:
            seconds = retry_after_seconds(response.headers.get("Retry-After"))
            if seconds is not None:
                GAPS.hold(host_of(request.url), seconds)
                if seconds > LONGEST_WAIT:  # Scrapy's retry would be refused anyway: the page fails as it is
                    request.meta["dont_retry"] = True
        return response

    def process_exception(self, request, exception):
        self._answered(request)
        return None

    def _headers_received(self, headers, body_length, request, spider) -> None:
        """Scrapy's download handler measured ``download_latency`` from the moment it sent the request: the host's
        last request is dated from then, not from when the middleware let it go."""
        host = self._sent.get(id(request))
        latency = request.meta.get("download_latency")
        if host is not None and latency is not None:
            GAPS.sent(host, time.monotonic() - latency)

    def _answered(self, request) -> None:
        host = self._sent.pop(id(request), None)
        if host is not None:
            GAPS.done(host)

    def _closed(self, spider, reason) -> None:
        """A crawl closing with requests still waiting or out must not hold their hosts for the crawls after it."""
        for turn in list(self._waiting):
            turn.cancel()
        for host in self._sent.values():
            log.debug("%s: a request was still out when the crawl closed (%s)", host, reason)
            GAPS.done(host)
        self._sent.clear()
