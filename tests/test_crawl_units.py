"""The crawl's plain functions, on real recorded pages: link rules, feeds in legacy charsets, sitemaps,
charset correction, snapshots, the store's crash recovery, and the Scrapy wiring."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from scrapy.http import HtmlResponse, XmlResponse
from scrapy.utils.misc import load_object

from crawler import state
from crawler.config import Section
from crawler.crawl.charset import best_response
from crawler.crawl.links import (
    MalformedFeed,
    feed_entries,
    feed_links,
    feed_next_page,
    fingerprint,
    listing_links,
    next_page,
    sitemap_urls,
)
from crawler.crawl.snapshots import Snapshot, previous_links, write_snapshot
from crawler.crawl.store import FetchedPage, Store, read_raw
from crawler.extract.extracted import Extracted
from crawler.extract.language import LangResult
from crawler.jsonl import read
from crawler.localsite import undo_wget_links
from crawler.runner import finish_run, host_groups, restore, start_run
from crawler.store.dayfiles import items_path
from tests.conftest import ROOT
from tests.recorded import recorded


def sec(**kw) -> Section:
    base = dict(source_id="s", source_name="S", id="x", name="X", kind="listing", url="http://h/")
    return Section(**{**base, **kw})


def kremlin_listing() -> tuple[str, str]:
    path = "/events/president/news/by-date/27.08.2020"
    body = undo_wget_links(recorded("kremlin-en/listing-news-by-date-27.08.2020.html").read_bytes(), path)
    return body.decode("utf-8"), "http://en.kremlin.ru" + path


def test_listing_links_follow_the_css_rule_in_page_order():
    html, url = kremlin_listing()
    found = listing_links(html, url, sec(link_css="h3.hentry__title a[rel=bookmark]"))
    assert len(found) == 20
    assert found[0] == "http://en.kremlin.ru/events/president/news/63953"
    assert found[-1] == "http://en.kremlin.ru/events/president/news/63914"
    assert next_page(html, url, "a.more-next[rel=next]") == "http://en.kremlin.ru/events/president/news/page/2"


def test_link_rules_combine_css_xpath_and_regex():
    html, url = kremlin_listing()
    only = listing_links(html, url, sec(link_css="h3.hentry__title a", link_pattern=r"/639(53|51)$"))
    assert only == [
        "http://en.kremlin.ru/events/president/news/63953",
        "http://en.kremlin.ru/events/president/news/63951",
    ]
    by_xpath = listing_links(html, url, sec(link_xpath="//div[@data-id]//h3/a/@href"))
    assert len(by_xpath) == 20
    by_regex = listing_links(html, url, sec(link_pattern=r"/events/president/news/\d+$"))
    assert set(listing_links(html, url, sec(link_css="h3.hentry__title a"))) <= set(by_regex)
    assert listing_links("<html><body><p>no links</p></body></html>", url, sec(link_css="a")) == []


@pytest.mark.parametrize(
    "file, count, title",
    [
        (
            "encodings/KOI8-R/newsru.com.xml",
            30,
            "В Турции психически нездоровый мужчина взорвал хлопушку в здании Минюста",
        ),
        (
            "encodings/windows-1251-russian/newsru.com.xml",
            30,
            "В Турции психически нездоровый мужчина взорвал хлопушку в здании Минюста",
        ),
        ("encodings/windows-1251-russian/aif.ru.health.xml", 17, "Как пережить новогоднюю ночь"),
        ("encodings/GB2312/cnblog.org.xml", 16, None),
        ("encodings/GB2312/softsea.net.xml", 100, None),
        (
            "kremlin-en/feed-news.atom.xml",
            20,
            "Launching motor traffic on\xa0completed sections of\xa0Taurida motorway",
        ),
    ],
)
def test_feeds_decode_by_their_xml_declaration(file, count, title):
    response = XmlResponse("http://feed.example/rss", body=recorded(file).read_bytes())  # Scrapy's own decoding
    entries = feed_entries(response.text, response.url)
    assert len(entries) == count
    if title:
        assert entries[0].title == title
    assert all(e.url.startswith("http") for e in entries)
    assert "\ufffd" not in "".join(e.title or "" for e in entries)


def test_feed_pagination_link():
    response = XmlResponse(
        "http://en.kremlin.ru/events/president/news/feed", body=recorded("kremlin-en/feed-news.atom.xml").read_bytes()
    )
    assert feed_next_page(response.text, response.url) == "http://en.kremlin.ru/events/president/news/feed/page/2"
    rss = XmlResponse("http://h/rss", body=recorded("encodings/KOI8-R/newsru.com.xml").read_bytes())
    assert feed_next_page(rss.text, rss.url) is None


def test_acnnewswire_gb2312_feed_keeps_its_chinese_title():
    response = XmlResponse(
        "http://feed.example/rss", body=recorded("encodings/GB2312/acnnewswire.net.xml").read_bytes()
    )
    entry = next(e for e in feed_entries(response.text, response.url) if "29698" in e.url)
    assert entry.title.startswith("JCB 与中国银联")
    assert feed_links(response.text, response.url, sec(kind="feed", link_pattern="Art_ID=29698$")) == [entry.url]


def test_malformed_or_wrong_documents_are_named():
    with pytest.raises(MalformedFeed, match="not well-formed"):
        feed_entries("<rss><channel><item>", "http://h/")
    with pytest.raises(MalformedFeed, match="root element <html>"):
        feed_entries("<html><body>hi</body></html>", "http://h/")
    with pytest.raises(MalformedFeed, match="empty"):
        feed_entries("", "http://h/")


def test_sitemaps_and_sitemap_indexes():
    urlset = (
        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>http://h/n1/2024/0424/c1001-40223222.html</loc></url><url><loc>http://h/about</loc></url></urlset>"
    )
    assert sitemap_urls(urlset, "http://h/sitemap.xml") == (
        "urlset",
        ["http://h/n1/2024/0424/c1001-40223222.html", "http://h/about"],
    )
    index = (
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>/s1.xml</loc></sitemap>'
        "</sitemapindex>"
    )
    assert sitemap_urls(index, "http://h/sitemap_index.xml") == ("sitemapindex", ["http://h/s1.xml"])


def test_fingerprint_ignores_order_only():
    assert fingerprint(["a", "b", "c"]) == fingerprint(["c", "a", "b"])
    assert fingerprint(["a", "b"]) != fingerprint(["a", "b", "c"])


@pytest.mark.parametrize(
    "file, content_type, encoding, note",
    [
        ("peoples-daily/culture-2019-0615-c1013-31153719.SYNTHETIC-gbk-bytes.html", "text/html", "gb18030", None),
        (
            "peoples-daily/culture-2019-0615-c1013-31153719.html",
            "text/html",
            "utf-8",
            "labelled GB2312 but the bytes are UTF-8",
        ),
        (
            "peoples-daily/culture-2019-0615-c1013-31153719.SYNTHETIC-gbk-bytes.html",
            "text/html; charset=utf-8",
            "gb18030",
            "utf-8 decoding gave replacement characters",
        ),
        ("kremlin-en/news-63953.html", "text/html; charset=utf-8", "utf-8", None),
        (
            "encodings/KOI8-R/_chromium_KOI8-R_with_no_encoding_specified.html",
            "text/html; charset=windows-1251",
            "koi8-r",
            "cp1251 decoding reads as capitals only; decoded as koi8-r",
        ),
        (
            "encodings/windows-1251-russian/_chromium_windows-1251_with_no_encoding_specified.html",
            "text/html; charset=koi8-r",
            "cp1251",
            "koi8-r decoding reads as capitals only; decoded as cp1251",
        ),
        (
            "encodings/windows-1251-russian/_chromium_windows-1251_with_no_encoding_specified.html",
            "text/html; charset=windows-1251",
            "cp1251",
            None,
        ),
    ],
)
def test_charset_lies_are_corrected_with_a_note(file, content_type, encoding, note):
    response = HtmlResponse("http://h/a", body=recorded(file).read_bytes(), headers={"Content-Type": content_type})
    fixed, said = best_response(response)
    assert fixed.encoding == encoding
    assert (said is None) if note is None else (note in said)
    assert "\ufffd" not in fixed.text
    assert "мониторинговой" in fixed.text if "encodings/" in file else True  # the words, not mojibake


def test_a_304_carries_the_previous_links(tmp_path):
    conn = state.connect(tmp_path)
    run1 = start_run(tmp_path)
    snap = Snapshot("s/x", "http://h/", "css 'a'", http_status=200, final_url="http://h/", page_bytes=10)
    snap.add_links(["http://h/1", "http://h/2", "http://h/1"])
    snap.validators["http://h/"] = ('"etag"', None)
    write_snapshot(conn, run1, snap)
    assert previous_links(conn, "s/x") == ["http://h/1", "http://h/2"]
    run2 = start_run(tmp_path)
    write_snapshot(conn, run2, Snapshot("s/x", "http://h/", "css 'a'", http_status=None, error="timeout after 1 s"))
    assert previous_links(conn, "s/x") == ["http://h/1", "http://h/2"]  # a failed run carries nothing
    etag = conn.execute("SELECT etag FROM http_validators WHERE url = 'http://h/'").fetchone()[0]
    assert etag == '"etag"'


def fetched(n: int) -> FetchedPage:
    url = f"http://h/article/{n}"
    return FetchedPage(
        sec(), url, url, f"<p>article {n}</p>".encode(), f"<p>article {n}</p>", "utf-8", "2026-11-02T10:00:00+00:00"
    )


def extracted(n: int) -> Extracted:
    return Extracted(title=f"Title {n}", paragraphs=[f"Paragraph of article {n}."], published_at=None)


def test_store_lands_once_and_keeps_the_raw_page(tmp_path):
    run_id = start_run(tmp_path)
    store = Store(tmp_path, run_id, "2026-11-02")
    item = store.save(fetched(1), extracted(1), LangResult("en", 0.99))
    assert item is not None and store.save(fetched(1), extracted(1), LangResult("en", 0.99)) is None
    assert read_raw(tmp_path, item["raw_path"]) == b"<p>article 1</p>"
    lines = list(read(items_path(tmp_path, "2026-11-02")))
    assert [line["id"] for line in lines] == [item["id"]]
    assert lines[0]["translation"]["status"] == "not_needed"
    store.close()


def test_a_kill_between_the_db_commit_and_the_jsonl_line_is_repaired_next_run(tmp_path):
    killed = start_run(tmp_path)
    store = Store(tmp_path, killed, "2026-11-02")
    landed = store.save(fetched(1), extracted(1), LangResult("en", 0.99))
    page = fetched(2)  # the kill: the DB commit of article 2 happened, its JSONL append did not
    from crawler.crawl.store import build_item

    store._record(page, build_item(page, extracted(2), LangResult("en", 0.99), "raw/s/x.html.gz"))
    store.close()
    path = items_path(tmp_path, "2026-11-02")
    assert len(list(read(path))) == 1
    next_run = start_run(tmp_path)
    restore(tmp_path, next_run)
    ids = [line["id"] for line in read(path)]
    assert len(ids) == 2 and ids[0] == landed["id"]
    before = path.stat().st_mtime_ns
    restore(tmp_path, next_run)  # idempotent: nothing left to write
    assert path.stat().st_mtime_ns == before and len(list(read(path))) == 2
    finish_run(tmp_path, next_run, "ok", {})
    statuses = dict(state.connect(tmp_path).execute("SELECT id, status FROM runs").fetchall())
    assert statuses[killed] == "interrupted"


def test_sections_of_one_host_or_source_are_crawled_one_after_another():
    a, b = sec(id="a", url="http://one/a"), sec(id="b", url="http://one/b")
    c = sec(source_id="t", id="c", url="https://two/c")
    assert host_groups([a, c, b]) == [[a, b], [c]]
    feed = sec(source_id="pd", id="feed", url="http://www.people.example/rss.xml")
    listing = sec(source_id="pd", id="list", url="http://world.people.example/index.html")
    other = sec(source_id="x", id="y", url="http://world.people.example/other.html")
    assert host_groups([feed, c, other, listing]) == [[feed, other, listing], [c]]


def test_scrapy_settings_point_at_loadable_objects():
    from crawler.crawl import settings

    middlewares = [dotted for dotted, order in settings.DOWNLOADER_MIDDLEWARES.items() if order is not None]
    for dotted in [
        *settings.ITEM_PIPELINES,
        *middlewares,
        settings.LOG_FORMATTER,
        "spiders.listing.ListingSpider",
        "spiders.feed.FeedSpider",
        "spiders.sitemap.SitemapSpider",
    ]:
        assert load_object(dotted)
    assert settings.REMOTE_CONTROL_ENABLED is False and settings.TELNETCONSOLE_ENABLED is False  # no open ports


def test_verbose_flag_works_before_and_after_the_command():
    from crawler.cli import build_parser

    parser = build_parser()
    assert [parser.parse_args(a).verbose for a in (["-v", "run"], ["run", "-vv"], ["run"])] == [1, 2, 0]


def test_scrapy_list_works_from_the_repository_root():
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "list"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["feed", "listing", "sitemap"]


def test_bad_crawler_table_is_named(tmp_path):
    from crawler.config import load_config
    from crawler.crawl.settings import for_config
    from crawler.exceptions import ConfigError

    cfg = tmp_path / "c.toml"
    cfg.write_text("[crawler]\ntimeout = 5\ndownload_delay = 'fast'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c\.toml:3: \[crawler\] download_delay: expected int or float"):
        for_config(load_config(cfg))
    cfg.write_text(
        "[crawler]\nuser_agent = 'me (+https://example.org/contact)'\ndownload_delay = 0\n", encoding="utf-8"
    )
    built = for_config(load_config(cfg), run_id=7)
    assert built["USER_AGENT"] == "me (+https://example.org/contact)" and built["DOWNLOAD_DELAY"] == 0
    assert built["NEWSMON_RUN_ID"] == 7 and built["ROBOTSTXT_OBEY"] is True


def test_scrapy_crawl_of_one_section_from_the_repository_root(tmp_path, site_server):
    from tests.crawlsite import CRAWLER_TABLE, kremlin_routes, section

    kremlin_routes(site_server)
    config = tmp_path / "one.toml"
    config.write_text(
        CRAWLER_TABLE
        + section(
            "kremlin-en",
            "archive",
            "listing",
            f"{site_server.url}/events/president/transcripts/archive",
            link_css="h3.hentry__title a[rel=bookmark]",
        ),
        encoding="utf-8",
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "listing",
            "-a",
            "section=kremlin-en/archive",
            "-s",
            f"NEWSMON_CONFIG={config}",
            "-s",
            f"NEWSMON_OUTPUT_DIR={tmp_path / 'out'}",
            "-s",
            "LOG_LEVEL=WARNING",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line for f in (tmp_path / "out").glob("*/items.jsonl") for line in f.read_text("utf-8").splitlines()]
    assert len(lines) == 10
    conn = state.connect(tmp_path / "out")
    assert conn.execute("SELECT status FROM runs").fetchall()[0][0] == "ok"  # the crawl opened its own run
    assert conn.execute("SELECT links_found FROM section_snapshots").fetchone()[0] == 10


def test_a_bare_scrapy_crawl_writes_to_a_scratch_directory_not_the_archive(tmp_path, site_server):
    """The documented debugging command (docs/operations.md) leaves the configured archive alone: no run row,
    no items counted as news; what it crawled is in the scratch directory it names."""
    from tests.crawlsite import CRAWLER_TABLE, kremlin_routes, section

    kremlin_routes(site_server)
    archive, scratch = tmp_path / "archive", tmp_path / "tmp"
    scratch.mkdir()
    config = tmp_path / "one.toml"
    config.write_text(
        CRAWLER_TABLE.replace("[crawler]", f'[crawler]\noutput_dir = "{archive}"', 1)
        + section(
            "kremlin-en",
            "archive",
            "listing",
            f"{site_server.url}/events/president/transcripts/archive",
            link_css="h3.hentry__title a[rel=bookmark]",
        ),
        encoding="utf-8",
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "listing",
            "-a",
            "section=kremlin-en/archive",
            "-s",
            f"NEWSMON_CONFIG={config}",
            "-s",
            "LOG_LEVEL=WARNING",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TMPDIR": str(scratch)},
    )
    assert proc.returncode == 0, proc.stderr
    assert not archive.exists(), sorted(archive.rglob("*"))
    [written] = scratch.glob("newsmon-scrapy-*")
    assert f"a bare scrapy crawl is a debugging crawl: it writes to {written}, not to your archive" in proc.stderr
    assert sum(len(f.read_text("utf-8").splitlines()) for f in written.glob("*/items.jsonl")) == 10


def test_an_edited_link_rule_is_not_answered_from_the_last_run(tmp_path):
    from crawler.crawl.snapshots import same_rule_as_last_time

    conn = state.connect(tmp_path)
    assert not same_rule_as_last_time(conn, "s/x", "css 'a'")  # first run: full GET
    write_snapshot(conn, start_run(tmp_path), Snapshot("s/x", "http://h/", "css 'a'", http_status=200))
    assert same_rule_as_last_time(conn, "s/x", "css 'a'")
    assert not same_rule_as_last_time(conn, "s/x", "css 'h3 a'")
