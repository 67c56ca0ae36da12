"""A `newsmon run` killed (SIGKILL) in the middle of its crawl loses no fetched item and duplicates none:
the next run lands exactly the rest."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

from crawler.localsite import SiteServer
from tests.conftest import ROOT
from tests.crawlsite import CRAWLER_TABLE, KREMLIN_IDS, NEWS, kremlin_routes, merge_sources, section


def lines_of(out) -> list[str]:
    return [line for f in sorted(out.glob("*/items.jsonl")) for line in f.read_text("utf-8").splitlines()]


def test_sigkill_mid_crawl_loses_and_duplicates_nothing(tmp_path):
    server = SiteServer().start()
    kremlin_routes(server)
    for ident in KREMLIN_IDS:
        server.routes[f"{NEWS}/{ident}"].delay = 0.3  # slow articles: the kill lands mid-crawl
    config = tmp_path / "k.toml"
    config.write_text(
        merge_sources(
            [
                CRAWLER_TABLE,
                section(
                    "kremlin-en",
                    "archive",
                    "listing",
                    f"{server.url}/events/president/transcripts/archive",
                    link_css="h3.hentry__title a[rel=bookmark]",
                ),
                section("kremlin-en", "news-feed", "feed", f"{server.url}{NEWS}/feed", link_pattern=rf"{NEWS}/63953$"),
            ]
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    args = [sys.executable, "-m", "crawler", "run", "--config", str(config), "--output", str(out)]
    try:
        proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while len(lines_of(out)) < 3 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        before = lines_of(out)
        assert 3 <= len(before) < len(KREMLIN_IDS), "the kill should land mid-crawl"

        for ident in KREMLIN_IDS:
            server.routes[f"{NEWS}/{ident}"].delay = 0
        server.clear_log()
        rerun = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)
    finally:
        server.stop()
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    after = lines_of(out)
    ids = [json.loads(line)["id"] for line in after]
    assert len(ids) == len(set(ids)) == len(KREMLIN_IDS)
    assert after[: len(before)] == before  # append-only: earlier lines untouched
    landed_before = {json.loads(line)["url"].rsplit("/", 1)[1] for line in before}
    refetched = {path.rsplit("/", 1)[1] for _m, path, status in server.log if status == 200 and "/news/" in path}
    assert not refetched & landed_before  # what had landed was not fetched again
    db = sqlite3.connect(out / "state.sqlite")
    assert db.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == len(KREMLIN_IDS)
    assert db.execute("SELECT status FROM runs ORDER BY id").fetchall() == [("interrupted",), ("ok",)]
