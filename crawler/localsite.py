"""A real HTTP server on loopback that serves recorded pages at their original URL paths.

Used by `newsmon demo` (the bundled Kremlin pages) and by the tests (``tests/sitesrv.py`` re-exports it).
Tests mutate ``server.routes`` between runs (a section that 404s, a changed layout, an edited article);
the server answers conditional GETs (ETag / If-None-Match, Last-Modified / If-Modified-Since) like a real
site, and records every request in ``server.log`` so tests can assert what was (not) fetched, and when each
arrived in ``server.arrived`` (politeness: the gaps between a host's requests).
``write_loopback_config`` writes the user config whose sections point at such a server.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin, urlsplit


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (timeouts)
    location: str | None = None  # redirect target (with status 301/302)
    conditional: bool = True  # answer 304 to matching validators
    last_modified: str = "Mon, 02 Nov 2026 10:00:00 GMT"

    @property
    def etag(self) -> str:
        return f'"{hashlib.sha1(self.body).hexdigest()[:16]}"'


def page(
    path: str | Path, content_type: str = "text/html; charset=utf-8", *, hosts: dict[str, str] | None = None, **kw
) -> Route:
    """A route serving the file at ``path``; ``hosts`` rewrites absolute links (see rewrite_hosts)."""
    return Route(body=rewrite_hosts(Path(path).read_bytes(), hosts or {}), content_type=content_type, **kw)


def rewrite_hosts(body: bytes, hosts: dict[str, str]) -> bytes:
    """Point a recorded page's absolute links at another origin, e.g. ``http://en.kremlin.ru`` → the
    loopback server, so that following them stays on loopback. ASCII origins only (they are URLs)."""
    for old, new in hosts.items():
        body = body.replace(old.encode("ascii"), new.encode("ascii"))
    return body


_RELATIVE_HTML_HREF = re.compile(rb'href="(?![a-z]+:|/|#)([^"]+?)\.html"')


def undo_wget_links(body: bytes, page_path: str) -> bytes:
    """Undo ``wget --convert-links`` in a mirrored page served at ``page_path``: ``href="../63953.html"``
    becomes ``href="/events/president/news/63953"``, the site's real link, so a listing served from a
    mirror links articles by the same URLs as the site's feed does."""

    def real(match: re.Match) -> bytes:
        resolved = urljoin("http://mirror" + page_path, match.group(1).decode("ascii") + ".html")
        return b'href="' + urlsplit(resolved).path[: -len(".html")].encode("ascii") + b'"'

    return _RELATIVE_HTML_HREF.sub(real, body)


class SiteServer:
    def __init__(self, port: int = 0) -> None:
        self.routes: dict[str, Route] = {"/robots.txt": Route(b"User-agent: *\nAllow: /\n", content_type="text/plain")}
        self.log: list[tuple[str, str, int]] = []  # (method, path, status)
        # (time.monotonic() when the request's headers were read, path), in arrival order: the gaps a site sees
        self.arrived: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self.in_flight = self.max_in_flight = 0
        self.user_agents: set[str] = set()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> SiteServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def requests_for(self, path: str) -> int:
        with self._lock:
            return sum(1 for _m, p, _s in self.log if p == path)

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()
            self.arrived.clear()

    def _arrive(self, path: str) -> None:
        with self._lock:
            self.arrived.append((time.monotonic(), path))

    def _enter(self, user_agent: str) -> None:
        """Count requests in flight (politeness: one at a time per site) and the User-Agents seen."""
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.user_agents.add(user_agent)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.log.append((method, path, status))

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_HEAD(self):
                self.do_GET(head=True)

            def do_GET(self, head: bool = False):
                server._arrive(self.path)
                server._enter(self.headers.get("User-Agent", ""))
                self._counted = True
                try:
                    self._answer(head)
                finally:
                    self._done()

            def _done(self) -> None:
                # A request stops counting as in flight once its answer starts: the client can only
                # send its next request after reading this one's, so this measures real overlap.
                if self._counted:
                    self._counted = False
                    server._leave()

            def _answer(self, head: bool) -> None:
                route = server.routes.get(self.path)
                if route is None:
                    route = Route(b"<html><body><h1>Not found</h1></body></html>", status=404)
                if route.delay:
                    time.sleep(route.delay)
                status = route.status
                if route.conditional and status == 200 and self._not_modified(route):
                    status = 304
                server._record("HEAD" if head else "GET", self.path, status)
                body = b"" if status == 304 else route.body
                self._done()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", route.content_type)
                    self.send_header("Content-Length", str(len(body)))
                    if route.conditional and route.status == 200:
                        self.send_header("ETag", route.etag)
                        self.send_header("Last-Modified", route.last_modified)
                    if route.location:
                        self.send_header("Location", route.location)
                    for k, v in route.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    if not head:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _not_modified(self, route: Route) -> bool:
                inm = self.headers.get("If-None-Match")
                if inm is not None:
                    return route.etag in [t.strip() for t in inm.split(",")]
                return self.headers.get("If-Modified-Since") == route.last_modified

        return Handler


def http_date(ts: float | None = None) -> str:
    return formatdate(ts, usegmt=True)


# No politeness delay and no retries against loopback: there is no one to spare, and a failure should
# show at once rather than after retries.
LOOPBACK_CRAWLER = {"download_delay": 0, "retries": 0}


def write_loopback_config(
    path: str | Path, sources: list[dict], *, crawler: dict | None = None, extra: str = "", **tables: dict
) -> Path:
    """Write a user config holding only ``sources`` (each a dict of its keys plus ``sections``, a list of
    dicts), the ``[crawler]`` table LOOPBACK_CRAWLER updated by ``crawler``, other tables by name
    (``schedule={...}``), then the TOML text ``extra`` as is (it may continue the last section)."""
    tables = {"crawler": {**LOOPBACK_CRAWLER, **(crawler or {})}, **tables}
    lines = ["replace_default_sources = true"]
    for name, table in tables.items():
        lines += [f"[{name}]", *toml_keys(table)]
    for source in sources:
        lines += ["[[sources]]", *toml_keys({k: v for k, v in source.items() if k != "sections"})]
        for section in source["sections"]:
            lines += ["[[sources.sections]]", *toml_keys(section)]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def toml_keys(table: dict) -> list[str]:
    return [f"{key} = {toml_value(value)}" for key, value in table.items()]


def toml_value(value: str | bool | int | float | list) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)  # numbers, and strings: JSON's string escapes are all TOML escapes
