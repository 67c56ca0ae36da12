"""The demo: the bundled Kremlin pages (crawler/demo/, CC BY 4.0) served on loopback under their real URLs, and a
config whose sections crawl them. ``newsmon demo`` runs a normal cycle against them. The tests serve and read
the English pages from here too (tests/recorded.py, tests/crawlsite.py): the package holds the only copy.

The crawl asks for ``http://en.kremlin.ru/…`` and ``http://kremlin.ru/…`` as a real crawl would; the demo
sources name the loopback server as their ``proxy``, so every request (robots.txt included) reaches it as a
plain HTTP proxy request whose target is the whole URL, and it answers from the bundled pages. The items get
the ids of a real crawl (the id is the hash of the URL), whatever port the server has.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from crawler.config import Config, load_config
from crawler.localsite import Route, SiteServer, undo_wget_links, write_loopback_config

ORIGIN = "http://en.kremlin.ru"
ORIGIN_RU = "http://kremlin.ru"
NEWS = "/events/president/news"
# The demo's own listing of the bundled articles on each site: a path the real sites do not have.
INDEX = "/newsmon-demo/index.html"
ROBOTS = b"User-agent: *\nAllow: /\n"


def demo_files() -> dict[str, bytes]:
    folder = resources.files("crawler").joinpath("demo", "kremlin-en")
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name.endswith((".html", ".xml"))}


def russian_texts() -> dict[str, dict]:
    """Event id → the Russian version's title, description, lead and paragraphs (crawler/demo/kremlin-ru)."""
    folder = resources.files("crawler").joinpath("demo", "kremlin-ru")
    return {
        p.name[len("news-") : -len(".json")]: json.loads(p.read_text("utf-8"))
        for p in folder.iterdir()
        if p.name.startswith("news-") and p.name.endswith(".json")
    }


def article_ids(files: dict[str, bytes]) -> list[str]:
    return sorted((m.group(1) for name in files if (m := re.match(r"news-(\d+)\.html$", name))), key=int, reverse=True)


def index_page(titles: dict[str, str], title: str) -> bytes:
    """A listing in the Kremlin's markup linking each event id to its title (generated, not a recording)."""
    items = [
        f'<div class="hentry h-entry" data-id="{ident}"><h3 class="hentry__title">'
        f'<a href="{NEWS}/{ident}" rel="bookmark"><span class="entry-title p-name">{html.escape(text)}</span>'
        f"</a></h3></div>"
        for ident, text in titles.items()
    ]
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title></head><body>'
        '<div class="entry-content lister-page">' + "\n".join(items) + "</div></body></html>"
    ).encode("utf-8")


def english_titles(files: dict[str, bytes]) -> dict[str, str]:
    titles = {}
    for ident in article_ids(files):
        found = re.search(rb"<title[^>]*>(.*?)</title>", files[f"news-{ident}.html"], re.S)
        titles[ident] = html.unescape(found.group(1).decode("utf-8")).split(" • ")[0].strip() if found else ident
    return titles


def russian_page(english: bytes, text: dict) -> bytes:
    """The recorded English page of the event with its Russian text in place of the English one: title,
    description, lead and body paragraphs, and the page's language. A reconstruction, said in a comment at
    the top of the page (crawler/demo/README.md)."""
    page = english.decode("utf-8")
    body = "".join(f"<p>{html.escape(p)}</p> " for p in text["paragraphs"])
    swaps: list[tuple[str, str | Callable[[re.Match[str]], str]]] = [
        (
            r"<title itemprop=\"name\">.*?</title>",
            f'<title itemprop="name">{html.escape(text["title"])} • Президент России</title>',
        ),
        (
            r"<meta name=\"description\" content=\"[^\"]*\"/>",
            f'<meta name="description" content="{html.escape(text["description"])}"/>',
        ),
        (
            r"(<h1 class=\"entry-title p-name\" itemprop=\"name\">).*?(</h1>)",
            rf"\g<1>{html.escape(text['title'])}\g<2>",
        ),
        (
            r"(<div class=\"read__lead entry-summary p-summary\"[^>]*>\s*<div>)<p>.*?</p>",
            rf"\g<1><p>{html.escape(text['lead'])}</p>",
        ),
        (
            r"(<div class=\"entry-content e-content read__internal_content\" itemprop=\"articleBody\">\s*)"
            r"(?:<p>.*?</p>\s*)+",
            lambda m: m.group(1) + body,
        ),
        (r"<html lang=\"en\"", '<html lang="ru"'),
    ]
    for pattern, new in swaps:
        page, count = re.subn(pattern, new, page, count=1, flags=re.S)
        if not count:
            raise ValueError(f"the recorded page has no {pattern[:40]!r}: cannot reconstruct its Russian version")
    page = page.replace(ORIGIN, ORIGIN_RU)
    note = (
        "<!-- newsmon demo: RECONSTRUCTED page: the markup of the recorded English page of this event with a "
        "Russian text in place of the English one (crawler/demo/README.md) -->\n"
    )
    return (note + page).encode("utf-8")


def serve(server: SiteServer) -> SiteServer:
    """Register the demo routes on ``server`` under their full URLs (a proxy request names the whole URL): the
    recorded English pages, the Russian versions of the events the package has Russian text for, robots.txt
    and a generated index of the articles on each site."""
    files, texts = demo_files(), russian_texts()
    for origin in (ORIGIN, ORIGIN_RU):
        server.routes[f"{origin}/robots.txt"] = Route(ROBOTS, content_type="text/plain")
    serve_recorded(server, files, prefix=ORIGIN)
    server.routes[f"{ORIGIN}{INDEX}"] = Route(index_page(english_titles(files), "newsmon demo: bundled Kremlin pages"))
    for ident, text in texts.items():
        server.routes[f"{ORIGIN_RU}{NEWS}/{ident}"] = Route(russian_page(files[f"news-{ident}.html"], text))
    server.routes[f"{ORIGIN_RU}{INDEX}"] = Route(
        index_page({i: t["title"] for i, t in texts.items()}, "newsmon demo: страницы Кремля")
    )
    return server


def serve_recorded(server: SiteServer, files: dict[str, bytes], prefix: str = "") -> None:
    """The recorded English pages at their original paths (after ``prefix``: the origin when the server answers
    as a proxy), the mirror's relative links turned back into the site's own (the tests' crawl site serves
    them too, at bare paths, with the feed's links pointing at it)."""
    for ident in article_ids(files):
        server.routes[f"{prefix}{NEWS}/{ident}"] = Route(files[f"news-{ident}.html"])
    feed = (
        files["feed-news.atom.xml"]
        if prefix
        else files["feed-news.atom.xml"].replace(ORIGIN.encode("ascii"), server.url.encode("ascii"))
    )
    server.routes[f"{prefix}{NEWS}/feed"] = Route(feed, content_type="application/atom+xml")
    for path, name in (
        (f"{NEWS}/by-date/27.08.2020", "listing-news-by-date-27.08.2020.html"),
        (f"{NEWS}/page/2", "listing-news-page-2.html"),
    ):
        server.routes[f"{prefix}{path}"] = Route(undo_wget_links(files[name], path))


# What the demo watches and judges: a watch across both languages (its hits show the phrase in context), and a
# section's subject.
DEMO_WATCH = '[[watch]]\nname = "Brazil"\nphrases = ["Brazil*", "Бразили*"]\n'
DEMO_SUBJECT = ["Президент*", "Указ*"]


def demo_config(server: SiteServer, output_dir: str | Path) -> Config:
    """The shipped defaults with the sources replaced by the demo's sections on the real URLs, every request
    going through the demo server as their proxy."""
    ids = article_ids(demo_files())
    bundled = rf"{NEWS}/({'|'.join(ids)})$"
    kremlin_links = "h3.hentry__title a[rel=bookmark]"
    english = [
        {
            "id": "demo-index",
            "name": "All bundled articles (generated listing)",
            "kind": "listing",
            "url": f"{ORIGIN}{INDEX}",
            "link_css": kremlin_links,
            "languages": ["en"],
        },
        {
            "id": "news-feed",
            "name": "President: news (Atom, recorded)",
            "kind": "feed",
            "url": f"{ORIGIN}{NEWS}/feed",
            "link_pattern": bundled,
            "languages": ["en"],
        },
        {
            "id": "news-by-date",
            "name": "President: news of 27.08.2020 and the next page (recorded listings)",
            "kind": "listing",
            "url": f"{ORIGIN}{NEWS}/by-date/27.08.2020",
            "link_css": kremlin_links,
            "link_pattern": bundled,
            "next_css": "a.more-next[rel=next]",
            "max_pages": 2,
            "languages": ["en"],
        },
    ]
    russian = [
        {
            "id": "news",
            "name": "Президент: новости (generated listing of the Russian versions)",
            "kind": "listing",
            "url": f"{ORIGIN_RU}{INDEX}",
            "link_css": kremlin_links,
            "languages": ["ru"],
            "subject": DEMO_SUBJECT,
        }
    ]
    sources: list[dict] = [
        {"id": "kremlin-en", "name": "Kremlin (English), recorded pages", "proxy": server.url, "sections": english},
        {
            "id": "kremlin-ru",
            "name": "Kremlin (Russian), reconstructed pages",
            "proxy": server.url,
            "sections": russian,
        },
    ]
    path = write_loopback_config(
        Path(output_dir) / "demo-sources.toml",
        sources,
        crawler={"autothrottle": False, "timeout": 10},
        extra=DEMO_WATCH,
    )
    return load_config(path, output_dir=output_dir)
