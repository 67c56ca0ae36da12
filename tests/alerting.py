"""Helpers of the lifecycle/alerts tests: real receivers on loopback and direct state-DB writes."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
from contextlib import closing
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller

from crawler import state
from crawler.config import load_config
from crawler.items import canonicalize_url, content_hash, item_id
from crawler.localsite import Route, write_loopback_config
from crawler.runner import CycleContext
from crawler.store import dayfiles, migrate
from crawler.store import items as item_store


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """A real SMTP server (aiosmtpd) on loopback that keeps every message it accepts."""

    def __init__(self):
        self.messages = []
        self.port = free_port()
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                outer.messages.append(message_from_bytes(envelope.content, policy=policy.default))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def url(self) -> str:
        return f"mailto://127.0.0.1:{self.port}?from=newsmon@example.org&to=desk@example.org&mode=insecure"

    def bodies(self) -> list[str]:
        return [m.get_body(preferencelist=("plain",)).get_content() for m in self.messages]


class WebhookReceiver:
    """A real HTTP server on loopback that records JSON POSTs (Apprise's json:// target)."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.posts: list[dict] = []
        self.httpd = None

    def start(self) -> WebhookReceiver:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                outer.posts.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()


def write_config(tmp: Path, base_url: str, extra: str = "") -> Path:
    """A user config with one source of three listing sections at ``base_url``."""
    sections = [
        {"id": ident, "kind": "listing", "url": f"{base_url}{path}", "link_css": "div.item a"}
        for ident, path in (("russia", "/world/russia/"), ("politics", "/politics/"), ("world", "/world/"))
    ]
    sections[0]["ignore_patterns"] = [r"\?t=\d+"]
    source = {"id": "site", "name": "Test site", "homepage": f"{base_url}/", "sections": sections}
    return write_loopback_config(
        tmp / "newsmon.toml",
        [source],
        extra=extra,
        crawler={"output_dir": str(tmp / "output"), "timeout": 30},
        lifecycle={"recheck_max": 0},
    )


def context(config_path: Path, run_id: int) -> CycleContext:
    config = load_config(config_path)
    return CycleContext(config=config, output_dir=config.output_dir, run_id=run_id, day="2026-11-01")


def new_run(output_dir: Path) -> int:
    conn = state.connect(output_dir)
    try:
        return int(conn.execute("INSERT INTO runs(started_at) VALUES ('2026-11-01T02:00:00+00:00')").lastrowid)
    finally:
        conn.close()


def snapshot(
    output_dir: Path,
    run_id: int,
    section: str,
    url: str,
    *,
    at: str,
    status: int | None = 200,
    urls: list[str] = (),
    page_bytes: int = 30_000,
    final_url: str | None = None,
    error: str | None = None,
    rule: str = "css 'div.item a'",
) -> None:
    conn = state.connect(output_dir)
    try:
        conn.execute(
            "INSERT INTO section_snapshots(run_id, section, checked_at, url, http_status, final_url, error, "
            "page_bytes, links_found, article_urls, link_rule) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (run_id, section, at, url, status, final_url, error, page_bytes, len(urls), json.dumps(list(urls)), rule),
        )
    finally:
        conn.close()


def store_article(
    output_dir: Path,
    run_id: int,
    section: str,
    url: str,
    title: str,
    paragraphs: list[str],
    *,
    at: str,
    title_en: str | None = None,
    lang: str = "en",
    etag: str | None = None,
    last_modified: str | None = None,
    published_at: str | None = None,
) -> str:
    """A stored article as the crawl leaves it: ``articles`` row and item (``crawler.store.items.insert``) in one
    transaction, then the day file (2026-11-01) exported from the DB."""
    canonical = canonicalize_url(url)
    ident = item_id(canonical)
    item = {
        "id": ident,
        "source": section.split("/")[0],
        "section": section.split("/")[1],
        "section_key": section,
        "url": url,
        "canonical_url": canonical,
        "fetched_at": at,
        "published_at": published_at,
        "title": title,
        "paragraphs": paragraphs,
        "text": "\n\n".join(paragraphs),
        "lang": lang,
        "content_hash": content_hash(title, paragraphs),
        "raw_path": f"raw/{section.split('/')[0]}/{ident}.html.gz",
        "version": 1,
        "title_en": title_en,
    }
    conn = state.connect(output_dir)
    try:
        with state.transaction(conn):
            conn.execute(
                "INSERT INTO articles(canonical_url, id, source, section, url, day, run_id, first_seen, "
                "last_fetched, published_at, title, content_hash, etag, last_modified, raw_path) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    canonical,
                    ident,
                    item["source"],
                    section,
                    url,
                    "2026-11-01",
                    run_id,
                    at,
                    at,
                    published_at,
                    title,
                    item["content_hash"],
                    etag,
                    last_modified,
                    item["raw_path"],
                ),
            )
            assert item_store.insert(conn, item, "2026-11-01"), f"item {ident} is already stored"
        dayfiles.export_changed(conn, output_dir)
    finally:
        conn.close()
    return ident


# The schema as it stood before numbered migrations: steps 1–9 (crawler/store/migrate.py), user_version 0.
PRE_MIGRATION_STEPS = 9


def db_before_migrations(output_dir: Path, *, without: tuple[str, ...] = ()) -> None:
    """A state DB as a newsmon from before numbered migrations left it (the tables of steps 1–9,
    ``PRAGMA user_version`` 0), lacking the tables ``without`` (of a feature it predates): the next
    ``state.connect`` upgrades it."""
    path = state.db_path(output_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        for step in migrate.steps():
            if step.number <= PRE_MIGRATION_STEPS:
                step.apply(conn)
        for table in without:
            conn.execute(f"DROP TABLE {table}")
        assert migrate.version_of(conn) == 0


def rows(output_dir: Path, sql: str, *args) -> list[dict]:
    conn = state.connect(output_dir)
    try:
        return [dict(r) for r in conn.execute(sql, args)]
    finally:
        conn.close()


def article_page(title: str, paragraphs: list[str], views: str = "1,234") -> bytes:
    """A small news article page (title, a volatile counter line, paragraphs) that extraction reads."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html><head><meta charset='utf-8'><title>{title}</title></head><body><nav><a href='/'>Home</a></nav>"
        f"<article><h1>{title}</h1><p>Updated 10:42, {views} views</p>{body}</article>"
        "<footer>Copyright Test News</footer></body></html>"
    ).encode()


def listing_page(links: list[tuple[str, str]], css_class: str = "item") -> bytes:
    """A listing page of ``(href, title)`` links in ``div.<css_class> a``, padded to a realistic size."""
    items = "".join(f'<div class="{css_class}"><a href="{href}">{title}</a></div>' for href, title in links)
    pad = "<p>" + "About this section, its editors and its archive. " * 250 + "</p>"
    return (
        f"<html><head><meta charset='utf-8'><title>Listing</title></head><body><nav><a href='/'>Home</a></nav>"
        f"{items}{pad}</body></html>"
    ).encode()


# ---------------------------------------------------------------- nights of recorded Kremlin pages
KREMLIN_LINK_CSS = "h3.hentry__title a[rel=bookmark]"


def serve_kremlin_night(server, name: str, night: int, pages: dict[str, bytes]) -> None:
    """Section ``name``'s listing for ``night`` at ``/<name>/``, linking ``pages`` (id → page bytes) under
    night-specific URLs so that every night brings new items, and the pages at those URLs."""
    links = {f"/{name}/n{night}/{ident}": page for ident, page in pages.items()}
    entries = "".join(
        f'<div class="hentry"><h3 class="hentry__title"><a href="{link}" rel="bookmark">Story {link}</a></h3></div>'
        for link in links
    )
    server.routes[f"/{name}/"] = Route(f"<html><body><div class='lister'>{entries}</div></body></html>".encode())
    for link, page in links.items():
        server.routes[link] = Route(page)


def kremlin_nights_config(tmp_path: Path, server, sections: dict[str, dict], hook=None) -> Path:
    """A config with one listing section per ``sections`` entry (name → extra section keys) on the loopback
    ``server``, re-checks off, and the ``hook`` webhook channel when given."""
    listed = [
        {"id": name, "kind": "listing", "url": f"{server.url}/{name}/", "link_css": KREMLIN_LINK_CSS, **extra}
        for name, extra in sections.items()
    ]
    channel = f'[[alerts.channels]]\nname = "hook"\nurl = "json://127.0.0.1:{hook.port}/newsmon"\n' if hook else ""
    return write_loopback_config(
        tmp_path / "newsmon.toml",
        [{"id": "kremlin", "sections": listed}],
        crawler={"output_dir": str(tmp_path / "output"), "timeout": 30},
        lifecycle={"recheck_max": 0},
        alerts={"retries": 0},
        extra=channel,
    )
