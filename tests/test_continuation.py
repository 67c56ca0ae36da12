"""Multi-page articles (People's Daily ``…-2.html``): the further pages are fetched and merged into one item.

Units: the parser's page declarations, ``PageWalk`` (order, cycles, limit, redirects, failures), the default
link rules. End to end (the real CLI against loopback): the recorded culture article, whose pager lists
4 pages, with SYNTHETIC pages 2-4 (tests/resources/synthetic, page 3 as GBK bytes) — one item with every
page in order; a second run fetching nothing; re-extraction from the stored raw pages; the worker-process
path; a page 2 that 404s and a page 4 robots.txt forbids.
"""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing

import pytest

from crawler import jsonl, state
from crawler.config import load_config
from crawler.crawl.links import matches_pattern
from crawler.crawl.store import read_raw
from crawler.extract.continuation import PageWalk, merge, with_stored_further_pages
from crawler.extract.extracted import Extracted
from crawler.extract.extraction import extract_article
from crawler.items import content_hash
from crawler.localsite import Route, SiteServer, page
from crawler.store import dayfiles
from crawler.store import items as item_store
from tests.conftest import run_newsmon
from tests.crawlsite import CRAWLER_TABLE, CULTURE_FURTHER, HTML, REC, SYN, merge_sources, section
from tests.recorded import recorded

STEM = "/n1/2019/0615/c1013-31153719"
PAGE_PATHS = [f"{STEM}.html"] + [f"{STEM}-{n}.html" for n in CULTURE_FURTHER]
CULTURE = REC / "peoples-daily/culture-2019-0615-c1013-31153719.html"
POLITICS = "/n1/2024/0424/c1001-40223222.html"
SITE = "http://culture.people.com.cn"


def page_file(number: int):
    return CULTURE if number == 1 else SYN / CULTURE_FURTHER[number][0]


def extracted_page(number: int, base: str = SITE) -> Extracted:
    """A page extracted on its own, as the crawl decodes it (page 3: GBK bytes labelled GB2312)."""
    raw = page_file(number).read_bytes()
    html = raw.decode("gb18030") if number == 3 else raw.decode("utf-8")
    return extract_article(html, base + PAGE_PATHS[number - 1])


def ext(paragraphs: list[str], further: list[str] = (), **extras) -> Extracted:
    return Extracted("T", paragraphs, None, [], {"continued_at": list(further), **extras})


# -- units --------------------------------------------------------------------------------------------


def test_parser_declares_the_pages_after_the_current_one():
    first = extracted_page(1)
    assert first.extras["continued_at"] == [SITE + p for p in PAGE_PATHS[1:]]
    assert "continues" not in first.extras
    third = extracted_page(3)
    assert third.extras["continued_at"] == [SITE + PAGE_PATHS[3]]  # not 1, 2 or itself
    assert third.extras["continues"] == SITE + PAGE_PATHS[0]
    assert "喆" in third.paragraphs[1]  # GBK-only character decoded
    assert "continued_at" not in extracted_page(4).extras  # the last page


def test_a_copy_under_another_address_still_declares_the_original_pages():
    gbk_copy = recorded("peoples-daily/culture-2019-0615-c1013-31153719.SYNTHETIC-gbk-bytes.html")
    got = extract_article(gbk_copy.read_bytes().decode("gb18030"), SITE + "/n1/2019/0615/c1013-91153719.html")
    assert got.extras["continued_at"] == [SITE + p for p in PAGE_PATHS[1:]]  # page 1 of the original: no


def test_walk_merges_pages_in_order_and_never_revisits_a_page():
    walk = PageWalk("http://s/a.html", ext(["one"], ["http://s/a-2.html", "http://s/a-3.html"]))
    order = []
    pages = {
        "http://s/a-2.html": ext(["two"], ["http://s/a.html", "http://s/a-2.html#top", "http://s/a-3.html"]),
        "http://s/a-3.html": ext(["three"], ["http://s/a-2.html", "http://s/a-4.html"]),
        "http://s/a-4.html": ext(["four"], ["http://s/a.html"]),
    }
    while (url := walk.next_url()) is not None:
        order.append(url)
        walk.add(url, pages[url])
    assert order == ["http://s/a-2.html", "http://s/a-3.html", "http://s/a-4.html"]
    merged = walk.merged()
    assert merged.paragraphs == ["one", "two", "three", "four"] and merged.title == "T"
    assert merged.extras["pages"] == [{"url": u, "paragraphs": 1} for u in ["http://s/a.html", *order]]
    assert "incomplete" not in merged.extras


def test_walk_stops_at_the_limit_and_names_what_it_left_out():
    further = [f"http://s/a-{n}.html" for n in range(2, 6)]
    walk = PageWalk("http://s/a.html", ext(["one"], further), max_further=2)
    while (url := walk.next_url()) is not None:
        walk.add(url, ext([url]))
    merged = walk.merged()
    assert merged.paragraphs == ["one", *further[:2]]
    assert merged.extras["incomplete"] == [
        {"url": u, "error": "beyond the limit of 2 further pages"} for u in further[2:]
    ]


def test_walk_records_failures_and_redirects_back_to_a_merged_page():
    walk = PageWalk("http://s/a.html", ext(["one"], ["http://s/a-2.html", "http://s/a-3.html", "http://s/a-4.html"]))
    walk.fail(walk.next_url(), "HTTP 404")
    assert walk.add(walk.next_url(), ext(["three"]))
    assert not walk.add(walk.next_url(), ext(["one"]), final_url="http://s/a.html")  # a redirect to page 1
    assert walk.next_url() is None
    merged = walk.merged()
    assert merged.paragraphs == ["one", "three"]
    assert [m["url"] for m in merged.extras["incomplete"]] == ["http://s/a-2.html", "http://s/a-4.html"]
    assert merged.extras["incomplete"][0]["error"] == "HTTP 404"


def test_a_one_page_article_is_left_as_it_is():
    only = ext(["one"])
    assert merge([({"url": "http://s/a.html"}, only)]) is only


def test_a_recheck_of_the_first_page_compares_with_the_whole_stored_article():
    item = {
        "paragraphs": ["one", "one b", "two", "three"],
        "extras": {
            "pages": [{"url": "a", "paragraphs": 2}, {"url": "b", "paragraphs": 1}, {"url": "c", "paragraphs": 1}]
        },
    }
    assert with_stored_further_pages(item, ext(["one", "one b"])).paragraphs == item["paragraphs"]
    edited = with_stored_further_pages(item, ext(["one", "one b", "one c"]))  # page 1 grew
    assert edited.paragraphs == ["one", "one b", "one c", "two", "three"]
    assert with_stored_further_pages({"paragraphs": ["x"], "extras": {}}, ext(["y"])).paragraphs == ["y"]


def test_default_link_rules_do_not_take_further_pages_for_articles():
    sections = [s for s in load_config().sections if s.source_id == "peoples-daily"]
    assert sections
    for sec in sections:
        assert sec.link_pattern, sec.key
        assert matches_pattern([SITE + PAGE_PATHS[0]], sec.link_pattern), sec.key
        assert matches_pattern([SITE + p for p in PAGE_PATHS[1:]], sec.link_pattern) == [], sec.key


def test_storing_an_article_again_keeps_its_raw_pages(tmp_path):
    """--refetch or a duplicate link: a further page missing this time must not shift page 3 onto page 2's
    raw copy of the stored item."""
    from crawler.config import Section
    from crawler.crawl.store import FetchedPage, Store
    from crawler.extract.language import LangResult

    sec = Section("pd", "PD", "s", "S", "listing", "http://s/")

    def fetched(url: str, body: str) -> FetchedPage:
        return FetchedPage(sec, url, url, body.encode(), body, "utf-8", "2026-11-29T00:00:00+00:00")

    def merged(*numbers: int) -> Extracted:
        walk = PageWalk("http://s/a.html", ext(["one"], ["http://s/a-2.html", "http://s/a-3.html"]))
        while (url := walk.next_url()) is not None:
            if int(url[-6]) in numbers:
                walk.add(url, ext([url]))
            else:
                walk.fail(url, "HTTP 404")
        return walk.merged()

    store = Store(tmp_path, 1, "2026-11-29")
    lang = LangResult("en", 1.0, None)
    item = store.save(
        fetched("http://s/a.html", "p1"),
        merged(2, 3),
        lang,
        [fetched("http://s/a-2.html", "p2"), fetched("http://s/a-3.html", "p3")],
    )
    assert [p.get("raw_path") for p in item["extras"]["pages"]] == [
        None,
        f"raw/pd/{item['id']}.p2.html.zst",
        f"raw/pd/{item['id']}.p3.html.zst",
    ]
    again = store.save(fetched("http://s/a.html", "p1 again"), merged(3), lang, [fetched("http://s/a-3.html", "p3")])
    store.close()
    assert again is None
    assert [read_raw(tmp_path, p) for p in (item["raw_path"], f"raw/pd/{item['id']}.p2.html.zst")] == [b"p1", b"p2"]


def test_the_limit_is_a_crawler_setting(tmp_path):
    from crawler.crawl.settings import for_config
    from crawler.exceptions import ConfigError

    assert for_config(load_config())["NEWSMON_MAX_FURTHER_PAGES"] == 10
    (tmp_path / "two.toml").write_text("[crawler]\nmax_further_pages = 2\n", encoding="utf-8")
    assert for_config(load_config(tmp_path / "two.toml"))["NEWSMON_MAX_FURTHER_PAGES"] == 2
    (tmp_path / "bad.toml").write_text("[crawler]\nmax_further_pages = -1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="max_further_pages"):
        for_config(load_config(tmp_path / "bad.toml"))


# -- end to end ---------------------------------------------------------------------------------------


def listing(*paths: str) -> Route:
    """A SYNTHETIC listing page (generated here) linking ``paths``."""
    links = "".join(f'<li><a href="{p}">{p}</a></li>' for p in paths)
    return Route(f"<html><body><ul class='list'>{links}</ul></body></html>".encode())


def serve(server: SiteServer) -> SiteServer:
    # The culture listing links page 2 too: a further page linked on its own must not become an item.
    server.routes["/pd/culture.html"] = listing(PAGE_PATHS[0], PAGE_PATHS[1])
    server.routes["/pd/politics.html"] = listing(POLITICS)
    server.routes[PAGE_PATHS[0]] = page(CULTURE, "text/html; charset=utf-8")
    for number, (name, content_type) in CULTURE_FURTHER.items():
        server.routes[PAGE_PATHS[number - 1]] = page(SYN / name, content_type)
    server.routes[POLITICS] = page(REC / "peoples-daily/politics-2024-0424-c1001-40223222.html", HTML)
    return server


def config(server: SiteServer, crawler_keys: str = "") -> str:
    u = server.url
    return merge_sources(
        [
            CRAWLER_TABLE.replace("[crawler]\n", "[crawler]\n" + crawler_keys, 1),
            section("peoples-daily", "culture", "listing", f"{u}/pd/culture.html", link_css="ul.list a"),
            section("peoples-daily", "politics", "listing", f"{u}/pd/politics.html", link_css="ul.list a"),
        ]
    )


def crawl(server: SiteServer, work, name: str, crawler_keys: str = "", *more: str):
    (work / f"{name}.toml").write_text(config(server, crawler_keys), encoding="utf-8")
    server.clear_log()
    proc = run_newsmon("run", "--config", str(work / f"{name}.toml"), "--output", str(work / name), *more, cwd=work)
    return proc, list(server.log)


def items_of(out) -> list[dict]:
    (path,) = sorted(out.glob("*/items.jsonl"))
    return list(jsonl.read(path))


def by_path(server: SiteServer, items: list[dict]) -> dict[str, dict]:
    return {item["url"].removeprefix(server.url): item for item in items}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    server = serve(SiteServer()).start()
    work = tmp_path_factory.mktemp("multipage")
    runs = {"first": crawl(server, work, "out"), "second": crawl(server, work, "out")}
    runs["pooled"] = crawl(server, work, "pooled", "extraction_workers = 1\n")
    # Page 2 is gone and robots.txt forbids page 4; the listing links page 1 only.
    del server.routes[PAGE_PATHS[1]]
    server.routes["/robots.txt"] = Route(
        f"User-agent: *\nDisallow: {PAGE_PATHS[3]}\n".encode(), content_type="text/plain"
    )
    server.routes["/pd/culture.html"] = listing(PAGE_PATHS[0])
    runs["broken"] = crawl(server, work, "broken")
    yield server, work, runs
    server.stop()


def expected_paragraphs(*numbers: int) -> list[str]:
    return [p for n in numbers for p in extracted_page(n).paragraphs]


def test_one_item_with_every_page_in_order(site):
    server, work, runs = site
    proc, log = runs["first"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    items = by_path(server, items_of(work / "out"))
    assert sorted(items) == sorted([PAGE_PATHS[0], POLITICS])  # page 2 is no item of its own
    item = items[PAGE_PATHS[0]]
    first = extracted_page(1)
    assert item["paragraphs"] == expected_paragraphs(1, 2, 3, 4)
    assert item["text"] == "\n\n".join(item["paragraphs"])
    assert (item["title"], item["published_at"], item["authors"]) == (first.title, first.published_at, first.authors)
    assert item["content_hash"] == content_hash(item["title"], item["paragraphs"])
    assert item["lang"] == "zh" and "incomplete" not in item["extras"]
    assert [p["url"].removeprefix(server.url) for p in item["extras"]["pages"]] == PAGE_PATHS
    assert [p["paragraphs"] for p in item["extras"]["pages"]] == [
        len(extracted_page(n).paragraphs) for n in (1, 2, 3, 4)
    ]
    assert "-2.html is a further page of" in (work / "out/logs/newsmon.log").read_text(encoding="utf-8")
    assert server.max_in_flight == 1  # further pages wait their turn like any request
    assert all(path in {p for _m, p, _s in log} for path in PAGE_PATHS)


def test_every_page_is_kept_raw_and_compressed(site):
    server, work, _runs = site
    out = work / "out"
    item = by_path(server, items_of(out))[PAGE_PATHS[0]]
    assert read_raw(out, item["raw_path"]) == CULTURE.read_bytes()
    for number, record in enumerate(item["extras"]["pages"][1:], start=2):
        assert record["raw_path"] == f"raw/peoples-daily/{item['id']}.p{number}.html.zst"
        assert read_raw(out, record["raw_path"]) == page_file(number).read_bytes()
    assert [p.get("raw_encoding") for p in item["extras"]["pages"][1:]] == ["utf-8", "gb18030", "utf-8"]


def test_second_run_lands_nothing_and_requests_no_page_of_the_article(site):
    server, work, runs = site
    proc, log = runs["second"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 new items" in proc.stdout
    assert len(items_of(work / "out")) == 2
    assert not [path for _m, path, _s in log if path in PAGE_PATHS]  # page 2's link is known too


def test_worker_processes_give_the_same_item(site):
    server, work, runs = site
    proc, _log = runs["pooled"]
    assert proc.returncode == 0, proc.stdout + proc.stderr

    def comparable(item):
        return {k: v for k, v in item.items() if k != "fetched_at"}

    assert sorted(map(comparable, items_of(work / "pooled")), key=lambda i: i["id"]) == sorted(
        map(comparable, items_of(work / "out")), key=lambda i: i["id"]
    )


def test_reextract_rebuilds_the_merged_text_from_the_raw_pages(site, tmp_path):
    server, work, _runs = site
    out = tmp_path / "out"
    shutil.copytree(work / "out", out)
    good = by_path(server, items_of(out))[PAGE_PATHS[0]]
    stale = dict(good, paragraphs=good["paragraphs"][:3], text="stale", content_hash="stale")
    with closing(state.connect(out)) as conn:  # an older reading, stored through the item store
        with state.transaction(conn):
            item_store.replace(conn, stale)
        dayfiles.export_changed(conn, out)
    day = next(out.glob("*/items.jsonl")).parent.name
    proc = run_newsmon(
        "digest", "--reextract", "--date", day, "--output", str(out), "--config", str(work / "out.toml"), check=True
    )
    assert "2 items, 1 changed, 0 failed" in proc.stderr
    conn = sqlite3.connect(out / "state.sqlite")
    row = item_store.loads(conn.execute("SELECT json FROM items WHERE id = ?", (good["id"],)).fetchone()[0])
    conn.close()
    assert row["paragraphs"] == good["paragraphs"] and row["content_hash"] == good["content_hash"]
    assert row["extras"]["pages"] == good["extras"]["pages"]


def test_failed_further_pages_are_named_and_the_article_still_lands(site):
    server, work, runs = site
    proc, _log = runs["broken"]
    assert proc.returncode == 1, proc.stdout + proc.stderr  # not everything was fetched
    items = by_path(server, items_of(work / "broken"))
    assert sorted(items) == sorted([PAGE_PATHS[0], POLITICS])  # the other section is unaffected
    item = items[PAGE_PATHS[0]]
    assert item["paragraphs"] == expected_paragraphs(1, 3)
    assert [(m["url"].removeprefix(server.url), m["error"]) for m in item["extras"]["incomplete"]] == [
        (PAGE_PATHS[1], "HTTP 404"),
        (PAGE_PATHS[3], "forbidden by robots.txt"),
    ]
    warnings = [line for line in proc.stderr.splitlines() if "WARNING" in line and "further page of" in line]
    assert len(warnings) == 2 and PAGE_PATHS[1] in warnings[0] and PAGE_PATHS[3] in warnings[1]
    assert items[POLITICS]["paragraphs"] and "incomplete" not in items[POLITICS]["extras"]
    culture_line = next(line for line in proc.stdout.splitlines() if line.startswith("peoples-daily/culture"))
    assert culture_line.split()[1:5] == ["1", "1", "1", "2"] and culture_line.endswith("partial")


def test_a_recheck_of_page_1_answered_in_full_finds_the_article_unchanged(site, tmp_path):
    """Re-checks fetch page 1 only: without the stored further pages it would look cut short (an edit)."""
    server, work, _runs = site
    out = tmp_path / "out"
    shutil.copytree(work / "out", out)
    (tmp_path / "recheck.toml").write_text(
        config(server).replace("recheck_max = 0", "recheck_max = 10\nrecheck_interval_hours = 0"), encoding="utf-8"
    )
    saved = server.routes[PAGE_PATHS[0]]
    server.routes[PAGE_PATHS[0]] = page(CULTURE, "text/html; charset=utf-8", conditional=False)  # no 304
    try:
        run_newsmon("run", "--config", str(tmp_path / "recheck.toml"), "--output", str(out), cwd=tmp_path)
    finally:
        server.routes[PAGE_PATHS[0]] = saved
    conn = sqlite3.connect(out / "state.sqlite")
    item = by_path(server, items_of(out))[PAGE_PATHS[0]]
    checks = dict(conn.execute("SELECT article_id, outcome FROM article_checks").fetchall())
    events = [t for (t,) in conn.execute("SELECT type FROM events WHERE article_id = ?", (item["id"],))]
    conn.close()
    assert checks[item["id"]] == "unchanged" and events == []
