"""A hostile and broken web on loopback: one section per fault kind, served by a real HTTP server.

``FaultServer`` is the loopback ``SiteServer`` plus *fault routes*: a path whose handler misbehaves at the
socket level (resets the connection, drips the body, sends less than its Content-Length, streams a page with
no length). Everything an ordinary route can say (a status, a header, a body, a delay, a redirect) stays a
``Route``. ``FAULTS`` lists the faults, each with the section that meets it and what the run must report:
one warning line naming the section, the URL and the cause, and the page counted as failed or skipped.
``fault_config`` writes the config of one run over all of them plus healthy sections that must land their
items regardless.

The bombs are cheap to build and to serve: gzip members of 16 MiB of spaces (16 KiB each, compressed) are
concatenated, and a gzip reader inflates concatenated members as one stream, so 1 GiB inflated is ~1 MB sent.
"""

from __future__ import annotations

import gzip
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from crawler.localsite import Route, SiteServer, toml_keys
from tests.alerting import article_page, listing_page

MB = 1_000_000
LIMIT = 10 * MB  # [crawler] max_page_bytes: the default, stated again so a test reads it
SMALL_LIMIT = 50_000  # the section that overrides it
MAX_LINKS = 3  # the 100,004-link listing's own max_links
MANY_LINKS = 100_004
BOMB_INFLATED = 1 << 30  # 1 GiB once inflated: far beyond any memory bound worth testing
TIMEOUT = 1  # [crawler] timeout of the fault run, seconds

PARAS = [
    "The ministry said on Tuesday that the talks on the new transport corridor would resume next month.",
    "Delegations from both countries are expected to sign an agreement on customs procedures and tariffs.",
    "Officials declined to comment on the timetable, saying that the technical work was still going on.",
]


def good_article(title: str) -> bytes:
    return article_page(title, PARAS)


@cache
def _block() -> bytes:
    return gzip.compress(b" " * (16 << 20), compresslevel=9, mtime=0)


def gzip_bomb(head: bytes, inflated: int = BOMB_INFLATED) -> bytes:
    """``head`` then ``inflated`` bytes of spaces, gzipped in about inflated/1000 bytes."""
    return gzip.compress(head, mtime=0) + _block() * (inflated // (16 << 20))


# -- socket-level faults: each gets the request handler and answers (or not) itself ----------------------


def reset(h) -> None:
    """The connection reset (RST) before any answer, as a crashing server or a middlebox does."""
    h.close_connection = True
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.connection.close()


def drip(h) -> None:
    """Headers at once, then the body a byte per 0.1 s: each read is quick, the whole is not."""
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Content-Length", "100000")
    h.end_headers()
    for _ in range(int(TIMEOUT * 40)):
        h.wfile.write(b" ")
        time.sleep(0.1)
    h.close_connection = True


def truncated(h) -> None:
    """Content-Length says 5,000 bytes more than is sent before the connection closes."""
    body = good_article("Truncated article")
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Content-Length", str(len(body) + 5000))
    h.end_headers()
    h.wfile.write(body)
    h.close_connection = True


def endless(h) -> None:
    """20 MB with no Content-Length (the body ends when the connection does): only counting tells."""
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Connection", "close")
    h.end_headers()
    h.close_connection = True
    chunk = b"<p>" + b"x" * 65530 + b"</p>\n"
    for _ in range(20 * MB // len(chunk)):
        h.wfile.write(chunk)


class FaultServer(SiteServer):
    """The loopback site server; ``faults[path]`` = a function answering that path at the socket level."""

    def __init__(self) -> None:
        self.faults: dict[str, Callable] = {}
        super().__init__()
        # A reset or a client giving up mid-body is the point here, not a server error worth a traceback.
        self.httpd.handle_error = lambda request, client_address: None

    def _handler(self):
        server, base = self, super()._handler()

        class Faulty(base):
            def _answer(self, head: bool) -> None:
                fault = server.faults.get(self.path)
                if fault is None:
                    return super()._answer(head)
                server._record("GET", self.path, 0)
                self._done()
                try:
                    fault(self)
                except OSError:  # the client hung up (as it should) or the socket was reset
                    self.close_connection = True

        return Faulty


# -- the faults -------------------------------------------------------------------------------------------


@dataclass
class Fault:
    """One fault kind met by one section (source ``name``, section ``s``).

    ``path``: the URL (path, or whole when not on the server) the one warning line names: the section's entry
    or an article it links; ``outcome``: ``failed`` (an article lost), ``entry`` (the section's entry point
    failed), ``skipped`` (``count`` links not followed) or ``none`` (a case that must just work); ``cause``:
    words that line says; ``lands``: items the section still lands.
    """

    name: str
    kind: str  # listing | sitemap
    outcome: str  # failed | entry | skipped
    cause: str
    path: str = ""
    count: int = 1
    lands: int = 0  # items the section still lands besides the fault
    section: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.name}/s"

    @property
    def entry(self) -> str:
        return f"/f/{self.name}/" if self.kind == "listing" else f"/f/{self.name}/sitemap.xml"


SITEMAP_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def sitemap_index(*locs: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex {SITEMAP_NS}>'
        + "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
        + "</sitemapindex>"
    ).encode()


def urlset(*locs: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><urlset {SITEMAP_NS}>'
        + "".join(f"<url><loc>{loc}</loc></url>" for loc in locs)
        + "</urlset>"
    ).encode()


def article_fault(
    name: str, cause: str, route: Route | None = None, fault: Callable | None = None, **section
) -> tuple[Fault, dict]:
    """A listing section linking one article whose URL answers with ``route`` or misbehaves by ``fault``."""
    path = f"/f/{name}/article"
    return Fault(name, "listing", "failed", cause, path, section=section), {path: route or fault}


# The fault kinds, in crawl order (a test holds ``build`` to this list).
NAMES = (
    "html-bomb",
    "big-page",
    "endless-page",
    "own-limit",
    "sitemap-bomb",
    "redirect-loop",
    "self-redirect",
    "duplicate",
    "redirect-chain",
    "long-link",
    "off-site",
    "not-http",
    "many-links",
    "nested-index",
    "looping-index",
    "reset",
    "slow-headers",
    "drip-feed",
    "truncated",
    "too-many",
    "unavailable",
    "image",
    "pdf",
    "pdf-as-html",
    "empty",
    "bot-wall",
    "not-found",
    "server-error",
)


def build(server: FaultServer) -> list[Fault]:
    """Serve every fault on ``server``; the faults, in the order their sections are crawled."""
    u = server.url
    routes: dict[str, Route] = {}
    faults: list[Fault] = []

    def add(fault: Fault, served: dict) -> None:
        faults.append(fault)
        for path, answer in served.items():
            if isinstance(answer, Route):
                routes[path] = answer
            else:
                server.faults[path] = answer

    html = "text/html; charset=utf-8"
    # Memory: pages and inflated bodies past max_page_bytes.
    add(
        *article_fault(
            "html-bomb",
            "larger than 10 MB once decompressed",
            Route(gzip_bomb(b"<html><body><p>"), content_type=html, headers={"Content-Encoding": "gzip"}),
        )
    )
    add(*article_fault("big-page", "larger than 10 MB", Route(b"<html><body>" + b"x" * (20 * MB) + b"</body></html>")))
    add(*article_fault("endless-page", "larger than 10 MB", fault=endless))
    add(
        *article_fault(
            "own-limit", "larger than 50 kB", Route(good_article("Long") + b" " * 100_000), max_page_bytes=SMALL_LIMIT
        )
    )
    bomb = Fault(
        "sitemap-bomb",
        "sitemap",
        "entry",
        "larger than 10 MB once decompressed",
        "/f/sitemap-bomb/sitemap.xml.gz",
        section={"url_path": "/f/sitemap-bomb/sitemap.xml.gz"},
    )
    add(
        bomb,
        {
            bomb.path: Route(
                gzip_bomb(f'<?xml version="1.0"?><urlset {SITEMAP_NS}>'.encode()),
                content_type="application/octet-stream",
            )
        },
    )
    # Requests Scrapy drops on its own: duplicates (redirect loops), too many redirects, too long URLs.
    loop = "/f/redirect-loop/article"
    add(*article_fault("redirect-loop", "redirect loop", Route(status=302, location="/f/redirect-loop/b")))
    routes["/f/redirect-loop/b"] = Route(status=302, location=loop)
    add(*article_fault("self-redirect", "redirect loop", Route(status=301, location="/f/self-redirect/article")))
    # Two links, one redirecting to the other: the page is fetched once, the redirected link is a skipped duplicate.
    faults.append(
        Fault("duplicate", "listing", "skipped", "the same page as another link", "/f/duplicate/article", lands=1)
    )
    routes["/f/duplicate/"] = Route(listing_page([("/f/duplicate/b", "B"), ("/f/duplicate/article", "A")]))
    routes["/f/duplicate/article"] = Route(status=302, location="/f/duplicate/b")
    routes["/f/duplicate/b"] = Route(good_article("The page two links lead to"))
    add(*article_fault("redirect-chain", "more than 20 redirects", Route(status=302, location="/f/redirect-chain/1")))
    for n in range(1, 30):
        routes[f"/f/redirect-chain/{n}"] = Route(status=302, location=f"/f/redirect-chain/{n + 1}")
    long_path = "/f/long-link/" + "x" * 10_000
    faults.append(Fault("long-link", "listing", "skipped", "URL longer than 2083 characters", long_path))
    routes["/f/long-link/"] = Route(listing_page([(long_path, "A very long link")]))
    # Links not worth a request: off-site, not http(s), beyond max_links.
    offsite = f"http://localhost:{server.port}/f/off-site/article"
    faults.append(Fault("off-site", "listing", "skipped", "off-site link (localhost;", offsite))
    routes["/f/off-site/"] = Route(listing_page([(offsite, "Elsewhere")]))
    routes["/f/off-site/article"] = Route(good_article("Not this site's"))
    faults.append(
        Fault(
            "not-http",
            "listing",
            "skipped",
            "2 links not followed: not an http(s) link",
            "mailto:desk@example.org",
            count=2,
        )
    )
    routes["/f/not-http/"] = Route(
        listing_page([("mailto:desk@example.org", "Write to us"), ("javascript:void(0)", "Share")])
    )
    many = [(f"/f/many-links/{n}", f"Story {n}") for n in range(1, MANY_LINKS + 1)]
    faults.append(
        Fault(
            "many-links",
            "listing",
            "skipped",
            f"beyond max_links = {MAX_LINKS}",
            "/f/many-links/4",
            count=MANY_LINKS - MAX_LINKS,
            lands=MAX_LINKS,
            section={"max_links": MAX_LINKS, "link_pattern": r"/f/many-links/\d+$"},
        )
    )
    routes["/f/many-links/"] = Route(listing_page(many))
    for n in range(1, MAX_LINKS + 1):
        routes[f"/f/many-links/{n}"] = Route(good_article(f"Story {n} of many"))
    # Sitemaps: a nested index (every child read), an index that loops back on itself (nothing to read).
    nested = Fault("nested-index", "sitemap", "none", "", lands=2, section={"max_pages": 10})
    faults.append(nested)
    routes[nested.entry] = Route(sitemap_index(f"{u}/f/nested-index/sub-index.xml", f"{u}/f/nested-index/a.xml"))
    routes["/f/nested-index/sub-index.xml"] = Route(sitemap_index(f"{u}/f/nested-index/b.xml"))
    routes["/f/nested-index/a.xml"] = Route(urlset(f"{u}/f/nested-index/article-a"))
    routes["/f/nested-index/b.xml"] = Route(urlset(f"{u}/f/nested-index/article-b"))
    routes["/f/nested-index/article-a"] = Route(good_article("Sitemap child A"))
    routes["/f/nested-index/article-b"] = Route(good_article("Sitemap child B, in a nested index"))
    looping = Fault(
        "looping-index", "sitemap", "entry", "loops back", "/f/looping-index/sitemap.xml", section={"max_pages": 10}
    )
    faults.append(looping)
    routes[looping.entry] = Route(sitemap_index(f"{u}/f/looping-index/other.xml"))
    routes["/f/looping-index/other.xml"] = Route(sitemap_index(f"{u}/f/looping-index/sitemap.xml"))
    # The network and the server misbehaving.
    add(*article_fault("reset", "lost before a complete answer", fault=reset))
    add(*article_fault("slow-headers", f"timeout after {TIMEOUT} s", Route(good_article("Slow"), delay=TIMEOUT + 1.5)))
    add(*article_fault("drip-feed", f"timeout after {TIMEOUT} s", fault=drip))
    add(*article_fault("truncated", "shorter than its Content-Length", fault=truncated))
    # Short pauses: every fault is on one host, which a Retry-After holds for all of them (tests/test_retry_after.py).
    add(
        *article_fault(
            "too-many",
            "HTTP 429 (Retry-After: 1)",
            Route(b"Too many requests", status=429, headers={"Retry-After": "1"}),
        )
    )
    add(
        *article_fault(
            "unavailable",
            "HTTP 503 (Retry-After: 2)",
            Route(b"Down for maintenance", status=503, headers={"Retry-After": "2"}),
        )
    )
    add(
        *article_fault(
            "image", "not an HTML page (image/png)", Route(b"\x89PNG\r\n\x1a\n" + bytes(2000), content_type="image/png")
        )
    )
    add(
        *article_fault(
            "pdf",
            "not an HTML page (application/pdf)",
            Route(b"%PDF-1.4\n" + bytes(2000), content_type="application/pdf"),
        )
    )
    add(
        *article_fault(
            "pdf-as-html",
            "not an HTML page (a PDF document, served as text/html)",
            Route(b"%PDF-1.4\n" + bytes(2000), content_type="text/html"),
        )
    )
    add(*article_fault("empty", "empty body", Route(b"")))
    add(
        *article_fault(
            "bot-wall",
            "bot wall or JavaScript-only page",
            Route(
                b"<html><head><title>Just a moment...</title></head><body><div id='cf-challenge'>Checking your browser"
                b" before accessing the site.</div><script>window._cf_chl_opt={cvId: '2'};</script></body></html>"
            ),
        )
    )
    add(*article_fault("not-found", "HTTP 404"))  # no route: the server's 404
    add(*article_fault("server-error", "HTTP 500", Route(b"<h1>Internal error</h1>", status=500)))

    for fault in faults:  # each listing links its one faulty article (unless it has its own page)
        if fault.kind == "listing" and fault.entry not in routes:
            routes[fault.entry] = Route(listing_page([(fault.path, f"The {fault.name} article")]))
    for name in ("healthy-first", "healthy-last"):
        routes[f"/f/{name}/"] = Route(listing_page([(f"/f/{name}/one", "One"), (f"/f/{name}/two", "Two")]))
        routes[f"/f/{name}/one"] = Route(good_article(f"The {name} section's first article"))
        routes[f"/f/{name}/two"] = Route(good_article(f"The {name} section's second article"))
    server.routes.update(routes)
    return faults


HEALTHY = ("healthy-first/s", "healthy-last/s")


def fault_config(server: FaultServer, faults: list[Fault]) -> str:
    """One config over every fault, a healthy section first and last (the same host: crawled in this order)."""
    lines = [
        "replace_default_sources = true",
        "[crawler]",
        *toml_keys({"download_delay": 0, "autothrottle": False, "retries": 0, "timeout": TIMEOUT}),
        "[lifecycle]",
        "recheck_max = 0",
        "[translation]",
        "enabled = false",
    ]

    def section(name: str, kind: str, path: str, **keys) -> None:
        # The many-links listing is read by its URL pattern alone: libxml2 takes quadratic time to evaluate a
        # descendant selector ("div.item a") over 100,000 matches (9 s here), which is not this test's subject.
        rule = {"link_css": "div.item a"} if kind == "listing" and "link_pattern" not in keys else {}
        lines.extend(
            [
                "[[sources]]",
                f'id = "{name}"',
                "[[sources.sections]]",
                *toml_keys({"id": "s", "kind": kind, "url": server.url + path, **rule, **keys}),
            ]
        )

    section("healthy-first", "listing", "/f/healthy-first/")
    for fault in faults:
        keys = {k: v for k, v in fault.section.items() if k != "url_path"}
        section(fault.name, fault.kind, fault.section.get("url_path", fault.entry), **keys)
    section("healthy-last", "listing", "/f/healthy-last/")
    return "\n".join(lines) + "\n"
