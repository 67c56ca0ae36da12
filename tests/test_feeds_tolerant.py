"""Feeds read as feed readers read them (feedparser): a stray ``&``, HTML entities XML does not know, RSS 1.0
and Atom; entity declarations that read files or URLs, or explode, refused before any parser runs; the entry
dates carried to the item's ``published_at`` when the article page has none, end to end through `newsmon run`.
"""

from __future__ import annotations

import json
import time

import pytest

from crawler.config import Section
from crawler.crawl.links import MalformedFeed, feed_entries, feed_links, feed_next_page, parse_xml, read_feed
from crawler.localsite import Route, SiteServer, write_loopback_config
from tests.alerting import article_page
from tests.conftest import run_newsmon

PARAS = [
    "The delegation arrived on Monday for two days of talks on energy supplies and regional security.",
    "Officials said the talks would also prepare a summit planned for the spring in the capital.",
    "It is the third such visit this year, after meetings held in March and again in July.",
]

STRAY_AMP = """<?xml version="1.0" encoding="windows-1251"?>
<rss version="2.0"><channel><title>News & views</title><link>http://h/</link>
<item><title>Tom & Jerry meet</title><link>/a/1?x=1&y=2#top</link>
  <pubDate>Tue, 10 Jun 2025 04:00:00 +0300</pubDate></item>
<item><title>Second</title><link>http://h/a/2</link><pubDate>Wed, 11 Jun 2025 07:00:00 +0000</pubDate></item>
<item><title>Second again</title><link>http://h/a/2#comments</link></item>
<item><title>Third</title><guid>http://h/a/3</guid></item>
</channel></rss>"""

BAD_ENTITIES = """<rss version="2.0"><channel><title>Caf&eacute;</title>
<item><title>&Eacute;t&eacute;&nbsp;&mdash; summer</title><link>http://h/e/1</link>
  <pubDate>Thu, 12 Jun 2025 09:00:00 GMT</pubDate></item>
<item><title>Fish &amp; chips &copy; 2025</title><link>http://h/e/2</link></item>
</channel></rss>"""

RSS10 = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="http://h/"><title>RDF</title><link>http://h/</link></channel>
<item rdf:about="http://h/r/1"><title>One</title><link>http://h/r/1</link><dc:date>2025-06-11</dc:date></item>
<item rdf:about="http://h/r/2"><title>Two (no link, its rdf:about)</title></item>
</rdf:RDF>"""

ATOM = """<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom</title>
<link rel="self" href="/atom.xml"/><link rel="next" href="/atom.xml?page=2"/>
<entry><title>A</title><link rel="enclosure" href="/a.mp3"/><link rel="alternate" href="/at/1"/>
  <id>tag:h,2025:1</id><published>2025-06-12T08:30:00Z</published><updated>2025-06-13T00:00:00Z</updated></entry>
<entry><title>B</title><id>http://h/at/2</id><updated>2025-06-12T10:00:00+02:00</updated></entry>
<entry><title>C (tag id, no link: skipped)</title><id>tag:h,2025:3</id></entry>
</feed>"""


def sec(**kw) -> Section:
    base = dict(source_id="s", source_name="S", id="x", name="X", kind="feed", url="http://h/feed")
    return Section(**{**base, **kw})


# ---------------------------------------------------------------- reading
def test_a_stray_ampersand_costs_nothing():
    with pytest.raises(MalformedFeed):  # what a strict XML parser makes of it
        parse_xml(STRAY_AMP)
    feed = read_feed(STRAY_AMP, "http://h/feed")
    assert feed.repaired == "line 2, column 41: not well-formed (invalid token)"  # the channel title's "&"
    assert [(e.url, e.title) for e in feed.entries] == [
        ("http://h/a/1?x=1&y=2", "Tom & Jerry meet"),
        ("http://h/a/2", "Second"),
        ("http://h/a/2", "Second again"),
        ("http://h/a/3", "Third"),
    ]
    # the links' rules: absolute, fragment dropped, deduplicated, in feed order
    assert feed_links(STRAY_AMP, "http://h/feed", sec()) == ["http://h/a/1?x=1&y=2", "http://h/a/2", "http://h/a/3"]
    assert feed_links(STRAY_AMP, "http://h/feed", sec(link_pattern=r"/a/[23]$")) == ["http://h/a/2", "http://h/a/3"]
    assert feed.entries[0].published == "2025-06-10T04:00:00+03:00"  # the feed's own offset kept


def test_html_entities_xml_does_not_know_are_read():
    with pytest.raises(MalformedFeed):
        parse_xml(BAD_ENTITIES)
    entries = feed_entries(BAD_ENTITIES, "http://h/feed")
    assert [e.title for e in entries] == ["Été\xa0— summer", "Fish & chips © 2025"]
    assert entries[0].published == "2025-06-12T09:00:00+00:00" and entries[1].published is None


def test_rss_1_0_and_atom():
    rdf = feed_entries(RSS10, "http://h/rdf")
    assert [(e.url, e.published) for e in rdf] == [("http://h/r/1", "2025-06-11"), ("http://h/r/2", None)]
    atom = read_feed(ATOM, "http://h/atom.xml")
    assert atom.repaired is None
    assert [(e.url, e.title, e.published) for e in atom.entries] == [
        ("http://h/at/1", "A", "2025-06-12T08:30:00+00:00"),  # the alternate link, not the enclosure
        ("http://h/at/2", "B", "2025-06-12T10:00:00+02:00"),
    ]  # an http id; updated when not published
    assert feed_next_page(ATOM, "http://h/atom.xml") == "http://h/atom.xml?page=2"


def test_a_feed_dated_in_the_future_or_unreadably_gives_no_date():
    text = (
        "<rss version='2.0'><channel><item><link>http://h/1</link><pubDate>Mon, 01 Jan 2124 00:00:00 GMT"
        "</pubDate></item><item><link>http://h/2</link><pubDate>someday</pubDate></item></channel></rss>"
    )
    assert [e.published for e in feed_entries(text, "http://h/")] == [None, None]


@pytest.mark.parametrize(
    "text, says",
    [
        (
            '<?xml version="1.0"?><rss><channel><item><link>http://x/1</li',
            "not well-formed XML: line 1, column 57: unclosed token",
        ),
        ("<rss><channel><item>", "not well-formed XML"),
        ("<html><body>hi & bye</body></html>", "not an RSS/Atom feed (root element <html>)"),
        ("<urlset><url><loc>http://h/1</loc></url></urlset>", "root element <urlset>"),
        ("  ", "empty document"),
    ],
)
def test_what_cannot_be_read_at_all_is_named(text, says):
    with pytest.raises(MalformedFeed, match=says.replace("(", r"\(").replace(")", r"\)")):
        feed_entries(text, "http://h/")


# ---------------------------------------------------------------- entity declarations
ITEM = "<rss version='2.0'><channel><item><title>{}</title><link>http://h/1</link></item></channel></rss>"


def laughs(levels: int = 9) -> str:
    decls = '<!ENTITY lol "lol">\n' + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">\n' for i in range(1, levels + 1)
    )
    return f"<!DOCTYPE rss [\n{decls}]>\n" + ITEM.format(f"&lol{levels};")


@pytest.fixture
def listener():
    """A loopback server that records any request: an external entity or DTD must never reach it."""
    server = SiteServer().start()
    server.routes["/evil.dtd"] = Route(b'<!ENTITY x "PWNED">', content_type="application/xml-dtd")
    yield server
    server.stop()


def test_entity_declarations_that_read_files_urls_or_explode_are_refused(tmp_path, listener):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-7731")
    cases = {
        "billion laughs, one per line": (laughs(), "made of other entities (lol1)"),
        "billion laughs, one line": (laughs().replace("\n", ""), "made of other entities (lol1)"),
        "file": (
            f'<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "file://{secret}">\n]>\n' + ITEM.format("&xxe;"),
            "external entity (xxe: SYSTEM)",
        ),
        "url": (
            f'<!DOCTYPE rss [<!ENTITY xxe PUBLIC "-//X//Y" "{listener.url}/evil.dtd">]>' + ITEM.format("&xxe;"),
            "external entity (xxe: PUBLIC)",
        ),
        "parameter": (
            f'<!DOCTYPE rss [\n<!ENTITY % pe SYSTEM "{listener.url}/evil.dtd">\n%pe;\n]>\n' + ITEM.format("&x;"),
            "parameter entity (pe)",
        ),
        # plain text, but 100 kB named 2,000 times: 200 MB of title once expanded
        "quadratic": (
            '<!DOCTYPE rss [\n<!ENTITY a "' + "x" * 100_000 + '">\n]>\n' + ITEM.format("&a;" * 2000),
            "expand it by more than 1,000,000 characters",
        ),
    }
    for name, (text, says) in cases.items():
        started = time.monotonic()
        with pytest.raises(MalformedFeed) as refused:
            read_feed(text, "http://h/feed")
        assert "refused" in str(refused.value) and says in str(refused.value), name
        assert time.monotonic() - started < 1, name
    assert listener.log == []


def test_what_stays_readable_reads_nothing_from_outside(listener):
    # An external DTD (as RSS 0.91's Netscape DOCTYPE names one) is never fetched; its entity stays unknown.
    dtd = f'<!DOCTYPE rss SYSTEM "{listener.url}/evil.dtd">\n' + ITEM.format("News &x; today")
    assert [e.title for e in feed_entries(dtd, "http://h/")] == ["News &x; today"]
    # A plain entity of the feed's own is expanded; the words "<!ENTITY" inside CDATA are only words.
    own = '<!DOCTYPE rss [\n<!ENTITY co "Company">\n<!ENTITY nb "&#160;">\n]>\n' + ITEM.format("&co;&nb;news")
    assert [e.title for e in feed_entries(own, "http://h/")] == ["Company\xa0news"]
    cdata = ITEM.format('<![CDATA[How <!ENTITY xxe SYSTEM "file:///etc/passwd"> attacks work]]>')
    assert [e.title for e in feed_entries(cdata, "http://h/")] == [
        'How <!ENTITY xxe SYSTEM "file:///etc/passwd"> attacks work'
    ]
    assert listener.log == []


# ---------------------------------------------------------------- end to end
def dated_page(title: str, published: str) -> bytes:
    return article_page(title, PARAS).replace(
        b"</head>", f'<meta property="article:published_time" content="{published}"></head>'.encode()
    )


def serve_feeds(server: SiteServer) -> None:
    u = server.url
    stray = (
        STRAY_AMP.replace("http://h/a/2#comments", f"{u}/stray/2.html#comments")
        .replace("http://h/a/2", f"{u}/stray/2.html")
        .replace("/a/1?x=1&y=2#top", "/stray/1.html?x=1&y=2#top")
        .replace("<guid>http://h/a/3</guid>", f"<guid>{u}/stray/3.html</guid>")
    )
    server.routes["/stray.xml"] = Route(stray.encode("cp1251"), content_type="application/rss+xml")
    server.routes["/stray/1.html?x=1&y=2"] = Route(article_page("Tom and Jerry meet", PARAS))
    server.routes["/stray/2.html"] = Route(dated_page("Second", "2025-01-05T10:00:00+00:00"))
    server.routes["/stray/3.html"] = Route(article_page("Third", PARAS))
    entities = (
        BAD_ENTITIES.replace("http://h/e/", f"{u}/ent/")
        .replace("/ent/1", "/ent/1.html")
        .replace("/ent/2", "/ent/2.html")
    )
    server.routes["/entities.xml"] = Route(entities.encode(), content_type="application/rss+xml")
    server.routes["/ent/1.html"] = Route(article_page("Summer", PARAS))
    server.routes["/ent/2.html"] = Route(article_page("Fish and chips", PARAS))
    server.routes["/rdf.xml"] = Route(
        RSS10.replace("http://h/r/1", f"{u}/rdf/1.html").replace("http://h/r/2", f"{u}/rdf/2.html").encode(),
        content_type="application/rdf+xml",
    )
    server.routes["/rdf/1.html"] = Route(article_page("One", PARAS))
    server.routes["/rdf/2.html"] = Route(article_page("Two", PARAS))
    server.routes["/atom.xml"] = Route(
        ATOM.replace("http://h/at/2", f"{u}/at/2").replace("/at/1", "/at/1.html").encode(),
        content_type="application/atom+xml",
    )
    server.routes["/at/1.html"] = Route(article_page("A", PARAS))
    server.routes["/at/2"] = Route(article_page("B", PARAS))
    server.routes["/truncated.xml"] = Route(
        b'<?xml version="1.0"?><rss><channel><item><link>http://x/1</li', content_type="application/rss+xml"
    )


def test_tolerant_feeds_and_their_dates_through_newsmon_run(tmp_path, site_server):
    serve_feeds(site_server)
    u = site_server.url
    feeds = [
        ("stray", "/stray.xml"),
        ("entities", "/entities.xml"),
        ("rdf", "/rdf.xml"),
        ("atom", "/atom.xml"),
        ("truncated", "/truncated.xml"),
    ]
    source = {
        "id": "feeds",
        "name": "Feeds",
        "homepage": f"{u}/",
        "sections": [{"id": name, "kind": "feed", "url": u + path} for name, path in feeds],
    }
    cfg = write_loopback_config(
        tmp_path / "newsmon.toml",
        [source],
        crawler={"output_dir": str(tmp_path / "out"), "timeout": 10},
        lifecycle={"recheck_max": 0},
    )
    proc = run_newsmon("run", "--config", str(cfg))
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the truncated feed fails its section
    failed = [line for line in proc.stderr.splitlines() if "WARNING" in line]
    assert (
        len(failed) == 1 and "feeds/truncated: " in failed[0] and "malformed feed: not well-formed XML" in failed[0]
    ), proc.stderr
    items = {
        i["url"].replace(u, ""): i
        for f in (tmp_path / "out").glob("*/items.jsonl")
        for i in map(json.loads, f.read_text("utf-8").splitlines())
    }
    assert {path: item["published_at"] for path, item in items.items()} == {
        "/stray/1.html?x=1&y=2": "2025-06-10T04:00:00+03:00",  # the page has no date: the feed's
        "/stray/2.html": "2025-01-05T10:00:00+00:00",  # the page's own date wins over the feed's
        "/stray/3.html": None,  # neither gives one
        "/ent/1.html": "2025-06-12T09:00:00+00:00",
        "/ent/2.html": None,
        "/rdf/1.html": "2025-06-11T00:00:00+00:00",
        "/rdf/2.html": None,  # a date alone: its day, at 00:00
        "/at/1.html": "2025-06-12T08:30:00+00:00",
        "/at/2": "2025-06-12T10:00:00+02:00",
    }
    assert items["/rdf/1.html"]["published_precision"] == "date" and items["/at/2"]["published_precision"] == "time"
    log = (tmp_path / "out" / "logs" / "newsmon.log").read_text("utf-8")
    assert "feeds/stray: " in log and "is not well-formed XML" in log and "read tolerantly: 4 entries" in log
