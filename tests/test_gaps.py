"""``download_delay`` is a minimum gap between two requests to one host, whoever makes them.

A cycle asks a host from several HTTP clients one after another: each section is crawled by a Scrapy crawler
of its own (with its own download slot), the further pages of an article are fetched by the pipeline, and the
article re-checks use a separate fetcher after the crawl. The loopback site notes when each request arrives
(``SiteServer.arrived``); every gap between two consecutive requests must be at least the delay — across
sections, across the crawl and the re-checks — and never much more (the run is not slowed beyond the delay and
its one-sided randomisation). Units: the per-host registry itself (``crawler.crawl.gaps.HostGaps``).
"""

from __future__ import annotations

import threading
import time

from crawler.crawl.gaps import JITTER, HostGaps
from crawler.localsite import SiteServer
from tests.alerting import rows
from tests.conftest import run_newsmon
from tests.crawlsite import merge_sources, section
from tests.test_continuation import PAGE_PATHS, POLITICS, serve

DELAY = 0.5
# What a gap may lose between the moment a client lets a request go and the moment the site reads it (thread
# scheduling on a loaded 2-core machine); far below the 0.25 s that Scrapy's ±50% randomisation took off.
SLACK = 0.015
# The most a gap may take when the next request is ready: the delay lengthened by the randomisation, plus the
# time a client needs to get going (a section's crawler starting, a response parsed).
LONGEST = DELAY * (1 + JITTER) + 0.25


def config(server: SiteServer, tmp_path) -> str:
    """Two listing sections of one source on one host (a 4-page article, a 1-page one); re-checks due at once."""
    u = server.url
    return merge_sources(
        [
            f"""replace_default_sources = true
[crawler]
output_dir = "{tmp_path / "output"}"
download_delay = {DELAY}
retries = 0
timeout = 10
[lifecycle]
recheck_max = 50
recheck_interval_hours = 0
""",
            section("peoples-daily", "culture", "listing", f"{u}/pd/culture.html", link_css="ul.list a"),
            section("peoples-daily", "politics", "listing", f"{u}/pd/politics.html", link_css="ul.list a"),
        ]
    )


def gaps(arrived: list[tuple[float, str]]) -> list[tuple[float, str, str]]:
    """(seconds between two consecutive requests, the earlier path, the later path)."""
    return [(b - a, pa, pb) for (a, pa), (b, pb) in zip(arrived, arrived[1:])]


def night(server: SiteServer, cfg) -> list[tuple[float, str]]:
    server.clear_log()
    proc = run_newsmon("run", "--config", str(cfg), timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    return list(server.arrived)


def test_every_request_to_a_host_keeps_the_delay_across_sections_further_pages_and_rechecks(tmp_path):
    server = serve(SiteServer()).start()
    try:
        cfg = tmp_path / "newsmon.toml"
        cfg.write_text(config(server, tmp_path), encoding="utf-8")
        first = night(server, cfg)  # the crawl: both sections, the article's 3 further pages
        second = night(server, cfg)  # the crawl (listings only: both articles known), then the re-checks
    finally:
        server.stop()

    crawled = [p for _t, p in first]
    assert crawled.count("/robots.txt") == 1
    assert set(PAGE_PATHS) | {POLITICS, "/pd/culture.html", "/pd/politics.html"} <= set(crawled)
    assert rows(tmp_path / "output", "SELECT outcome, COUNT(*) AS n FROM article_checks GROUP BY outcome") == [
        {"outcome": "not_modified", "n": 2}
    ]
    rechecked = [p for _t, p in second]
    # The crawl asks robots.txt and the two listings; the re-check fetcher its own robots.txt, then the articles.
    assert rechecked[:3] == ["/robots.txt", "/pd/culture.html", "/pd/politics.html"]
    assert sorted(rechecked[3:]) == sorted(["/robots.txt", PAGE_PATHS[0], POLITICS])

    for arrived, stages_before in ((first, None), (second, 3)):
        seen = gaps(arrived)
        report = "\n".join(f"{g:.3f} s  {a} -> {b}" for g, a, b in seen)
        assert min(g for g, _a, _b in seen) >= DELAY - SLACK, report
        # Not slower than needed: no gap beyond the longest delay, except the one before the re-checks (the
        # post-crawl stages before them run meanwhile: work, not a wait).
        assert all(g <= LONGEST for i, (g, _a, _b) in enumerate(seen) if i + 1 != stages_before), report


# -- the registry -----------------------------------------------------------------------------------------


def test_the_longer_delay_of_the_last_request_holds_for_the_next_client():
    """The crawl's last request (its section's 0.3 s) then a re-check whose own delay for the host is 0.05 s."""
    gaps = HostGaps()
    gaps.wait("h:1", 0.3)
    went = time.monotonic()
    gaps.done("h:1")
    gaps.wait("h:1", 0.05)
    waited = time.monotonic() - went
    gaps.done("h:1")
    assert 0.3 <= waited < 0.3 + 0.1
    started = time.monotonic()
    gaps.wait("h:2", 0.3)  # another host: nothing to wait for
    assert time.monotonic() - started < 0.05


def test_requests_to_a_host_go_one_at_a_time_in_the_order_they_asked():
    gaps = HostGaps()
    order, active, most = [], [0], [0]
    lock = threading.Lock()

    def ask(n: int) -> None:
        gaps.wait("h:1", 0)
        with lock:
            order.append(n)
            active[0] += 1
            most[0] = max(most[0], active[0])
        time.sleep(0.03)  # the answer takes a while: the next one must wait for it
        with lock:
            active[0] -= 1
        gaps.done("h:1")

    gaps.wait("h:1", 0)  # a request in flight: the others queue behind it
    threads = []
    for n in range(4):
        threads.append(threading.Thread(target=ask, args=(n,)))
        threads[-1].start()
        time.sleep(0.05)  # each asks after the one before
    assert order == []
    gaps.done("h:1")
    for thread in threads:
        thread.join(5)
    assert order == [0, 1, 2, 3] and most[0] == 1
