"""Turning a failed request (a Twisted Failure from a Scrapy errback) into words and an HTTP status."""

from __future__ import annotations

import re
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
LOST_ERRORS = (
    ResponseNeverReceived,
    ResponseFailed,
    neterr.ConnectionLost,
    neterr.ConnectionDone,
    *_scrapy("DownloadFailedError", "ResponseDataLossError"),
)
DATALOSS_ERRORS = _scrapy("ResponseDataLossError")
# Scrapy cancels a download past DOWNLOAD_MAXSIZE (the request's ``download_maxsize``) with this; its message
# names the size when Content-Length told it, and is empty when the bytes received did.
CANCELLED_ERRORS = _scrapy("DownloadCancelledError")
_MAXSIZE_IN_MESSAGE = re.compile(r"max size \((\d+)\)")
# Statuses whose Retry-After says when the site will answer again: worth saying with the failure.
RETRY_AFTER_STATUSES = (429, 503)


class PageFetchFailed(Exception):
    """A page fetched outside a spider callback (an article's further page) did not come back; the
    message says why in the words of ``describe``."""


@dataclass(frozen=True)
class FetchFailure:
    text: str  # e.g. "HTTP 404", "DNS lookup failed for mid.ru"
    http_status: int | None = None  # None when no response came back
    final_url: str | None = None
    page_bytes: int | None = None


def describe(failure, timeout: float | None = None) -> FetchFailure:
    """What went wrong, in one short phrase, from the failure of a request."""
    exc = failure.value
    request = getattr(failure, "request", None)
    host = request.url.split("/")[2] if request is not None and "//" in request.url else "the host"
    if isinstance(exc, HttpError):
        resp = exc.response
        text = f"HTTP {resp.status}"
        retry_after = resp.headers.get("Retry-After") if resp.status in RETRY_AFTER_STATUSES else None
        if retry_after:
            text += f" (Retry-After: {retry_after.decode('latin-1').strip()[:40]})"
        return FetchFailure(text, resp.status, resp.url, len(resp.body))
    if isinstance(exc, CANCELLED_ERRORS):
        found = _MAXSIZE_IN_MESSAGE.search(str(exc))
        limit = int(found.group(1)) if found else (request.meta.get("download_maxsize") if request else None)
        return FetchFailure(f"larger than {size_words(limit)}" if limit else "download cancelled")
    if isinstance(exc, IgnoreRequest) and "decompression" in str(exc):
        # HttpCompressionMiddleware: a Content-Encoding that inflates past the limit (a gzip bomb)
        limit = getattr(exc.__cause__, "max_size", None)
        return FetchFailure(f"larger than {size_words(limit) if limit else 'the largest page'} once decompressed")
    if isinstance(exc, IgnoreRequest) and str(exc) == "max redirections reached" and request is not None:
        hops = request.meta.get("redirect_times", 0)
        return FetchFailure(f"more than {hops} redirects (gave up at {request.url})")
    if isinstance(exc, DATALOSS_ERRORS):
        return FetchFailure(
            f"connection to {host} closed before the whole page arrived (shorter than its Content-Length)"
        )
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


def size_words(size: int) -> str:
    """``10 MB``, ``50 kB``, ``1.5 MB``, ``900 bytes`` (decimal units, as ``max_page_bytes`` is set)."""
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} bytes"
