"""A section's ``proxy``: every request of the section — the crawl's and its articles' re-checks — goes through it,
with its credentials, and the password shows nowhere.

End to end: real ``newsmon run`` cycles against two loopback sites: one that refuses (403) any request not
forwarded by the proxy, as a state site refuses a foreign address, and one reached directly by another source.
The proxy is a real HTTP forward proxy on loopback (absolute-URI GETs forwarded to the site, with a ``Via``
header), which logs each request line and its ``Proxy-Authorization``. Config: the key's checks, each naming
the file and line.
"""

from __future__ import annotations

import base64
import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from crawler.config import load_config
from crawler.exceptions import ConfigError
from crawler.localsite import Route, SiteServer, write_loopback_config
from tests.alerting import article_page, listing_page, rows
from tests.conftest import run_newsmon

USER, PASSWORD = "newsdesk", "Pr0xy-s3cret-7431"
CREDENTIALS = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}


class ForwardProxy:
    """A real HTTP forward proxy on loopback: absolute-URI GETs with the right ``Proxy-Authorization`` are
    forwarded (a ``Via: 1.1 test-proxy`` added), others get 407. ``log``: (request line, Proxy-Authorization)."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str | None]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                auth = self.headers.get("Proxy-Authorization")
                with proxy._lock:
                    proxy.log.append((self.requestline, auth))
                if auth != f"Basic {CREDENTIALS}":
                    self._reply(407, {"Proxy-Authenticate": 'Basic realm="test"'}, b"")
                    return
                target = urlsplit(self.path)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                headers["Via"] = "1.1 test-proxy"
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
                try:
                    conn.request("GET", target.path + (f"?{target.query}" if target.query else ""), headers=headers)
                    answer = conn.getresponse()
                    body = answer.read()
                    kept = {k: v for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP | {"content-length"}}
                    self._reply(answer.status, kept, body)
                finally:
                    conn.close()

            def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, userinfo: str = f"{USER}:{PASSWORD}@") -> str:
        return f"http://{userinfo}127.0.0.1:{self.port}"

    def paths(self, site: SiteServer) -> list[str]:
        """The paths of ``site`` asked through the proxy, in order."""
        prefix = f"GET {site.url}"
        return [line.split()[1].removeprefix(site.url) for line, _auth in self.log if line.startswith(prefix)]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class BlockedSite(SiteServer):
    """A site answering 403 to every request that did not come through the test proxy; ``refused`` lists them."""

    def __init__(self) -> None:
        self.refused: list[str] = []
        super().__init__()

    def _handler(self):
        server, base = self, super()._handler()

        class Guarded(base):
            def do_GET(self, head: bool = False):
                if self.headers.get("Via") != "1.1 test-proxy":
                    server.refused.append(self.path)
                    self.send_response(403)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                super().do_GET(head)

        return Guarded


PARAS = [
    "The ministry said on Tuesday that the talks on the new trade agreement would continue next month.",
    "Delegations from both countries met in the capital for three days of negotiations on tariffs.",
]


def serve(site: SiteServer, listing: str, articles: list[str]) -> None:
    site.routes[listing] = Route(listing_page([(a, f"Talks {n}") for n, a in enumerate(articles)]))
    for n, path in enumerate(articles):
        site.routes[path] = Route(article_page(f"Talks {n}", [f"{path}: {PARAS[0]}", PARAS[1]]))


@pytest.fixture
def sites():
    proxy, blocked, open_site = ForwardProxy(), BlockedSite().start(), SiteServer().start()
    serve(blocked, "/news/", ["/news/1.html", "/news/2.html"])
    serve(open_site, "/world/", ["/world/1.html"])
    yield proxy, blocked, open_site
    for server in (proxy, blocked, open_site):
        server.stop()


def test_a_sections_crawl_and_rechecks_go_through_its_proxy_and_no_other_does(tmp_path, sites):
    proxy, blocked, open_site = sites
    out = tmp_path / "output"
    cfg = write_loopback_config(
        tmp_path / "newsmon.toml",
        [
            {
                "id": "kremlin",
                "proxy": proxy.url(),
                "sections": [
                    {"id": "news", "kind": "listing", "url": f"{blocked.url}/news/", "link_css": "div.item a"}
                ],
            },
            {
                "id": "rferl",
                "sections": [
                    {"id": "world", "kind": "listing", "url": f"{open_site.url}/world/", "link_css": "div.item a"}
                ],
            },
        ],
        crawler={"output_dir": str(out), "timeout": 10},
        lifecycle={"recheck_max": 50, "recheck_interval_hours": 0},
    )

    def night() -> tuple[list[str], list[str], str]:
        proxy.log.clear()
        blocked.clear_log()
        open_site.clear_log()
        proc = run_newsmon("-v", "run", "--config", str(cfg), timeout=120)
        assert "Traceback" not in proc.stderr, proc.stderr
        return proxy.paths(blocked), proxy.paths(open_site), proc.stdout + proc.stderr

    crawled, crawled_open, said_first = night()
    assert crawled[:2] == ["/robots.txt", "/news/"] and sorted(crawled[2:]) == ["/news/1.html", "/news/2.html"]
    assert crawled_open == []
    assert [p for _m, p, _s in open_site.log] == ["/robots.txt", "/world/", "/world/1.html"]  # straight there

    rechecked, rechecked_open, said_second = night()
    # The crawl asks the listing (its articles are known); the re-checks ask robots.txt and each article, all
    # through the proxy; the other source's re-check goes straight to its site.
    assert rechecked[:3] == ["/robots.txt", "/news/", "/robots.txt"]
    assert sorted(rechecked[3:]) == ["/news/1.html", "/news/2.html"]
    assert rechecked_open == []
    assert sorted(p for _m, p, _s in open_site.log) == ["/robots.txt", "/robots.txt", "/world/", "/world/1.html"]

    assert blocked.refused == []  # not one request went around the proxy
    assert {auth for _line, auth in proxy.log} == {f"Basic {CREDENTIALS}"}
    assert rows(out, "SELECT section, COUNT(*) AS n FROM articles GROUP BY section ORDER BY section") == [
        {"section": "kremlin/news", "n": 2},
        {"section": "rferl/world", "n": 1},
    ]
    assert rows(out, "SELECT outcome, COUNT(*) AS n FROM article_checks GROUP BY outcome") == [
        {"outcome": "not_modified", "n": 3}
    ]

    # The password, alone or in the Basic credentials, in no output: both runs' streams, the log, the state DB.
    written = {path: path.read_bytes() for path in out.rglob("*") if path.is_file()}
    assert any(p.name == "newsmon.log" for p in written) and any(p.name == "state.sqlite" for p in written)
    for secret in (PASSWORD, CREDENTIALS):
        assert secret not in said_first + said_second
        assert [str(p) for p, data in written.items() if secret.encode() in data] == []


def test_without_its_proxy_the_blocked_site_refuses_the_crawl(tmp_path, sites):
    """The counter-test of the one above: the loopback site really refuses requests that bypass the proxy."""
    _proxy, blocked, _open_site = sites
    out = tmp_path / "output"
    cfg = write_loopback_config(
        tmp_path / "newsmon.toml",
        [
            {
                "id": "kremlin",
                "sections": [
                    {"id": "news", "kind": "listing", "url": f"{blocked.url}/news/", "link_css": "div.item a"}
                ],
            }
        ],
        crawler={"output_dir": str(out), "timeout": 10},
        lifecycle={"recheck_max": 0},
    )
    run_newsmon("run", "--config", str(cfg), timeout=120)
    assert blocked.refused == ["/robots.txt", "/news/"]
    assert rows(out, "SELECT COUNT(*) AS n FROM articles") == [{"n": 0}]


# -- the key --------------------------------------------------------------------------------------------


def config_with(tmp_path, source_keys: str = "", section_keys: str = "", url: str = "http://example.org/news/"):
    path = tmp_path / "c.toml"
    path.write_text(
        f"""replace_default_sources = true
[[sources]]
id = "tass"
{source_keys}
[[sources.sections]]
id = "news"
kind = "listing"
url = "{url}"
link_css = "a"
{section_keys}
[[sources.sections]]
id = "world"
kind = "listing"
url = "{url}"
link_css = "a"
""",
        encoding="utf-8",
    )
    return path


def test_a_source_proxy_holds_for_its_sections_and_a_section_may_name_its_own(tmp_path):
    config = load_config(
        config_with(tmp_path, 'proxy = "http://u:p1@10.0.0.1:3128"', 'proxy = "https://10.0.0.2:8443"')
    )
    assert {s.id: s.proxy for s in config.sections} == {
        "news": "https://10.0.0.2:8443",
        "world": "http://u:p1@10.0.0.1:3128",
    }
    assert [s.proxy for s in load_config(config_with(tmp_path)).sections] == [None, None]


@pytest.mark.parametrize(
    "value, problem",
    [
        ("socks5://u:Zq9pw@10.0.0.1:1080", "expected a proxy URL such as"),
        ("http://u:Zq9pw@10.0.0.1", "expected the proxy's port"),
        ("http://u:Zq9pw@10.0.0.1:99999", "expected a port between 1 and 65535"),
        ("http://u:Zq9pw@10.0.0.1:3128/path", "expected no path, query or fragment"),
        ("http://u@10.0.0.1:3128", "expected both a user and a password"),
        ("https://u:Zq9pw@10.0.0.1:8443", "an https:// proxy cannot carry this section's https:// pages"),
    ],
)
def test_a_bad_proxy_is_named_with_its_file_and_line_and_its_password_masked(tmp_path, value, problem):
    url = "https://example.org/news/" if value.startswith("https") else "http://example.org/news/"
    path = config_with(tmp_path, section_keys=f'proxy = "{value}"', url=url)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:10: sources[tass].sections[news].proxy: {problem}"), message
    assert "Zq9pw" not in message


def test_a_bad_source_proxy_is_named_at_the_source_line(tmp_path):
    path = config_with(tmp_path, source_keys='proxy = "ftp://10.0.0.1:21"')
    with pytest.raises(ConfigError, match=rf"^{path}:4: sources\[tass\]\.proxy: expected a proxy URL"):
        load_config(path)
