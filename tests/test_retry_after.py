"""Retry-After on 429 and 503 holds the host for the crawl and the article re-checks alike; the re-checks take
a section's own ``max_page_bytes``.

Real loopback servers, the real re-check fetcher and real `newsmon run` crawls.
"""

from __future__ import annotations

import time
from dataclasses import replace
from email.utils import formatdate

import pytest

from crawler.config import load_config
from crawler.crawl.gaps import LONGEST_WAIT, HostGaps, HostHeld, retry_after_seconds
from crawler.crawl.politeness import politeness_of
from crawler.lifecycle.fetch import PoliteFetcher
from crawler.lifecycle.hostpool import Job
from crawler.lifecycle.recheck import page_limits
from crawler.localsite import Route, SiteServer, write_loopback_config
from tests.alerting import article_page, listing_page
from tests.conftest import run_newsmon

PARAS = [
    "The delegation arrived on Monday for two days of talks on energy supplies and regional security.",
    "Officials said the talks would also prepare a summit planned for the spring in the capital.",
]


@pytest.mark.parametrize(
    "value, seconds",
    [("120", 120.0), (b" 7 ", 7.0), ("0", 0.0), ("soon", None), ("", None), (None, None), ("-5", None)],
)
def test_retry_after_in_seconds(value, seconds):
    assert retry_after_seconds(value) == seconds


def test_retry_after_as_an_http_date():
    now = time.time()
    assert retry_after_seconds(formatdate(now + 90, usegmt=True), now=now) == pytest.approx(90, abs=1)
    assert retry_after_seconds(formatdate(now - 90, usegmt=True), now=now) == 0.0  # already past


def test_a_held_host_waits_a_short_pause_and_refuses_a_long_one():
    gaps = HostGaps()
    gaps.hold("a.example", 0.6)
    started = time.monotonic()
    gaps.wait("a.example", 0.0)
    assert time.monotonic() - started >= 0.55
    gaps.done("a.example")
    gaps.wait("b.example", 0.0)  # another host is not held
    gaps.done("b.example")
    gaps.hold("a.example", LONGEST_WAIT + 60)
    started = time.monotonic()
    with pytest.raises(HostHeld, match="a.example asked for no request before .* UTC"):
        gaps.wait("a.example", 0.0)
    assert time.monotonic() - started < 0.5
    gaps.wait("b.example", 0.0)  # nor is its waiting list left blocked
    gaps.done("b.example")


def fetcher(**politeness) -> PoliteFetcher:
    return PoliteFetcher(replace(politeness_of(load_config()), delay=0, **politeness))


def test_the_recheck_fetcher_waits_out_retry_after(site_server):
    site_server.routes["/busy"] = Route(b"Busy", status=503, headers={"Retry-After": "1"})
    site_server.routes["/page"] = Route(article_page("Page", PARAS))
    fetch = fetcher()
    assert fetch.get(site_server.url + "/busy").status == 503
    assert fetch.get(site_server.url + "/page").status == 200
    (first, _), (second, _) = [a for a in site_server.arrived if a[1] != "/robots.txt"]
    assert second - first >= 0.95


def test_the_recheck_fetcher_asks_nothing_more_of_a_host_that_asked_for_a_long_pause(site_server):
    site_server.routes["/limited"] = Route(b"Too many", status=429, headers={"Retry-After": "3600"})
    site_server.routes["/page"] = Route(article_page("Page", PARAS))
    fetch = fetcher()
    assert fetch.get(site_server.url + "/limited").status == 429
    got = fetch.get(site_server.url + "/page")
    assert got.status is None and "asked for no request before" in got.error
    assert site_server.requests_for("/page") == 0


def test_a_recheck_takes_its_sections_largest_page(tmp_path, site_server):
    site_server.routes["/big"] = site_server.routes["/plain"] = Route(article_page("Big", PARAS * 20))
    limit = len(site_server.routes["/big"].body) - 1
    cfg = write_loopback_config(
        tmp_path / "c.toml",
        [
            {
                "id": "alpha",
                "name": "Alpha",
                "sections": [
                    {
                        "id": "small",
                        "kind": "listing",
                        "url": f"{site_server.url}/s/",
                        "link_css": "a",
                        "max_page_bytes": limit,
                    },
                    {"id": "plain", "kind": "listing", "url": f"{site_server.url}/p/", "link_css": "a"},
                ],
            }
        ],
    )
    sections = {s.key: s for s in load_config(cfg).sections}
    url = site_server.url + "/big"
    limits = page_limits(
        [
            Job(url, tag={"section": "alpha/small"}, further=(url + "-2",)),
            Job(site_server.url + "/plain", tag={"section": "alpha/plain"}),
        ],
        sections,
    )
    assert limits == {url: limit, url + "-2": limit}
    fetch = PoliteFetcher(replace(politeness_of(load_config(cfg)), delay=0), page_limits=limits)
    got = fetch.get(url)
    assert (got.status, got.error) == (None, f"page larger than {limit} bytes")
    assert fetch.get(site_server.url + "/plain").status == 200  # another section's page: the default limit


def crawl_config(tmp_path, server: SiteServer, retries: int):
    sources = [
        {
            "id": "alpha",
            "name": "Alpha",
            "sections": [{"id": "news", "kind": "listing", "url": f"{server.url}/news/", "link_css": "div.item a"}],
        }
    ]
    return write_loopback_config(
        tmp_path / "newsmon.toml",
        sources,
        lifecycle={"recheck_max": 0},
        crawler={"output_dir": str(tmp_path / "out"), "retries": retries, "timeout": 5},
    )


def test_the_crawl_retries_after_the_pause_a_503_asks_for(tmp_path, site_server):
    site_server.routes["/news/"] = Route(listing_page([("/news/1.html", "One")]))
    site_server.routes["/news/1.html"] = Route(b"Down", status=503, headers={"Retry-After": "1"})
    proc = run_newsmon("run", "--config", str(crawl_config(tmp_path, site_server, retries=2)), timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    times = [t for t, path in site_server.arrived if path == "/news/1.html"]
    assert len(times) == 3  # the request and its two retries…
    assert all(b - a >= 0.95 for a, b in zip(times, times[1:]))  # …each after the pause asked for
    assert "HTTP 503 (Retry-After: 1)" in proc.stdout + proc.stderr


def test_the_crawl_sends_a_host_nothing_more_after_a_long_retry_after(tmp_path, site_server):
    links = [(f"/news/{n}.html", f"Story {n}") for n in range(1, 4)]
    site_server.routes["/news/"] = Route(listing_page(links))
    for path, _title in links:
        site_server.routes[path] = Route(b"Too many requests", status=429, headers={"Retry-After": "3600"})
    proc = run_newsmon("run", "--config", str(crawl_config(tmp_path, site_server, retries=2)), timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    asked = [path for _t, path in site_server.arrived if path.endswith(".html")]
    assert len(asked) == 1, asked  # one answer said: not before an hour; no retry
    out = proc.stdout + proc.stderr
    assert "HTTP 429 (Retry-After: 3600)" in out and out.count("asked for no request before") >= 2
