"""Bad input: each problem gives one clear log line, the run goes on, the other sections are unaffected."""

from __future__ import annotations

import json
import socket
import sqlite3

import pytest

from crawler.localsite import Route, SiteServer
from tests.conftest import RESOURCES, run_newsmon
from tests.crawlsite import CRAWLER_TABLE, NEWS, kremlin_routes, section

GBK_PAGE = RESOURCES / "recorded/peoples-daily/culture-2019-0615-c1013-31153719.SYNTHETIC-gbk-bytes.html"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bad_routes(server: SiteServer) -> None:
    kremlin_routes(server)  # the healthy section
    server.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    server.routes["/boom.xml"] = Route(b"<h1>Internal error</h1>", status=500)
    server.routes["/slow"] = Route(b"<html><a href='/art/x'>x</a></html>", delay=2.5)
    server.routes["/broken.xml"] = Route(
        b'<?xml version="1.0"?><rss><channel><item><link>http://x/1</li', content_type="application/rss+xml"
    )
    server.routes["/empty"] = Route(b"")
    server.routes["/moved"] = Route(b"", status=301, location="/home")  # a section redirected away
    server.routes["/home"] = Route(b"<html><body><a href='/about'>About us</a></body></html>")
    links = "".join(f'<li><a href="/art/{n}">{n}</a></li>' for n in ("wrong-charset", "empty", "gone", "error"))
    server.routes["/articles"] = Route(f"<html><body><ul class='list'>{links}</ul></body></html>".encode())
    # GBK bytes sent with a header that says UTF-8: recoverable, with a warning naming the lie.
    server.routes["/art/wrong-charset"] = Route(GBK_PAGE.read_bytes(), content_type="text/html; charset=utf-8")
    server.routes["/art/empty"] = Route(b"")
    server.routes["/art/error"] = Route(b"oops", status=500)


def bad_config(server: SiteServer) -> str:
    u = server.url
    kremlin = rf"{NEWS}/(63953)$"
    return "\n".join(
        [
            CRAWLER_TABLE.replace("timeout = 5", "timeout = 1"),
            section("good", "kremlin-feed", "feed", f"{u}{NEWS}/feed", link_pattern=kremlin),
            section("bad", "missing", "listing", f"{u}/missing", link_css="a"),
            section("bad-500", "feed", "feed", f"{u}/boom.xml"),
            section("bad-slow", "listing", "listing", f"{u}/slow", link_css="a"),
            section("bad-refused", "listing", "listing", f"http://127.0.0.1:{closed_port()}/", link_css="a"),
            section("bad-feed", "malformed", "feed", f"{u}/broken.xml"),
            section("bad-empty", "listing", "listing", f"{u}/empty", link_css="a"),
            section("articles", "mixed", "listing", f"{u}/articles", link_css="ul.list a"),
            section("moved", "listing", "listing", f"{u}/moved", link_css="ul.list a"),
            section("bad-robots", "listing", "listing", f"{u}/private/list", link_css="a"),
        ]
    )


@pytest.fixture(scope="module")
def bad_run(tmp_path_factory):
    server = SiteServer().start()
    bad_routes(server)
    work = tmp_path_factory.mktemp("bad")
    (work / "bad.toml").write_text(bad_config(server), encoding="utf-8")
    proc = run_newsmon("run", "--config", str(work / "bad.toml"), "--output", str(work / "out"))
    yield proc, work / "out", server
    server.stop()


def warnings_about(stderr: str, needle: str) -> list[str]:
    return [line for line in stderr.splitlines() if needle in line and "WARNING" in line]


@pytest.mark.parametrize(
    "section_key, cause",
    [
        ("bad/missing", "/missing: HTTP 404"),
        ("bad-500/feed", "/boom.xml: HTTP 500"),
        ("bad-slow/listing", "timeout after 1 s"),
        ("bad-refused/listing", "connection refused"),
        ("bad-feed/malformed", "malformed feed: not well-formed XML"),
        ("bad-empty/listing", "empty page"),
        ("bad-robots/listing", "/private/list: forbidden by robots.txt"),
        ("articles/mixed", "/art/gone: HTTP 404"),
        ("articles/mixed", "/art/error: HTTP 500"),
        ("articles/mixed", "/art/empty: empty body"),
        ("articles/mixed", "utf-8 decoding gave replacement characters; decoded as gb18030"),
    ],
)
def test_each_problem_is_one_clear_log_line(bad_run, section_key, cause):
    proc, _out, _server = bad_run
    lines = warnings_about(proc.stderr, cause)
    assert len(lines) == 1, proc.stderr
    assert f"{section_key}: " in lines[0]


def test_the_run_goes_on_and_reports_failures_per_source(bad_run):
    proc, out, _server = bad_run
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert "errors by source:" in proc.stdout
    for source in ("bad", "bad-500", "bad-slow", "bad-refused", "bad-feed", "bad-empty", "bad-robots", "articles"):
        assert f"  {source}:" in proc.stdout
    assert "  good:" not in proc.stdout and "  moved:" not in proc.stdout


def test_robots_txt_is_obeyed_and_fetched_once_for_all_the_sections_of_a_host(bad_run):
    _proc, _out, server = bad_run
    assert server.requests_for("/private/list") == 0
    assert server.requests_for("/robots.txt") == 1  # a dozen sections on this host, one robots.txt


def test_other_sections_are_unaffected(bad_run):
    _proc, out, _server = bad_run
    items = [json.loads(line) for f in out.glob("*/items.jsonl") for line in f.read_text("utf-8").splitlines()]
    by_section = {item["section_key"]: item for item in items}
    assert by_section["good/kremlin-feed"]["title"].startswith("Launching motor traffic")
    recovered = by_section["articles/mixed"]  # the wrong-charset page, decoded right after all
    assert recovered["title"] == "女儿出嫁，郑板桥画了几笔兰花当嫁妆"
    assert len(items) == 2


def test_failures_are_recorded_in_section_snapshots(bad_run):
    _proc, out, _server = bad_run
    conn = sqlite3.connect(out / "state.sqlite")
    snaps = {
        r[0]: r[1:] for r in conn.execute("SELECT section, http_status, error, links_found FROM section_snapshots")
    }
    assert snaps["bad/missing"][:2] == (404, "HTTP 404")
    assert snaps["bad-500/feed"][:2] == (500, "HTTP 500")
    assert snaps["bad-slow/listing"][:2] == (None, "timeout after 1 s")
    assert snaps["bad-refused/listing"][0] is None and "refused" in snaps["bad-refused/listing"][1]
    assert snaps["bad-feed/malformed"][0] == 200 and snaps["bad-feed/malformed"][1].startswith("malformed feed")
    assert snaps["bad-empty/listing"][:2] == (200, "empty page")
    assert snaps["articles/mixed"] == (200, None, 4)
    assert snaps["good/kremlin-feed"] == (200, None, 1)
    assert snaps["moved/listing"] == (200, None, 0)
    assert snaps["bad-robots/listing"][:2] == (None, "forbidden by robots.txt")
    final_url = conn.execute("SELECT final_url FROM section_snapshots WHERE section = 'moved/listing'").fetchone()[0]
    assert final_url.endswith("/home")
    status = conn.execute("SELECT status FROM runs").fetchone()[0]
    assert status == "errors"


def test_a_malformed_config_is_one_line_naming_file_line_and_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[crawler]\ndownload_delay = 0\nretrys = 3\n", encoding="utf-8")
    proc = run_newsmon("run", "--config", str(bad), "--output", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "bad.toml:3" in proc.stderr and "[crawler] retrys: unknown key" in proc.stderr
    syntax = tmp_path / "syntax.toml"
    syntax.write_text('[[sources]]\nid = "x"\nname = "unterminated\n', encoding="utf-8")
    proc = run_newsmon("run", "--config", str(syntax), "--output", str(tmp_path / "out"))
    assert proc.returncode == 2 and "syntax.toml" in proc.stderr and "line 3" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out" / "state.sqlite").exists()  # nothing started


def test_an_unwritable_output_directory_is_one_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    proc = run_newsmon("run", "--source", "kremlin-en", "--output", str(blocker / "out"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "newsmon: error:" in proc.stderr and str(blocker / "out") in proc.stderr
