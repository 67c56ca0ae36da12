"""A hostile and broken web: one real ``newsmon run`` (a subprocess) over a loopback server serving every fault
kind of ``tests/faultsite.py``, one section per fault, and healthy sections before and after them on the same host.

For each fault: exactly one warning line naming the section, the URL and the cause; the page counted as failed
or skipped (with its reason) in the summary table and in the run's JSON summary; the section not ``ok``; the
healthy sections land their items. The run's peak RSS (``os.wait4``) stays bounded though it meets a sitemap and
an article that inflate to 1 GiB each and a 20 MB page.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler.config import load_config
from crawler.crawl import settings
from crawler.crawl.links import read_listing, site_of
from crawler.crawl.politeness import politeness_of
from crawler.crawl.report import short
from crawler.exceptions import ConfigError
from tests.conftest import ROOT
from tests.faultsite import HEALTHY, LIMIT, MANY_LINKS, MAX_LINKS, NAMES, FaultServer, build, fault_config

PEAK_RSS_MB = 500
CRAWL_LOGGERS = ("scrapy", "spiders", "pipelines", "crawler.crawl", "crawler.runner: crawl")
RUN_LIMIT_SECONDS = 120  # the run takes ~10 s; before the limits it took 13 minutes and 4.2 GB


@dataclass
class FaultRun:
    returncode: int
    stdout: str
    stderr: str
    out: Path
    server: FaultServer
    faults: dict
    peak_rss_mb: float
    seconds: float

    def warnings(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if " WARNING " in line]

    def row(self, key: str) -> list[str]:
        """The section's row of the summary table: key, links, new, fetched, failed, skipped, seconds, status."""
        rows = [line.split() for line in self.stdout.splitlines() if line.startswith(f"{key} ")]
        assert len(rows) == 1, self.stdout
        return rows[0]

    def report(self, key: str) -> dict:
        conn = sqlite3.connect(self.out / "state.sqlite")
        try:
            return json.loads(conn.execute("SELECT summary FROM runs").fetchone()[0])["sections"][key]
        finally:
            conn.close()

    def url(self, path: str) -> str:
        return path if ":" in path.split("/")[0] else self.server.url + path


@pytest.fixture(scope="module")
def fault_run(tmp_path_factory) -> FaultRun:
    server = FaultServer().start()
    faults = build(server)
    work = tmp_path_factory.mktemp("faults")
    config = work / "faults.toml"
    config.write_text(fault_config(server, faults), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "NEWSMON_CONFIG"}
    started = time.monotonic()
    with open(work / "stdout", "w") as stdout, open(work / "stderr", "w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "crawler", "run", "--config", str(config), "--output", str(work / "out")],
            cwd=ROOT,
            env=dict(env, PYTHONUNBUFFERED="1"),
            stdout=stdout,
            stderr=stderr,
        )
        # A run that hangs (a fault no longer bounded) is killed, so that the tests fail instead of waiting.
        watchdog = threading.Timer(RUN_LIMIT_SECONDS, proc.kill)
        watchdog.start()
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)  # the child's own peak RSS, which subprocess cannot give
        finally:
            watchdog.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
    seconds = time.monotonic() - started
    run = FaultRun(
        proc.returncode,
        (work / "stdout").read_text("utf-8"),
        (work / "stderr").read_text("utf-8"),
        work / "out",
        server,
        {f.name: f for f in faults},
        usage.ru_maxrss / 1024,
        seconds,
    )  # ru_maxrss: KiB on Linux
    yield run
    server.stop()


def test_the_fault_server_serves_every_kind_listed():
    assert len(NAMES) >= 20
    server = FaultServer().start()
    try:
        assert tuple(f.name for f in build(server)) == NAMES
    finally:
        server.stop()


@pytest.mark.parametrize("name", NAMES)
def test_each_fault_is_one_warning_line_naming_section_url_and_cause(fault_run, name):
    fault = fault_run.faults[name]
    mine = [line for line in fault_run.warnings() if f" {fault.key}: " in line]
    if fault.outcome == "none":
        assert mine == []
        return
    assert len(mine) == 1, "\n".join(mine) or fault_run.stderr
    assert short(fault_run.url(fault.path)) in mine[0] and fault.cause in mine[0], mine[0]
    # no other line, of any section or of Scrapy, speaks of the faulty URL
    about = [line for line in fault_run.warnings() if short(fault_run.url(fault.path)) in line]
    assert about == mine


@pytest.mark.parametrize("name", NAMES)
def test_each_fault_is_counted_in_the_summary_and_the_run_report(fault_run, name):
    fault = fault_run.faults[name]
    _key, links, new, fetched, failed, skipped, _seconds, status = fault_run.row(fault.key)
    report = fault_run.report(fault.key)
    assert int(fetched) == report["fetched"] == fault.lands
    if fault.outcome == "none":
        assert (failed, skipped, status) == ("0", "0", "ok")
        return
    expected_failed = 1 if fault.outcome in ("failed", "entry") else 0
    expected_skipped = fault.count if fault.outcome == "skipped" else 0
    assert (int(failed), int(skipped)) == (report["failed"], report["skipped"]) == (expected_failed, expected_skipped)
    assert status == ("error" if fault.outcome == "entry" else "partial")  # never ok with a page missing
    if fault.outcome == "skipped":
        assert sum(report["skipped_reasons"].values()) == fault.count and len(report["skips"]) == 1
    else:
        assert len(report["errors"]) == 1 and fault.cause in report["errors"][0]
        assert (report["entry_error"] is not None) == (fault.outcome == "entry")


def test_the_healthy_sections_on_the_same_host_land_their_items(fault_run):
    items = [
        json.loads(line) for f in fault_run.out.glob("*/items.jsonl") for line in f.read_text("utf-8").splitlines()
    ]
    per_section: dict[str, int] = {}
    for item in items:
        per_section[item["section_key"]] = per_section.get(item["section_key"], 0) + 1
    for key in HEALTHY:
        assert per_section.get(key) == 2
        assert fault_run.row(key)[-1] == "ok"
    assert per_section["nested-index/s"] == 2 and per_section["many-links/s"] == MAX_LINKS
    faulty = {f.key for f in fault_run.faults.values() if f.lands == 0}
    assert not faulty & set(per_section), per_section


def test_memory_stays_bounded_and_the_run_is_quick(fault_run):
    assert fault_run.peak_rss_mb < PEAK_RSS_MB, f"peak RSS {fault_run.peak_rss_mb:.0f} MB"
    assert fault_run.seconds < 45, f"{fault_run.seconds:.1f} s"
    assert fault_run.returncode == 1  # pages were lost: monitoring hears of it
    # nothing of the crawl raised (a post-crawl stage's own failure is that stage's business, not the faults')
    crawl_errors = [
        line
        for line in fault_run.stderr.splitlines()
        if " ERROR " in line and line.split(" ERROR ")[1].startswith(CRAWL_LOGGERS)
    ]
    assert crawl_errors == [] and "Traceback" not in fault_run.stdout
    assert not any(frame in fault_run.stderr for frame in ("/spiders/", "/crawler/crawl/", "/pipelines/"))
    # every warning is a section's own line: Scrapy's repeats of them are quiet
    assert all(" crawler.crawl.report: " in line for line in fault_run.warnings()), fault_run.warnings()


def test_what_is_skipped_or_looped_is_never_requested_twice_or_at_all(fault_run):
    server, log = fault_run.server, fault_run.server.log
    requested = [path for _method, path, _status in log]
    assert server.requests_for("/f/off-site/article") == 0
    assert not any(path.startswith("/f/long-link/x") for path in requested)
    assert sorted(p for p in requested if p.startswith("/f/many-links/") and p != "/f/many-links/") == [
        f"/f/many-links/{n}" for n in range(1, MAX_LINKS + 1)
    ]
    for path in (
        "/f/looping-index/sitemap.xml",
        "/f/looping-index/other.xml",
        "/f/nested-index/sitemap.xml",
        "/f/nested-index/sub-index.xml",
        "/f/nested-index/a.xml",
        "/f/nested-index/b.xml",
        "/f/redirect-loop/article",
        "/f/redirect-loop/b",
        "/f/self-redirect/article",
    ):
        assert server.requests_for(path) == 1, path
    assert server.requests_for("/f/redirect-chain/20") == 1 and server.requests_for("/f/redirect-chain/21") == 0


def test_the_summary_names_each_skip_and_its_reason(fault_run):
    assert "skipped" in fault_run.stdout.splitlines()[0]
    block = fault_run.stdout.split("skipped (not requested):", 1)[1]
    assert f"many-links/s ({MANY_LINKS - MAX_LINKS:,} max_links):" in block
    assert "off-site/s (1 off-site):" in block and "not-http/s (2 not-http):" in block
    assert "long-link/s (1 too-long):" in block
    links_line = fault_run.row("many-links/s")
    assert links_line[1:3] == [str(MANY_LINKS), str(MANY_LINKS)]  # all found and new, 3 fetched, the rest skipped


# -- the settings behind it (no crawl) -----------------------------------------------------------------------


def test_max_page_bytes_drives_scrapy_and_the_rechecks_alike(tmp_path):
    shipped = settings.for_config(load_config())
    assert (
        shipped["DOWNLOAD_MAXSIZE"] == shipped["DOWNLOAD_WARNSIZE"] == LIMIT == politeness_of(load_config()).max_bytes
    )
    path = tmp_path / "c.toml"
    path.write_text("[crawler]\nmax_page_bytes = 123456\nmax_links = 7\n", encoding="utf-8")
    crawl = settings.for_config(load_config(path))
    assert (crawl["DOWNLOAD_MAXSIZE"], crawl["DOWNLOAD_WARNSIZE"], crawl["NEWSMON_MAX_LINKS"]) == (123456, 123456, 7)
    assert politeness_of(load_config(path)).max_bytes == 123456  # the re-check fetcher's limit too


def test_a_source_sets_the_limits_of_its_sections_and_a_section_its_own(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        'replace_default_sources = true\n[[sources]]\nid = "a"\nmax_page_bytes = 2000\nmax_links = 5\n'
        '[[sources.sections]]\nid = "x"\nkind = "feed"\nurl = "http://a.test/feed"\n'
        '[[sources.sections]]\nid = "y"\nkind = "feed"\nurl = "http://a.test/y"\nmax_links = 9\n',
        encoding="utf-8",
    )
    x, y = load_config(path).sections
    assert (x.max_page_bytes, x.max_links, y.max_page_bytes, y.max_links) == (2000, 5, 2000, 9)
    path.write_text(path.read_text("utf-8").replace("max_links = 9", "max_links = 0"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c\.toml:\d+: .*sections\[y\]\.max_links: must be ≥ 1"):
        load_config(path)
    bad = tmp_path / "bad.toml"
    bad.write_text("[crawler]\nmax_page_bytes = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="max_page_bytes"):
        settings.crawler_table(load_config(bad))


def test_a_rule_names_the_non_http_links_it_picks_and_only_those():
    from crawler.config import Section

    html = (
        '<div class="item"><a href="mailto:a@b.c">m</a><a href=" javascript:void(0)">j</a>'
        '<a href="/news/1">n</a><a href="tel:+123">t</a></div><a href="mailto:x@y.z">footer</a>'
    )
    by_css = Section("s", "s", "x", "x", "listing", "http://site.test/", link_css="div.item a")
    found = read_listing(html, by_css.url, by_css)
    assert found.urls == ["http://site.test/news/1"]
    assert found.not_http == ["mailto:a@b.c", "javascript:void(0)", "tel:+123"]
    by_pattern = Section("s", "s", "x", "x", "listing", "http://site.test/", link_pattern=r"/news/\d+$")
    assert read_listing(html, by_pattern.url, by_pattern).not_http == []  # the rule would never take them


def test_a_site_is_its_registered_domain():
    assert site_of("http://world.people.com.cn/n1/x.html") == site_of("http://www.people.com.cn/") == "people.com.cn"
    assert site_of("http://en.kremlin.ru/") == "kremlin.ru" and site_of("https://www.fmprc.gov.cn/") == "fmprc.gov.cn"
    assert site_of("http://127.0.0.1:8080/") == "127.0.0.1" != site_of("http://localhost:8080/")


def test_the_fault_urls_are_where_the_server_is():
    """The off-site fault is off-site only by name: the same server under ``localhost`` (it would answer)."""
    server = FaultServer().start()
    try:
        offsite = build(server)[NAMES.index("off-site")].path
        assert urlsplit(offsite).port == server.port and urlsplit(offsite).hostname == "localhost"
    finally:
        server.stop()
