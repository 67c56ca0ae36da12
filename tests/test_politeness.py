"""One politeness for both HTTP stacks: the Scrapy crawl and the article re-checks read the same User-Agent,
delay, timeout, robots.txt switch, robots.txt parser and largest page (``crawler.crawl.politeness``).

The robots.txt case that set them apart: an ``Allow`` under a broader ``Disallow``. Protego (Scrapy's parser)
lets the longest matching rule win, urllib's robotparser the first one, so the crawl fetched an article the
re-check refused, and that article's edits and deletion were never seen. Real ``newsmon run`` cycles and the
re-check fetcher against a loopback server, which notes each request's headers.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from crawler.config import load_config
from crawler.crawl import settings
from crawler.crawl.politeness import politeness_of
from crawler.lifecycle.fetch import PoliteFetcher
from crawler.localsite import Route, SiteServer, write_loopback_config
from tests.alerting import article_page, listing_page, rows

ROBOTS = b"User-agent: *\nDisallow: /events/\nAllow: /events/president/news/\n"
ALLOWED, FORBIDDEN = "/events/president/news/70001", "/events/other/70002"
AGENT = "newsmon-test/2.0 (+https://example.org/newsmon-contact)"
PARAS = [
    "The president met the members of the Security Council on Friday to discuss the coming summit.",
    "The agenda included energy cooperation, the situation in the region and transport corridors.",
    "The meeting was held by videoconference, as every week, with the prime minister taking part.",
]


class HeaderServer(SiteServer):
    """The site server, also noting the headers of every request: ``seen`` = [(path, headers)]."""

    def __init__(self):
        self.seen: list[tuple[str, dict[str, str]]] = []
        self._request = threading.local()  # a request is read and recorded on its handler thread
        super().__init__()

    def _handler(self):
        server, base = self, super()._handler()

        class Noting(base):
            def do_GET(self, head: bool = False):
                server._request.headers = dict(self.headers.items())
                super().do_GET(head)

        return Noting

    def _record(self, method: str, path: str, status: int) -> None:
        super()._record(method, path, status)
        with self._lock:
            self.seen.append((path, self._request.headers))


def robots_site(server: SiteServer) -> None:
    server.routes["/robots.txt"] = Route(ROBOTS, content_type="text/plain")
    server.routes["/news/"] = Route(listing_page([(ALLOWED, "Security Council"), (FORBIDDEN, "Other event")]))
    server.routes[ALLOWED] = Route(article_page("Security Council meeting", PARAS))
    server.routes[FORBIDDEN] = Route(article_page("Another event", PARAS))


def test_the_crawl_and_the_rechecks_read_one_politeness(tmp_path):
    shipped = politeness_of(load_config())
    assert (shipped.user_agent, shipped.delay, shipped.timeout, shipped.obey_robots, shipped.max_bytes) == (
        settings.USER_AGENT,
        settings.DOWNLOAD_DELAY,
        settings.DOWNLOAD_TIMEOUT,
        settings.ROBOTSTXT_OBEY,
        settings.DOWNLOAD_MAXSIZE,
    )  # the shipped [crawler] table agrees with the module defaults
    assert shipped.robots_parser == "scrapy.robotstxt.ProtegoRobotParser"
    path = tmp_path / "c.toml"
    path.write_text(
        f'[crawler]\nuser_agent = "{AGENT}"\ndownload_delay = 4\ntimeout = 7\nobey_robots = false\n', encoding="utf-8"
    )
    config = load_config(path)
    crawl, recheck = settings.for_config(config), politeness_of(config)
    assert (
        (recheck.user_agent, recheck.delay, recheck.timeout, recheck.obey_robots)
        == (crawl["USER_AGENT"], crawl["DOWNLOAD_DELAY"], crawl["DOWNLOAD_TIMEOUT"], crawl["ROBOTSTXT_OBEY"])
        == (AGENT, 4, 7, False)
    )


def test_the_recheck_fetcher_reads_robots_txt_as_the_crawl_does(site_server):
    robots_site(site_server)
    site_server.routes["/moved"] = Route(status=301, location=FORBIDDEN)
    fetcher = PoliteFetcher(replace(politeness_of(load_config()), delay=0))
    got = fetcher.get(site_server.url + ALLOWED)
    assert got.status == 200 and b"Security Council" in got.body
    assert fetcher.get(site_server.url + FORBIDDEN).error == "forbidden by robots.txt"
    assert (
        fetcher.get(site_server.url + "/moved").error
        == f"redirected to {site_server.url}{FORBIDDEN}, forbidden by robots.txt"
    )
    assert [p for _m, p, _s in site_server.log] == ["/robots.txt", ALLOWED, "/moved"]


def test_a_redirected_robots_txt_is_followed_without_asking_robots_txt(site_server):
    """As Scrapy fetches it: robots.txt moved elsewhere on the host is read there (no loop asking itself)."""
    site_server.routes["/robots.txt"] = Route(status=301, location="/site/robots.txt")
    site_server.routes["/site/robots.txt"] = Route(ROBOTS, content_type="text/plain")
    site_server.routes[ALLOWED] = Route(article_page("Security Council meeting", PARAS))
    fetcher = PoliteFetcher(replace(politeness_of(load_config()), delay=0))
    assert fetcher.get(site_server.url + ALLOWED).status == 200
    assert fetcher.get(site_server.url + FORBIDDEN).error == "forbidden by robots.txt"
    assert [p for _m, p, _s in site_server.log] == ["/robots.txt", "/site/robots.txt", ALLOWED]


def test_a_page_larger_than_the_largest_is_refused_whole_not_cut_short(site_server):
    """A page cut at the limit would read as an edit (its end gone); Scrapy cancels it, the re-check too."""
    site_server.routes["/big"] = Route(article_page("Big", PARAS * 40))
    site_server.routes["/small"] = Route(article_page("Small", PARAS))
    limit = len(site_server.routes["/big"].body) - 1
    fetcher = PoliteFetcher(replace(politeness_of(load_config()), delay=0, max_bytes=limit))
    big = fetcher.get(site_server.url + "/big")
    assert (big.status, big.body, big.error) == (None, b"", f"page larger than {limit} bytes")
    small = fetcher.get(site_server.url + "/small")
    assert small.status == 200 and small.body == site_server.routes["/small"].body


def test_an_allow_under_a_broader_disallow_holds_for_the_crawl_and_the_rechecks(tmp_path, newsmon):
    server = HeaderServer().start()
    try:
        robots_site(server)
        source = {
            "id": "kremlin",
            "name": "Kremlin",
            "homepage": f"{server.url}/",
            "sections": [{"id": "news", "kind": "listing", "url": f"{server.url}/news/", "link_css": "div.item a"}],
        }
        cfg = write_loopback_config(
            tmp_path / "newsmon.toml",
            [source],
            crawler={"output_dir": str(tmp_path / "output"), "user_agent": AGENT},
            lifecycle={"recheck_max": 50, "recheck_interval_hours": 0, "recheck_gone_checks": 1},
        )
        out = tmp_path / "output"

        def night() -> dict[str, list[dict[str, str]]]:
            """One ``newsmon run``; the headers of each request it made, by path."""
            server.seen.clear()
            proc = newsmon("run", "--config", str(cfg), timeout=90)
            assert "Traceback" not in proc.stderr, proc.stderr
            assert "stage crawler.lifecycle.stage failed" not in proc.stdout, proc.stdout
            asked: dict[str, list[dict[str, str]]] = {}
            for path, headers in server.seen:
                asked.setdefault(path, []).append(headers)
            return asked

        crawled = night()  # the crawl: the allowed article stored, the other never asked for
        assert [r["url"] for r in rows(out, "SELECT url FROM articles")] == [server.url + ALLOWED]
        assert ALLOWED in crawled and FORBIDDEN not in crawled

        server.routes[ALLOWED] = Route(article_page("Security Council meeting", PARAS + ["A closing line."]))
        rechecked = night()  # the crawl asks for the listing only; the re-check for the article
        (by_recheck,) = rechecked[ALLOWED]
        assert "If-None-Match" in by_recheck  # the re-check's conditional GET
        (by_crawl,) = crawled[ALLOWED]
        for name in ("User-Agent", "Accept", "Accept-Language"):  # one identity, both stacks
            assert by_recheck[name] == by_crawl[name], name
        assert by_crawl["User-Agent"] == AGENT
        events = rows(out, "SELECT type, cause FROM events WHERE type LIKE 'article_%'")
        assert events == [{"type": "article_edited", "cause": "1 paragraph added"}]

        del server.routes[ALLOWED]
        assert FORBIDDEN not in night()
        assert [e["type"] for e in rows(out, "SELECT type FROM events WHERE type LIKE 'article_%' ORDER BY seq")] == [
            "article_edited",
            "article_deleted",
        ]
    finally:
        server.stop()
