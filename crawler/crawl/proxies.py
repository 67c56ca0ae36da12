"""A section's proxy: ``proxy = "http://user:password@host:port"`` in its ``[[sources]]`` or ``[[sources.sections]]``
table (checked, and its password registered with ``crawler.alerts.redact``, by ``crawler.config``).

Every request of the section goes through it, in both HTTP stacks:

* the crawl: ``SectionProxyMiddleware`` sets ``request.meta["proxy"]`` on each request of the section's crawler —
  entry pages, articles, further pages, and the robots.txt request Scrapy makes for them — and Scrapy's
  ``HttpProxyMiddleware`` sends the userinfo as a ``Proxy-Authorization`` header (for an https page, on the
  CONNECT that opens the tunnel), never in a URL;
* the re-checks of the section's articles: ``ProxyThrough``, a urllib handler of ``PoliteFetcher`` that does the
  same, with the credentials encoded as Scrapy encodes them (``HTTPPROXY_AUTH_ENCODING``).

The proxy is used whatever ``no_proxy`` says (it is the section's own setting, not the environment's); a section
without one uses the environment's ``http_proxy``/``https_proxy`` in both stacks, as Scrapy and urllib do.
"""

from __future__ import annotations

import base64
import urllib.request
from urllib.parse import unquote, urlsplit


def route_of(proxy: str | None) -> str | None:
    """The proxy without its credentials (``None``: direct): a site may answer each route differently, so
    robots.txt is read once per host and route."""
    if not proxy:
        return None
    parts = urlsplit(proxy)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def basic_credentials(proxy: str, encoding: str) -> str | None:
    """The ``Proxy-Authorization: Basic`` value of the proxy's userinfo, as Scrapy's HttpProxyMiddleware makes it."""
    parts = urlsplit(proxy)
    if parts.username is None:
        return None
    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return base64.b64encode(pair.encode(encoding)).decode("ascii")


class SectionProxyMiddleware:
    """Sends every request of a section's crawl through the section's proxy (a request that already names a
    proxy — a retry or redirect hop of one that went through it — keeps it)."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler) -> SectionProxyMiddleware:
        return cls(crawler)

    def process_request(self, request):
        proxy = getattr(getattr(self.crawler.spider, "section", None), "proxy", None)
        if proxy and "proxy" not in request.meta:
            request.meta["proxy"] = proxy
        return None


class ProxyThrough(urllib.request.BaseHandler):
    """urllib's handler for one proxy: every http(s) request of its opener goes through it (no ``no_proxy``
    exception), with the proxy credentials in a ``Proxy-Authorization`` header (on the CONNECT for https)."""

    handler_order = 100  # before the HTTP(S) handlers, as urllib's own ProxyHandler

    def __init__(self, proxy: str, encoding: str) -> None:
        parts = urlsplit(proxy)
        self.scheme = parts.scheme
        self.hostport = parts.netloc.rpartition("@")[2]
        self.credentials = basic_credentials(proxy, encoding)

    def http_open(self, req):
        return self._through(req)

    def https_open(self, req):
        return self._through(req)

    def _through(self, req):
        if getattr(req, "through_proxy", False):  # routed already: this is the start-over below
            return None
        req.through_proxy = True
        if self.credentials:
            req.add_header("Proxy-Authorization", "Basic " + self.credentials)
        page_scheme = req.type
        req.set_proxy(self.hostport, self.scheme)
        if page_scheme == "https" or page_scheme == self.scheme:
            return None  # the handler of the request's scheme sends it (an https page: through CONNECT)
        # An http page through an https proxy: the request is now an https one, to the proxy; start over so the
        # HTTPS handler sends it (as urllib's ProxyHandler does).
        return self.parent.open(req, timeout=req.timeout)
