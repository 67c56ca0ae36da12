"""Article re-checks, two politeness-and-completeness gaps: a multi-page article whose further page failed at
crawl time is completed by a later re-check (no ``article_edited``: the site had that text all along), at
most ``[crawler] further_page_retries`` times; and each host is re-checked with its sections' own
``download_delay``, a redirect to another host waiting that host's delay.

Real CLI / stage, real SQLite, real HTTP on loopback: the recorded People's Daily culture article with its
SYNTHETIC pages 2-4 (as in tests/test_continuation.py), and small generated article pages.
"""

from __future__ import annotations

import json
import shutil
import time

from crawler import jsonl
from crawler.config import Section
from crawler.crawl.store import read_raw
from crawler.lifecycle import stage
from crawler.lifecycle.recheck import host_delays
from crawler.localsite import Route, SiteServer
from crawler.store import items as item_store
from tests.alerting import article_page, context, new_run, rows, store_article
from tests.conftest import run_newsmon
from tests.test_continuation import PAGE_PATHS, by_path, config, expected_paragraphs, items_of, page_file, serve

RECHECK = "recheck_max = 10\nrecheck_interval_hours = 0"
JITTER = 0.05  # a request's own trip on a loaded machine


def night(server: SiteServer, work, out, name: str, crawler_keys: str = ""):
    """One `newsmon run` (crawl, then the post-crawl stages with re-checks on) into ``out``."""
    path = work / f"{name}.toml"
    path.write_text(config(server, crawler_keys).replace("recheck_max = 0", RECHECK), encoding="utf-8")
    server.clear_log()
    proc = run_newsmon("run", "--config", str(path), "--output", str(out), cwd=work)
    return proc, path


def culture(server: SiteServer, out) -> dict:
    """The culture article's current ``items`` row."""
    ident = by_path(server, items_of(out))[PAGE_PATHS[0]]["id"]
    return item_store.loads(rows(out, "SELECT json FROM items WHERE id = ?", ident)[0]["json"])


def missing(server: SiteServer, item: dict) -> list[tuple[str, str]]:
    return [(m["url"].removeprefix(server.url), m["error"]) for m in item["extras"].get("incomplete", [])]


def check_outcome(out, ident: str) -> str:
    return rows(out, "SELECT outcome FROM article_checks WHERE article_id = ?", ident)[0]["outcome"]


def alert_types(out) -> list[str]:
    path = out / "alerts.jsonl"
    return [event["type"] for event in jsonl.read(path)] if path.exists() else []


def test_a_page_that_failed_at_crawl_time_is_completed_by_a_later_recheck(site_server, tmp_path):
    server = serve(site_server)
    page_two = server.routes[PAGE_PATHS[1]]
    server.routes[PAGE_PATHS[1]] = Route(b"busy", status=503)
    out = tmp_path / "out"
    proc, _cfg = night(server, tmp_path, out, "night1")
    assert proc.returncode == 1, proc.stdout + proc.stderr  # page 2 missing: a partial run
    first = culture(server, out)
    assert missing(server, first) == [(PAGE_PATHS[1], "HTTP 503")]
    assert first["paragraphs"] == expected_paragraphs(1, 3, 4)
    shutil.copytree(out, tmp_path / "bound")  # for the retry bound, below

    # Night 2: page 2 now answers 404; the re-check retries it (page 2 only) and keeps the latest reason.
    server.routes[PAGE_PATHS[1]] = Route(b"not yet", status=404)
    night(server, tmp_path, out, "night2")
    fetched = [p for _m, p, _s in server.log if p in PAGE_PATHS]
    assert sorted(fetched) == sorted(PAGE_PATHS[:2])  # page 1 re-checked, page 2 retried
    second = culture(server, out)
    assert missing(server, second) == [(PAGE_PATHS[1], "HTTP 404")] and second["version"] == 1
    assert second["extras"]["page_retries"] == 1 and check_outcome(out, first["id"]) == "incomplete"

    # Night 3: page 2 answers; it is merged in its place, kept raw, as a new version, and no edit is alerted.
    server.routes[PAGE_PATHS[1]] = page_two
    night(server, tmp_path, out, "night3")
    done = culture(server, out)
    assert done["paragraphs"] == expected_paragraphs(1, 2, 3, 4)
    assert done["text"] == "\n\n".join(done["paragraphs"])
    assert "incomplete" not in done["extras"] and "page_retries" not in done["extras"]
    assert [p["url"].removeprefix(server.url) for p in done["extras"]["pages"]] == PAGE_PATHS
    assert [p["paragraphs"] for p in done["extras"]["pages"]] == [len(expected_paragraphs(n)) for n in (1, 2, 3, 4)]
    record = done["extras"]["pages"][1]
    assert read_raw(out, record["raw_path"]) == page_file(2).read_bytes()
    for number, later in ((3, done["extras"]["pages"][2]), (4, done["extras"]["pages"][3])):  # copies kept
        assert read_raw(out, later["raw_path"]) == page_file(number).read_bytes()
    assert done["version"] == 2 and done["translation"]["status"] == "pending" and done["completed_at"]
    versions = rows(
        out, "SELECT version, paragraphs, diff FROM article_versions WHERE article_id = ? ORDER BY version", done["id"]
    )
    assert [v["version"] for v in versions] == [1, 2]
    assert json.loads(versions[0]["paragraphs"]) == first["paragraphs"]
    assert json.loads(versions[1]["diff"]) == {"completed": [server.url + PAGE_PATHS[1]]}
    assert check_outcome(out, done["id"]) == "completed"
    assert "article_edited" not in alert_types(out)
    assert rows(out, "SELECT * FROM events WHERE article_id = ?", done["id"]) == []
    log = (out / "logs/newsmon.log").read_text(encoding="utf-8")
    assert f"completed with 1 missing page(s) ({server.url + PAGE_PATHS[1]})" in log

    # Night 4: complete now — page 1 alone is re-checked and found unchanged.
    night(server, tmp_path, out, "night4")
    assert [p for _m, p, _s in server.log if p in PAGE_PATHS] == [PAGE_PATHS[0]]
    assert check_outcome(out, done["id"]) in ("not_modified", "unchanged") and culture(server, out)["version"] == 2

    # The bound: further_page_retries = 2 re-checks retry the failing page, then it is left missing.
    bound = tmp_path / "bound"
    cfg = tmp_path / "bound.toml"
    cfg.write_text(
        config(server, f'output_dir = "{bound}"\nfurther_page_retries = 2\n').replace("recheck_max = 0", RECHECK),
        encoding="utf-8",
    )
    server.routes[PAGE_PATHS[1]] = Route(b"slow", status=504)
    for retry in (1, 2):
        server.clear_log()
        assert stage.run_stage(context(cfg, new_run(bound)))["rechecks"]["incomplete"] == 1
        assert server.requests_for(PAGE_PATHS[1]) == 1
        assert culture(server, bound)["extras"]["page_retries"] == retry
    server.routes[PAGE_PATHS[1]] = page_two  # back, but the retries are spent
    server.clear_log()
    assert "incomplete" not in stage.run_stage(context(cfg, new_run(bound)))["rechecks"]
    assert server.requests_for(PAGE_PATHS[1]) == 0 and server.requests_for(PAGE_PATHS[0]) == 1
    left = culture(server, bound)
    assert missing(server, left) == [(PAGE_PATHS[1], "HTTP 504")] and left["version"] == 1


# -- politeness ---------------------------------------------------------------------------------------


class TimedServer(SiteServer):
    """The site server, noting when each request arrived, by path."""

    def __init__(self):
        super().__init__()
        self.arrivals: list[float] = []

    def _record(self, method, path, status):
        super()._record(method, path, status)
        with self._lock:
            self.arrivals.append(time.monotonic())


def two_host_config(tmp_path, hosts: dict[str, tuple[SiteServer, float]], workers: int):
    """One source per host, one listing section each with its own ``download_delay``; [crawler] delay 0."""
    parts = [
        f"""replace_default_sources = true
[crawler]
output_dir = "{tmp_path / "output"}"
download_delay = 0
[lifecycle]
recheck_max = 50
recheck_interval_hours = 0
recheck_workers = {workers}
"""
    ]
    for source, (server, delay) in hosts.items():
        parts.append(f"""[[sources]]
id = "{source}"
name = "{source}"
homepage = "{server.url}/"
[[sources.sections]]
id = "news"
kind = "listing"
url = "{server.url}/news/"
link_css = "div.item a"
download_delay = {delay}
""")
    path = tmp_path / "newsmon.toml"
    path.write_text("".join(parts), encoding="utf-8")
    return path


def article_on(server: SiteServer, out, section: str, name: str, minutes_ago: int) -> str:
    """An article stored as first seen ``minutes_ago`` (+ a day), served again unchanged (no 304)."""
    from crawler.extract.extraction import extract_article
    from tests.test_recheck import ago

    paragraphs = [f"{name}: the minister arrived in Beijing on Monday for two days of talks with officials."]
    route = server.routes[f"/news/{name}.html"] = Route(article_page(f"Talks {name}", paragraphs), conditional=False)
    url = f"{server.url}/news/{name}.html"
    got = extract_article(route.body.decode(), url, None)
    return store_article(out, 1, section, url, got.title, got.paragraphs, at=ago(days=1, minutes=minutes_ago))


def gaps(stamps: list[float]) -> list[float]:
    return [b - a for a, b in zip(stamps, stamps[1:])]


def test_each_host_is_rechecked_with_its_own_sections_delay(tmp_path):
    fast, slow = TimedServer().start(), TimedServer().start()
    try:
        cfg = two_host_config(tmp_path, {"fast": (fast, 0.05), "slow": (slow, 0.35)}, workers=2)
        out = tmp_path / "output"
        new_run(out)
        for n in range(3):
            article_on(fast, out, "fast/news", f"f{n}", 50 - n)
            article_on(slow, out, "slow/news", f"s{n}", 40 - n)
        for server in (fast, slow):
            server.arrivals.clear()
        assert stage.run_stage(context(cfg, new_run(out)))["rechecks"] == {"unchanged": 6}
    finally:
        fast.stop()
        slow.stop()
    assert len(fast.arrivals) == len(slow.arrivals) == 4  # robots.txt + 3 articles each
    assert min(gaps(slow.arrivals)) >= 0.35 - JITTER
    assert min(gaps(fast.arrivals)) >= 0.05 - JITTER
    assert max(gaps(fast.arrivals)) < 0.35 - JITTER  # its own delay, not the slow one's


def test_a_host_with_several_sections_gets_the_largest_delay():
    sections = {
        key: Section(key.split("/")[0], "S", key.split("/")[1], "N", "listing", "http://x/", download_delay=delay)
        for key, delay in (("a/one", 0.5), ("a/two", 2.0), ("b/one", None))
    }
    due = [
        {"section": "a/one", "url": "http://h1/x"},
        {"section": "a/two", "url": "http://H1/y"},
        {"section": "b/one", "url": "http://h2:81/z"},
        {"section": "gone/old", "url": "http://h3/z"},
    ]
    assert host_delays(due, sections, 1.5) == {"h1": 2.0, "h2:81": 1.5, "h3": 1.5}


def test_a_redirect_to_another_host_waits_that_hosts_delay(tmp_path):
    here, there = TimedServer().start(), TimedServer().start()
    try:
        cfg = two_host_config(tmp_path, {"here": (here, 0), "there": (there, 0.4)}, workers=1)
        out = tmp_path / "output"
        new_run(out)
        article_on(there, out, "there/news", "moved", 50)  # due first: re-checked first
        article_on(here, out, "here/news", "moved", 40)
        here.routes["/news/moved.html"] = Route(status=301, location=f"{there.url}/news/moved.html")
        there.arrivals.clear()
        stage.run_stage(context(cfg, new_run(out)))
    finally:
        here.stop()
        there.stop()
    assert [p for _m, p, _s in there.log] == ["/robots.txt", "/news/moved.html", "/news/moved.html"]
    assert min(gaps(there.arrivals)) >= 0.4 - JITTER  # the redirect hop waited too


def test_a_redirect_to_a_page_the_targets_robots_txt_forbids_is_not_followed(tmp_path):
    here, there = TimedServer().start(), TimedServer().start()
    try:
        cfg = two_host_config(tmp_path, {"here": (here, 0), "there": (there, 0)}, workers=1)
        out = tmp_path / "output"
        new_run(out)
        moved = article_on(here, out, "here/news", "moved", 40)
        here.routes["/news/moved.html"] = Route(status=301, location=f"{there.url}/private/moved.html")
        there.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /private/\n", content_type="text/plain")
        there.routes["/private/moved.html"] = Route(article_page("Talks moved", ["Elsewhere now."]))
        assert stage.run_stage(context(cfg, new_run(out)))["rechecks"] == {"error": 1}
    finally:
        here.stop()
        there.stop()
    assert [p for _m, p, _s in there.log] == ["/robots.txt"]  # asked, and kept out
    assert check_outcome(out, moved) == "error" and "article_deleted" not in alert_types(out)
