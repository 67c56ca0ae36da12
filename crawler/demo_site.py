"""The demo: the bundled Kremlin pages (crawler/demo/, CC BY 4.0) on a loopback server, and a config whose
sections point at it. ``newsmon demo`` runs a normal cycle against them. The tests serve and read these
pages from here too (tests/recorded.py): the package holds the only copy."""

from __future__ import annotations

import html
import re
from importlib import resources
from pathlib import Path

from crawler.config import Config, load_config
from crawler.localsite import Route, SiteServer, rewrite_hosts, undo_wget_links, write_loopback_config

ORIGIN = "http://en.kremlin.ru"
NEWS = "/events/president/news"


def demo_files() -> dict[str, bytes]:
    folder = resources.files("crawler").joinpath("demo", "kremlin-en")
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name.endswith((".html", ".xml"))}


def article_ids(files: dict[str, bytes]) -> list[str]:
    return sorted((m.group(1) for name in files if (m := re.match(r"news-(\d+)\.html$", name))), key=int,
                  reverse=True)


def index_page(files: dict[str, bytes]) -> bytes:
    """A listing in the Kremlin's markup linking every bundled article (generated, not a recording)."""
    items = []
    for ident in article_ids(files):
        title = re.search(rb"<title>(.*?)</title>", files[f"news-{ident}.html"], re.S)
        text = html.escape(html.unescape(title.group(1).decode("utf-8")).split(" • ")[0].strip()) if title else ident
        items.append(f'<div class="hentry h-entry" data-id="{ident}"><h3 class="hentry__title">'
                     f'<a href="{NEWS}/{ident}" rel="bookmark"><span class="entry-title p-name">{text}</span>'
                     f'</a></h3></div>')
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>newsmon demo: bundled Kremlin pages"
            "</title></head><body><div class=\"entry-content lister-page\">" + "\n".join(items) +
            "</div></body></html>").encode("utf-8")


def serve(server: SiteServer) -> SiteServer:
    """Register the demo routes on ``server``: the recorded pages and a generated index of the articles."""
    files = demo_files()
    serve_recorded(server, files)
    server.routes["/demo/index.html"] = Route(index_page(files))
    return server


def serve_recorded(server: SiteServer, files: dict[str, bytes]) -> None:
    """The recorded pages at their original paths, their links pointing back at ``server`` (the tests'
    crawl site serves them too)."""
    for ident in article_ids(files):
        server.routes[f"{NEWS}/{ident}"] = Route(files[f"news-{ident}.html"])
    server.routes[f"{NEWS}/feed"] = Route(rewrite_hosts(files["feed-news.atom.xml"], {ORIGIN: server.url}),
                                          content_type="application/atom+xml")
    for path, name in ((f"{NEWS}/by-date/27.08.2020", "listing-news-by-date-27.08.2020.html"),
                       (f"{NEWS}/page/2", "listing-news-page-2.html")):
        server.routes[path] = Route(undo_wget_links(files[name], path))


def demo_config(server: SiteServer, output_dir: str | Path) -> Config:
    """The shipped defaults with the sources replaced by three sections on the demo server."""
    bundled = rf"{NEWS}/({'|'.join(article_ids(demo_files()))})$"
    kremlin_links = "h3.hentry__title a[rel=bookmark]"
    sections = [
        {"id": "demo-index", "name": "All bundled articles (generated listing)", "kind": "listing",
         "url": f"{server.url}/demo/index.html", "link_css": kremlin_links, "languages": ["en"]},
        {"id": "news-feed", "name": "President: news (Atom, recorded)", "kind": "feed",
         "url": f"{server.url}{NEWS}/feed", "link_pattern": bundled, "languages": ["en"]},
        {"id": "news-by-date", "name": "President: news of 27.08.2020 and the next page (recorded listings)",
         "kind": "listing", "url": f"{server.url}{NEWS}/by-date/27.08.2020", "link_css": kremlin_links,
         "link_pattern": bundled, "next_css": "a.more-next[rel=next]", "max_pages": 2, "languages": ["en"]},
    ]
    source = {"id": "kremlin-en", "name": "Kremlin (English), recorded pages", "sections": sections}
    path = write_loopback_config(Path(output_dir) / "demo-sources.toml", [source],
                                 crawler={"autothrottle": False, "timeout": 10})
    return load_config(path, output_dir=output_dir)
