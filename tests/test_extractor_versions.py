"""Extractor versions: every item records the extractor that read it (``item["extractor"]``), and an article
re-check compares an item stored by another extractor through its stored raw pages read again now — so an
upgraded trafilatura or a site parser's new version never raises ``article_edited``, and a real edit still does.

Real CLI crawl, then the real lifecycle stage, against the loopback server: the recorded People's Daily culture
article (site parser ``peoples_daily``) with its SYNTHETIC pages 2-4, and a small generated article page read
by the generic trafilatura path. An "older extractor" is simulated the only way an old install leaves a trace:
the stored item's paragraphs are what that older reading gave, and its recorded extractor names that version.
"""

from __future__ import annotations

import gzip
import json
import logging
import shutil
from contextlib import closing

import pytest
import trafilatura

from crawler import state
from crawler.extract.extraction import EXTRACTION_VERSION
from crawler.extract.parsers.peoples_daily import PeoplesDailyParser
from crawler.items import content_hash
from crawler.lifecycle import stage
from crawler.localsite import Route, SiteServer
from crawler.store import dayfiles
from crawler.store import items as item_store
from tests.alerting import article_page, context, new_run, rows
from tests.conftest import run_newsmon
from tests.crawlsite import section
from tests.test_continuation import PAGE_PATHS, POLITICS, by_path, config, expected_paragraphs, items_of, serve

GENERIC = "/site/news/talks.html"
TALKS = [
    "The foreign minister arrived in Beijing on Monday for two days of talks with his Chinese counterpart.",
    "Officials said the talks would cover energy supplies, the situation in the region and a summit.",
]
NOW = {"trafilatura": trafilatura.__version__, "extraction": EXTRACTION_VERSION}
FIRST_PAGE_EDIT = ("今年的6月16日是父亲节。", "今年的6月15日是父亲节。")


def with_generic_section(text: str, server: SiteServer) -> str:
    return text + section("site", "news", "listing", f"{server.url}/site/news.html", link_css="ul.list a")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One real crawl: the culture article (4 pages, site parser) and a one-page article (generic path)."""
    server = serve(SiteServer()).start()
    server.routes["/site/news.html"] = Route(
        f"<html><body><ul class='list'><li><a href='{GENERIC}'>Talks</a></li></ul></body></html>".encode()
    )
    server.routes[GENERIC] = Route(article_page("Minister visits Beijing", TALKS))
    work = tmp_path_factory.mktemp("extractors")
    (work / "crawl.toml").write_text(with_generic_section(config(server), server), encoding="utf-8")
    proc = run_newsmon("run", "--config", str(work / "crawl.toml"), "--output", str(work / "out"), cwd=work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    yield server, work
    server.stop()


def recheck_config(server: SiteServer, tmp_path, out):
    path = tmp_path / "recheck.toml"
    text = config(server, f'output_dir = "{out}"\n').replace(
        "recheck_max = 0", "recheck_max = 10\nrecheck_interval_hours = 0"
    )
    path.write_text(with_generic_section(text, server), encoding="utf-8")
    return path


def copy_of(site, tmp_path):
    server, work = site
    out = tmp_path / "out"
    shutil.copytree(work / "out", out)
    return out, by_path(server, items_of(out))


def store_as_read_by(out, item: dict, extractor: dict, paragraphs: list[str], pages: list[int] | None = None) -> None:
    """The ``items`` row as an extractor ``extractor`` that read the same raw pages as ``paragraphs`` left it
    (``pages``: its paragraph count of each page of a multi-page article)."""
    extras = dict(item["extras"])
    if pages:
        extras["pages"] = [dict(record, paragraphs=n) for record, n in zip(extras["pages"], pages)]
    older = dict(
        item,
        paragraphs=paragraphs,
        text="\n\n".join(paragraphs),
        extras=extras,
        extractor=extractor,
        content_hash=content_hash(item["title"], paragraphs),
    )
    with closing(state.connect(out)) as conn:  # through the item store, as that extractor's run stored it
        with state.transaction(conn):
            item_store.replace(conn, older)
        dayfiles.export_changed(conn, out)


def older_parser_reading(item: dict) -> tuple[list[str], list[int]]:
    """What an older People's Daily parser made of the same four pages: it kept the "【纠错】" widget as a
    last paragraph of page 1 and the trailing note of page 3's second paragraph."""
    counts = [p["paragraphs"] for p in item["extras"]["pages"]]
    paragraphs = list(item["paragraphs"])
    third_end = sum(counts[:3]) - 1
    paragraphs[third_end] += "（注：本页为合成测试页）"
    paragraphs.insert(counts[0], "【纠错】")
    return paragraphs, [counts[0] + 1, *counts[1:]]


def older_trafilatura_reading(item: dict) -> list[str]:
    """What an older trafilatura made of the generic page: the footer line kept as text."""
    return [*item["paragraphs"], "Copyright Test News"]


def no_304(server: SiteServer, *paths: str) -> dict[str, Route]:
    """Serve these pages in full (the stored validators would get a 304: nothing compared); the old routes."""
    saved = {path: server.routes[path] for path in paths}
    for path, route in saved.items():
        server.routes[path] = Route(route.body, content_type=route.content_type, conditional=False)
    return saved


def recheck(server, tmp_path, out, changed: dict[str, bytes] | None = None) -> dict:
    """The lifecycle stage of a new run (re-checks on) against the live pages, ``changed`` ones edited."""
    saved = no_304(server, PAGE_PATHS[0], POLITICS, GENERIC)
    for path, body in (changed or {}).items():
        server.routes[path] = Route(body, content_type=saved[path].content_type, conditional=False)
    try:
        return stage.run_stage(context(recheck_config(server, tmp_path, out), new_run(out)))["rechecks"]
    finally:
        server.routes.update(saved)


def article_events(out) -> list[dict]:
    return rows(out, "SELECT * FROM events WHERE type LIKE 'article%' ORDER BY seq")


def outcome_of(out, ident: str) -> str:
    return rows(out, "SELECT outcome FROM article_checks WHERE article_id = ?", ident)[0]["outcome"]


def item_row(out, ident: str) -> dict:
    return item_store.loads(rows(out, "SELECT json FROM items WHERE id = ?", ident)[0]["json"])


def test_new_items_record_the_extractor_that_read_them(site):
    server, work = site
    items = by_path(server, items_of(work / "out"))
    culture, generic = items[PAGE_PATHS[0]], items[GENERIC]
    assert culture["extractor"] == {"parser": "peoples_daily", "parser_version": PeoplesDailyParser.VERSION, **NOW}
    assert generic["extractor"] == {"parser": None, "parser_version": None, **NOW}
    assert culture["paragraphs"] == expected_paragraphs(1, 2, 3, 4)  # the merged article: page 1's
    assert item_row(work / "out", culture["id"])["extractor"] == culture["extractor"]


def test_an_upgraded_extractor_is_no_edit_of_an_unchanged_page(site, tmp_path):
    server, _work = site
    out, items = copy_of(site, tmp_path)
    culture, generic = items[PAGE_PATHS[0]], items[GENERIC]
    paragraphs, pages = older_parser_reading(culture)
    store_as_read_by(
        out, culture, dict(culture["extractor"], parser_version=PeoplesDailyParser.VERSION - 1), paragraphs, pages
    )
    store_as_read_by(out, generic, dict(generic["extractor"], trafilatura="1.6.0"), older_trafilatura_reading(generic))

    assert recheck(server, tmp_path, out) == {"unchanged": 3}  # politics too: same extractor
    assert article_events(out) == [] and rows(out, "SELECT * FROM article_versions") == []
    assert item_row(out, culture["id"])["paragraphs"] == paragraphs  # the stored item is left as it is


def test_the_same_readings_recorded_as_the_current_extractor_are_compared_as_stored(site, tmp_path):
    """The control: with the current extractor recorded, the stored paragraphs are what the page gives now,
    so the older readings above differ from the live pages — proof the test above compared something."""
    server, _work = site
    out, items = copy_of(site, tmp_path)
    culture, generic = items[PAGE_PATHS[0]], items[GENERIC]
    paragraphs, pages = older_parser_reading(culture)
    store_as_read_by(out, culture, culture["extractor"], paragraphs, pages)
    store_as_read_by(out, generic, generic["extractor"], older_trafilatura_reading(generic))

    assert recheck(server, tmp_path, out) == {"edited": 2, "unchanged": 1}


def test_a_real_edit_under_an_upgraded_extractor_is_reported_alone(site, tmp_path):
    server, _work = site
    out, items = copy_of(site, tmp_path)
    culture = items[PAGE_PATHS[0]]
    older, pages = older_parser_reading(culture)
    store_as_read_by(
        out, culture, dict(culture["extractor"], parser_version=PeoplesDailyParser.VERSION - 1), older, pages
    )
    before, after = FIRST_PAGE_EDIT
    page_one = server.routes[PAGE_PATHS[0]].body.decode("utf-8")
    assert page_one.count(before) == 1
    edited_page = page_one.replace(before, after).encode("utf-8")

    assert recheck(server, tmp_path, out, {PAGE_PATHS[0]: edited_page}) == {"edited": 1, "unchanged": 2}
    (event,) = article_events(out)
    assert (event["type"], event["article_id"], event["cause"]) == (
        "article_edited",
        culture["id"],
        "1 paragraph changed",
    )
    (op,) = json.loads(event["details"])["paragraphs"]  # not the older reading's differences
    now = culture["paragraphs"]
    assert op == {
        "op": "replace",
        "old_index": 1,
        "new_index": 1,
        "old": [now[1]],
        "new": [now[1].replace(before, after)],
    }
    latest = item_row(out, culture["id"])
    assert latest["version"] == 2 and latest["extractor"] == culture["extractor"]
    assert latest["paragraphs"] == [now[0], now[1].replace(before, after), *now[2:]]
    assert [p["paragraphs"] for p in latest["extras"]["pages"]] == [p["paragraphs"] for p in culture["extras"]["pages"]]
    first = rows(out, "SELECT paragraphs FROM article_versions WHERE article_id = ? AND version = 1", culture["id"])
    assert json.loads(first[0]["paragraphs"]) == older  # version 1 as it was stored
    assert gzip.decompress((out / latest["raw_path"]).read_bytes()) == edited_page


def test_without_its_raw_page_the_stored_text_is_compared_and_the_reason_logged(site, tmp_path, caplog):
    server, _work = site
    out, items = copy_of(site, tmp_path)
    generic = items[GENERIC]
    store_as_read_by(out, generic, dict(generic["extractor"], trafilatura="1.6.0"), generic["paragraphs"])
    (out / generic["raw_path"]).unlink()

    with caplog.at_level(logging.WARNING, logger="crawler.lifecycle.recheck"):
        assert recheck(server, tmp_path, out) == {"unchanged": 3}
    said = [r.getMessage() for r in caplog.records if generic["url"] in r.getMessage()]
    assert len(said) == 1 and f"raw page missing: {generic['raw_path']}" in said[0], said
    assert outcome_of(out, generic["id"]) == "unchanged"
