"""A small news site on the loopback server for the scheduler tests: one listing, real Kremlin articles.

The articles are the recorded Kremlin pages the demo bundles (crawler/demo/kremlin-en, CC BY 4.0); the
listing page that links them is written here (synthetic). ``make_config`` writes a user config pointing
one section at it.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from crawler.jsonl import read
from tests.recorded import recorded
from tests.sitesrv import Route, SiteServer, page, write_loopback_config

ROOT = Path(__file__).resolve().parent.parent
ARTICLE_IDS = ["11287", "17109", "34018", "52988", "56514", "57246", "62299", "62861"]
LISTING = "/events/president/news/"


def article_path(ident: str) -> str:
    return f"/events/president/news/{ident}"


def listing_html(ids: list[str]) -> bytes:
    links = "\n".join(f'<li><a href="{article_path(i)}">Item {i}</a></li>' for i in ids)
    return (
        f"<!-- synthetic listing for tests -->\n<html><head><title>News</title></head><body>"
        f"<h1>News</h1><ul class='news'>\n{links}\n</ul></body></html>"
    ).encode()


def serve_site(server: SiteServer, copies: int = 1, delay: float = 0.0) -> list[str]:
    """Route the listing and its articles, each answered after ``delay`` seconds; returns their ids.

    ``copies`` > 1 serves each recorded page at that many URLs (more articles than Scrapy keeps in
    flight, so that a stopped cycle leaves some for the next one)."""
    pages = {(f"{base}0{n}" if n else base): base for n in range(copies) for base in ARTICLE_IDS}
    server.routes[LISTING] = Route(listing_html(list(pages)))
    for ident, base in pages.items():
        server.routes[article_path(ident)] = page(recorded(f"kremlin-en/news-{base}.html"), delay=delay)
    return list(pages)


def make_config(tmp_path: Path, server: SiteServer, extra: str = "") -> Path:
    section = {
        "id": "news",
        "kind": "listing",
        "url": f"{server.url}{LISTING}",
        "link_pattern": r"/events/president/news/\d+$",
        "languages": ["en"],
    }
    crawler = {"autothrottle": False, "obey_robots": False, "concurrent_per_domain": 4, "timeout": 20}
    schedule = {"timezone": "UTC", "stop_timeout_seconds": 60, "min_free_mb": 0}
    return write_loopback_config(
        tmp_path / "sched.toml",
        [{"id": "kremlin", "name": "Kremlin (loopback)", "sections": [section]}],
        crawler=crawler,
        schedule=schedule,
        extra=extra,
    )


def jsonl_ids(output: Path) -> list[str]:
    """Every id of every items.jsonl line, in order (duplicates kept, so a test can see them)."""
    ids = []
    for path in sorted(output.glob("*/items.jsonl")):
        raw = path.read_bytes()
        assert raw == b"" or raw.endswith(b"\n"), f"{path} ends in a partial line"
        ids += [obj["id"] for obj in read(path)]
    return ids


def db_ids(output: Path) -> tuple[set[str], set[str]]:
    conn = sqlite3.connect(output / "state.sqlite")
    try:
        return (
            {r[0] for r in conn.execute("SELECT id FROM items")},
            {r[0] for r in conn.execute("SELECT id FROM articles")},
        )
    finally:
        conn.close()


def query(output: Path, sql: str, *params) -> list[tuple]:
    if not (output / "state.sqlite").exists():
        raise sqlite3.OperationalError(f"no state DB in {output} yet")
    conn = sqlite3.connect(output / "state.sqlite", timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


HOLD = """
import sys, time
from crawler.ops.lock import CycleLock
with CycleLock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold_lock(output: Path, seconds: float) -> subprocess.Popen:
    """A separate process holding the cycle lock of ``output`` for ``seconds``; returns once it holds it.
    Finish with ``release(proc)``."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(output), str(seconds)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def release(proc: subprocess.Popen, kill: bool = False) -> int:
    if kill:
        proc.kill()
    code = proc.wait()
    proc.stdout.close()
    return code
