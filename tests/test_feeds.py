"""Atom feeds and edits end to end: real `newsmon run` nights against a loopback site whose articles are
edited (one substantively, one by a comma) and deleted, with a [[watch]] that matches; every feed read by
feedparser (as feed readers read them) and validated against RFC 4287's RELAX NG schema
(tests/resources/atom/, with the schema's two Schematron rules checked here: libxml2 skips them)."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest
from lxml import etree

from crawler.localsite import write_loopback_config
from crawler.store import items as item_store
from tests.alerting import article_page, listing_page, rows
from tests.sitesrv import Route, SiteServer

ATOM = "{http://www.w3.org/2005/Atom}"
SCHEMA = Path(__file__).resolve().parent / "resources" / "atom" / "atom.rng"
PARAS = [
    "The foreign minister arrived in Beijing on Monday for two days of talks with his counterpart.",
    "Officials said the talks would cover energy supplies, the situation in the region and a summit.",
    "The visit is the third this year, following meetings in Moscow in March and in Astana in July.",
]
EDITED = [
    PARAS[0],
    "Officials said the talks would cover gas supplies, the situation in the region and a summit in Kazan next month.",
    PARAS[2],
]
COMMA = [PARAS[0], PARAS[1], PARAS[2].replace("this year, following", "this year following")]
WATCH = '\n[[watch]]\nname = "Beijing"\nphrases = ["Beijing"]\n'


def serve(server: SiteServer, pages: dict[int, list[str]]) -> None:
    links = [(f"/politics/{n}.html", f"Politics story {n}") for n in pages]
    server.routes["/politics/"] = Route(listing_page(links))
    for (path, title), paragraphs in zip(links, pages.values()):
        server.routes[path] = Route(article_page(title, paragraphs))


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    """Night 1: three articles, the watch matches. Night 2: story 1 edited, story 3 loses a comma, story 2
    deleted (404; one answer confirms it here). Night 3: nothing changes. Returns (output dir, feeds after
    night 2, feeds after night 3, the runs' stdout)."""
    from tests.conftest import run_newsmon

    tmp = tmp_path_factory.mktemp("feeds")
    server = SiteServer().start()
    try:
        cfg = write_loopback_config(
            tmp / "newsmon.toml",
            [
                {
                    "id": "site",
                    "name": "Test site",
                    "homepage": f"{server.url}/",
                    "sections": [
                        {
                            "id": "politics",
                            "kind": "listing",
                            "url": f"{server.url}/politics/",
                            "link_css": "div.item a",
                        }
                    ],
                }
            ],
            crawler={"output_dir": str(tmp / "output"), "timeout": 30},
            lifecycle={"recheck_max": 50, "recheck_interval_hours": 0, "recheck_gone_checks": 1},
            extra=WATCH,
        )
        out = tmp / "output"
        outputs = []

        def night():
            proc = run_newsmon("run", "--config", str(cfg), timeout=120)
            assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stdout + proc.stderr
            assert " stage " not in proc.stdout, proc.stdout  # "stage crawler.… failed"
            outputs.append(proc.stdout)
            return {p.name: p.read_bytes() for p in sorted((out / "feeds").glob("*.atom"))}

        serve(server, {1: PARAS, 2: PARAS, 3: PARAS})
        night()
        serve(server, {1: EDITED, 3: COMMA})
        del server.routes["/politics/2.html"]
        second = night()
        third = night()
    finally:
        server.stop()
    return out, second, third, outputs


def test_every_feed_is_written_and_read_by_feedparser(nights):
    _, feeds, _, _ = nights
    assert sorted(feeds) == ["alerts.atom", "edits.atom", "watch-Beijing.atom"]
    for name, data in feeds.items():
        parsed = feedparser.parse(data)
        assert not parsed.bozo, (name, parsed.get("bozo_exception"))
        assert parsed.version == "atom10"
        assert parsed.feed.id.startswith("urn:uuid:") and parsed.feed.title.startswith("newsmon: ")
        assert parsed.entries, name
        ids = [e.id for e in parsed.entries]
        assert len(set(ids)) == len(ids) and all(i.startswith("urn:uuid:") for i in ids)
        stamps = [e.updated_parsed for e in parsed.entries]
        assert stamps == sorted(stamps, reverse=True), name  # newest first


def test_every_feed_is_valid_atom(nights):
    _, feeds, _, _ = nights
    schema = etree.RelaxNG(etree.parse(str(SCHEMA)))
    for name, data in feeds.items():
        doc = etree.fromstring(data)
        assert schema.validate(doc), (name, schema.error_log)
        # the appendix's Schematron rules: an author on the feed (or every entry); each entry with a content or an
        # alternate link
        assert doc.find(f"{ATOM}author/{ATOM}name").text == "newsmon"
        for entry in doc.iter(f"{ATOM}entry"):
            assert entry.find(f"{ATOM}content") is not None or entry.find(f"{ATOM}link[@rel='alternate']") is not None


def test_alerts_feed_holds_every_event_and_edits_feed_the_edit_with_its_diff(nights):
    out, feeds, _, _ = nights
    events = rows(out, "SELECT id, type FROM events")
    alerts = feedparser.parse(feeds["alerts.atom"])
    assert len(alerts.entries) == len(events)
    assert {t["term"] for e in alerts.entries for t in e.tags} >= {
        "article_edited",
        "article_deleted",
        "watch_matched",
        "section_appeared",
    }
    edits = feedparser.parse(feeds["edits.atom"])
    kinds = sorted(t["term"] for e in edits.entries for t in e.tags if t["term"].startswith("article_"))
    assert kinds == ["article_deleted", "article_edited"]
    edit = next(e for e in edits.entries if any(t["term"] == "article_edited" for t in e.tags))
    assert edit.title == "Edited: Politics story 1"
    assert edit.link.endswith("/politics/1.html")
    body = edit.content[0].value
    assert "<del>energy</del><ins>gas</ins>" in body and "<ins> in Kazan next month</ins>" in body
    related = next(link.href for link in edit.links if link.rel == "related")
    assert related.startswith("../diffs/") and (out / "feeds" / related).resolve().is_file()
    deleted = next(e for e in edits.entries if any(t["term"] == "article_deleted" for t in e.tags))
    assert deleted.title == "Deleted: Politics story 2" and "HTTP 404" in deleted.content[0].value


def test_watch_feed_holds_the_watch_hits(nights):
    out, feeds, _, _ = nights
    hits = feedparser.parse(feeds["watch-Beijing.atom"])
    matched = rows(out, "SELECT count(*) AS n FROM events WHERE type = 'watch_matched'")[0]["n"]
    assert matched == 3 and len(hits.entries) == matched
    assert all(e.title.startswith("Watch Beijing: Politics story ") for e in hits.entries)
    # each hit quotes the sentence around its match, the match in bold
    assert all(
        '<blockquote><p lang="en">The foreign minister arrived in <strong>Beijing</strong> on Monday'
        in e.content[0].value
        for e in hits.entries
    ), hits.entries[0].content[0].value


def test_ids_are_stable_and_an_unchanged_night_rewrites_nothing(nights):
    _, second, third, _ = nights
    for name in second:
        before, after = feedparser.parse(second[name]), feedparser.parse(third[name])
        assert [e.id for e in before.entries] == [e.id for e in after.entries]
        assert before.feed.id == after.feed.id
    assert second == third  # same bytes: a conditional GET sees no change


def test_a_one_comma_edit_keeps_its_version_without_an_alert(nights):
    out, _, _, _ = nights
    kept = rows(
        out, "SELECT a.url, count(*) AS n FROM article_versions v JOIN articles a ON a.id = v.article_id GROUP BY a.url"
    )
    versions = {r["url"].rsplit("/", 1)[1]: r["n"] for r in kept}
    assert versions == {"1.html": 2, "3.html": 2}
    edited = rows(
        out,
        "SELECT json_extract(details, '$.url') AS url, json_extract(details, '$.changed_chars') AS n "
        "FROM events WHERE type = 'article_edited'",
    )
    assert [r["url"].rsplit("/", 1)[1] for r in edited] == ["1.html"] and edited[0]["n"] >= 10
    third = rows(out, "SELECT json FROM items i JOIN articles a ON a.id = i.id WHERE a.url LIKE '%/3.html'")
    assert item_store.loads(third[0]["json"])["version"] == 2
    assert "this year following" in item_store.row_text(third[0]["json"])


def test_the_digest_shows_the_edit_and_links_its_diff_page(nights):
    out, _, _, _ = nights
    digest = next(out.glob("*/digest.txt")).read_text(encoding="utf-8")
    lines = [line for line in digest.splitlines() if line.lstrip().startswith("EDIT #")]
    assert any(
        "¶3 EN" in line and "[-energy-]{+gas+}" in line and "{+ in Kazan next month+}" in line for line in lines
    ), lines
    html = next(out.glob("*/digest.html")).read_text(encoding="utf-8")
    tree = etree.HTML(html)
    link = tree.xpath("//div[@class='edit']//a[@class='difflink']/@href")
    assert len(link) == 1 and (next(out.glob("*/digest.html")).parent / link[0]).resolve().is_file()
    assert tree.xpath("//div[@class='edit']//del/text()") == ["energy"]


def test_newsmon_diff_prints_the_edit(nights, newsmon):
    out, _, _, _ = nights
    ident = rows(out, "SELECT id FROM articles WHERE url LIKE '%/1.html'")[0]["id"]
    proc = newsmon("diff", ident[:8], "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "version 2 (" in proc.stdout and "[-energy-]{+gas+}" in proc.stdout
    page = newsmon("diff", ident[:8], "--html", "--output", str(out))
    assert page.returncode == 0 and page.stdout.startswith("<!DOCTYPE html>") and "<del>energy</del>" in page.stdout
    unknown = newsmon("diff", "ffffffff", "--output", str(out))
    assert unknown.returncode == 2 and "no stored item id starts with ffffffff" in unknown.stderr
    first = newsmon("diff", ident[:8], "--version", "1", "--output", str(out))
    assert first.returncode == 2 and "--version takes 2" in first.stderr and "Traceback" not in first.stderr


def test_a_translated_edit_titled_in_english_beside_the_original_and_linked_under_the_served_address(tmp_path):
    from crawler import state
    from crawler.config import load_config
    from crawler.feeds.settings import settings_of
    from crawler.feeds.stage import write_feeds
    from tests import editkit

    out = tmp_path / "output"
    ident, _ = editkit.edited_article(out)
    cfg = tmp_path / "served.toml"
    cfg.write_text(
        f'[crawler]\noutput_dir = "{out}"\n[feeds]\nbase_url = "https://desk.example.org/newsmon/"\nmax_entries = 1\n',
        encoding="utf-8",
    )
    config = load_config(cfg)
    conn = state.connect(out)
    try:
        summary = write_feeds(conn, config, out, settings_of(config))
        again = write_feeds(conn, config, out, settings_of(config))
    finally:
        conn.close()
    assert summary["written"] == 2 and summary["diff_pages"] == 1  # alerts and edits; no watch
    assert again["written"] == 0 and again["diff_pages"] == 0  # nothing changed, nothing rewritten
    data = (out / "feeds" / "edits.atom").read_bytes()
    assert etree.RelaxNG(etree.parse(str(SCHEMA))).validate(etree.fromstring(data))
    feed = feedparser.parse(data)
    (entry,) = feed.entries
    assert entry.title == f"Edited: {editkit.TITLE_EN} [{editkit.TITLE}]"
    assert (
        next(link.href for link in feed.feed.links if link.rel == "self")
        == "https://desk.example.org/newsmon/feeds/edits.atom"
    )
    assert (
        next(link.href for link in entry.links if link.rel == "related")
        == f"https://desk.example.org/newsmon/diffs/{ident}-v2.html"
    )
    body = entry.content[0].value
    assert "<del>Wednesday</del><ins>Thursday</ins>" in body and "<del>среду</del><ins>четверг</ins>" in body


def test_a_bad_base_url_is_one_line_naming_its_place(tmp_path, newsmon):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[feeds]\nbase_url = "desk.example.org/newsmon"\n', encoding="utf-8")
    proc = newsmon("sources", "check", "--config", str(cfg))
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert f"{cfg}:2: [feeds] base_url: expected an http(s) URL" in proc.stdout + proc.stderr
