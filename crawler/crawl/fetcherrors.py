"""Turning a failed request (a Twisted Failure from a Scrapy errback) into words and an HTTP status."""

from __future__ import annotations

from dataclasses import dataclass

from scrapy import exceptions as scrapy_exc
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as neterr
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived


def _scrapy(*names: str) -> tuple[type, ...]:
    """Scrapy ≥ 2.14 wraps Twisted's errors in its own classes; older versions raise Twisted's."""
    return tuple(c for c in (getattr(scrapy_exc, n, None) for n in names) if c)


DNS_ERRORS = (neterr.DNSLookupError, *_scrapy("CannotResolveHostError"))
TIMEOUT_ERRORS = (neterr.TimeoutError, neterr.TCPTimedOutError, *_scrapy("DownloadTimeoutError"))
REFUSED_ERRORS = (neterr.ConnectionRefusedError, *_scrapy("DownloadConnectionRefusedError"))
LOST_ERRORS = (ResponseNeverReceived, ResponseFailed, neterr.ConnectionLost, neterr.ConnectionDone,
               *_scrapy("DownloadFailedError", "ResponseDataLossError"))


class PageFetchFailed(Exception):
    """A page fetched outside a spider callback (an article's further page) did not come back; the
    message says why in the words of ``describe``."""


@dataclass(frozen=True)
class FetchFailure:
    text: str                          # e.g. "HTTP 404", "DNS lookup failed for mid.ru"
    http_status: int | None = None     # None when no response came back
    final_url: str | None = None
    page_bytes: int | None = None


def describe(failure, timeout: float | None = None) -> FetchFailure:
    """What went wrong, in one short phrase, from the failure of a request."""
    exc = failure.value
    request = getattr(failure, "request", None)
    host = request.url.split("/")[2] if request is not None and "//" in request.url else "the host"
    if isinstance(exc, HttpError):
        resp = exc.response
        return FetchFailure(f"HTTP {resp.status}", resp.status, resp.url, len(resp.body))
    if isinstance(exc, DNS_ERRORS):
        return FetchFailure(f"DNS lookup failed for {host}")
    if isinstance(exc, TIMEOUT_ERRORS):
        return FetchFailure(f"timeout after {timeout:g} s" if timeout else "timeout")
    if isinstance(exc, REFUSED_ERRORS):
        return FetchFailure(f"connection refused by {host}")
    if isinstance(exc, LOST_ERRORS):
        return FetchFailure(f"connection to {host} lost before a complete answer")
    if isinstance(exc, IgnoreRequest):
        reason = str(exc) or "request ignored"
        return FetchFailure("forbidden by robots.txt" if "robots" in reason.lower() else reason)
    return FetchFailure(f"{type(exc).__name__}: {exc}")
