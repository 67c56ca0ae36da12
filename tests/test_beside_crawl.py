"""Stage work beside the crawl: an extraction worker brings stories and the search index up to date with the
items landed so far (crawler/crawl/beside.py). Real worker processes, a real SQLite state DB, and one real
`newsmon run` over a slow loopback site; the pages are SYNTHETIC (made here: numbered English sentences)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from crawler import state
from crawler.config import load_config
from crawler.crawl.beside import BesideCrawl
from crawler.digest import search
from crawler.extract import analysis
from crawler.localsite import Route, write_loopback_config
from crawler.store import items as item_store
from crawler.stories.index import StorySettings
from crawler.stories.stage import update_stories
from tests.conftest import run_newsmon
from tests.storekit import make_item

DAY = "2026-11-28"
ROOT = Path(__file__).resolve().parent.parent
WORDS = "minister delegation summit treaty pipeline harvest railway archive festival satellite".split()


def sentences(n: int) -> list[str]:
    """Paragraphs no other page has (its number spelled into each), long enough for extraction."""
    return [
        f"The {WORDS[(n + k) % len(WORDS)]} report K{n:03d}Q part {k} says the talks went on until late evening, "
        f"and officials from both sides described the {WORDS[(n * 3 + k) % len(WORDS)]} plans in detail."
        for k in range(4)
    ]


def article(n: int) -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in sentences(n))
    return (
        f"<!-- SYNTHETIC --><html><head><meta charset='utf-8'><title>Report {n}</title></head><body>"
        f"<nav><a href='/'>Home</a></nav><article><h1>Report {n} on the talks</h1>{paragraphs}</article>"
        f"<footer>Contact the newsroom</footer></body></html>"
    ).encode()


@pytest.fixture
def worker():
    """The process-wide pool with one worker, ready."""
    pool = analysis.shared_pool(1)
    assert pool._ready is not None
    pool._ready.result(timeout=120)
    yield pool
    analysis.close_shared_pool()


def config_of(tmp_path: Path):
    section = {"id": "news", "name": "News", "kind": "listing", "url": "http://127.0.0.1:9/list", "link_css": "a"}
    path = write_loopback_config(tmp_path / "newsmon.toml", [{"id": "site", "name": "Site", "sections": [section]}])
    return load_config(path)


def test_a_worker_groups_and_indexes_what_has_landed_and_the_stages_have_nothing_left(tmp_path, worker):
    out, config = tmp_path / "out", config_of(tmp_path)
    beside = BesideCrawl(out, config)
    beside.tick()  # nothing landed yet: no task
    items = [make_item(n, ("en", "ru", "zh")[n % 3], DAY) for n in range(12)]
    with closing(state.connect(out)) as conn, state.transaction(conn):
        for item in items:
            item_store.insert(conn, item, DAY)
    beside.tick()
    beside.tick()  # the first task still runs, or has seen everything: no second
    # a stage's module loaded on each tick once the worker took a task
    assert beside.finish() == {"tasks": 1, "failed": 0, "stages_loaded": 2}

    with closing(state.connect(out)) as conn:
        assert conn.execute("SELECT count(*) FROM story_items").fetchone()[0] == len(items)
        assert search.update_index(conn) == 0  # indexed by the worker already
        assert {h.doc["id"] for h in search.search(conn, items[4]["title"], limit=50).hits} >= {items[4]["id"]}
        assert update_stories(conn, out, StorySettings())["items"] == 0  # grouped by the worker already


def test_a_failed_task_is_said_once_and_leaves_the_work_to_the_stages(tmp_path, worker, caplog):
    out, config = tmp_path / "out", config_of(tmp_path)
    beside = BesideCrawl(out, config)
    with closing(state.connect(out)) as conn, state.transaction(conn):
        item_store.insert(conn, make_item(1, "en", DAY), DAY)
    beside.url = "postgresql://newsmon@127.0.0.1:9/nowhere"  # the worker cannot reach the state DB
    with caplog.at_level(logging.WARNING, logger="crawler"):
        beside.tick()
        assert beside.finish() == {"tasks": 1, "failed": 1, "stages_loaded": 1}
    said = [r.getMessage() for r in caplog.records if "beside the crawl failed" in r.getMessage()]
    assert len(said) == 1 and "the stages do it" in said[0]
    with closing(state.connect(out)) as conn:
        assert update_stories(conn, out, StorySettings())["items"] == 1


def test_a_warning_logged_in_the_worker_reaches_the_runs_log(tmp_path, worker, caplog):
    out, config = tmp_path / "out", config_of(tmp_path)
    beside = BesideCrawl(out, config)
    broken = make_item(2, "en", DAY)
    with closing(state.connect(out)) as conn, state.transaction(conn):
        item_store.insert(conn, broken, DAY)
        conn.execute("UPDATE items SET json = '{not json' WHERE id = ?", (broken["id"],))
    with caplog.at_level(logging.WARNING, logger="crawler"):
        beside.tick()
        assert beside.finish() == {"tasks": 1, "failed": 0, "stages_loaded": 1}
    assert any(f"stories: items row {broken['id']} holds no valid JSON" in r.getMessage() for r in caplog.records)


def test_the_stages_modules_are_loaded_one_a_tick_once_the_workers_are_up(tmp_path, worker):
    out, config = tmp_path / "out", config_of(tmp_path)
    beside = BesideCrawl(out, config)
    beside.stages_to_load = ["tests.beside_stage_probe.run_stage", "tests.no_such_stage.run_stage"]
    beside.tick()  # nothing landed, no task: the workers may not be up, nothing is loaded
    assert beside.stages_loaded == 0 and len(beside.stages_to_load) == 2
    with closing(state.connect(out)) as conn, state.transaction(conn):
        item_store.insert(conn, make_item(3, "en", DAY), DAY)
    beside.tick()
    assert "tests.beside_stage_probe" in sys.modules
    beside.tick()  # a module that cannot be imported is left to the stage runner, which reports it
    assert beside.finish() == {"tasks": 1, "failed": 0, "stages_loaded": 1} and beside.stages_to_load == []


@pytest.mark.e2e
def test_a_run_hands_stage_work_to_its_worker_while_it_crawls(tmp_path, site_server):
    pages = 40
    for n in range(pages):  # one page at a time, 0.15 s each: a crawl of about six seconds
        site_server.routes[f"/news/{n}.html"] = Route(article(n), delay=0.15)
    links = "".join(f'<li><a href="/news/{n}.html">Report {n}</a></li>' for n in range(pages))
    site_server.routes["/list"] = Route(f"<html><body><ul>{links}</ul></body></html>".encode())
    section = {"id": "news", "name": "News", "kind": "listing", "url": f"{site_server.url}/list", "link_css": "li a"}
    config = write_loopback_config(
        tmp_path / "newsmon.toml",
        [{"id": "site", "name": "Site", "sections": [section]}],
        crawler={"extraction_workers": 1, "concurrent_per_domain": 1, "max_links": pages},
    )
    out = tmp_path / "out"
    started = time.monotonic()
    run = run_newsmon("run", "--config", str(config), "--output", str(out), timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert time.monotonic() - started > 4  # long enough for a worker to be up while pages still land

    with closing(state.connect(out)) as conn:
        summary = json.loads(conn.execute("SELECT summary FROM runs").fetchone()[0])
    assert summary["stages"]["beside_crawl"]["tasks"] >= 1 and summary["stages"]["beside_crawl"]["failed"] == 0
    assert summary["stages"]["beside_crawl"]["stages_loaded"] >= 1
    assert summary["stages"]["crawler.stories.stage"]["items"] < pages  # some were grouped beside the crawl
    with closing(state.connect(out)) as conn:
        stored = [
            item for _day, item in item_store.load(conn, [r[0] for r in conn.execute("SELECT id FROM items")]).values()
        ]
        assert len(stored) == pages and all(item and item.get("story") for item in stored)
        for n in (0, pages - 1):
            hits = search.search(conn, f"K{n:03d}Q", limit=5).hits
            assert [h.doc["title"] for h in hits] == [f"Report {n} on the talks"]


def test_the_work_beside_the_crawl_loads_no_digest_renderer():
    """It runs in the extraction workers: each would otherwise import the digest's HTML and text renderers
    (a quarter of a second) for nothing."""
    script = (
        "import sys\nfrom scrapy.utils.misc import load_object\nfrom crawler.features import beside_crawl\n"
        "for dotted in beside_crawl():\n    load_object(dotted)\n"
        "print(len(beside_crawl()), sorted(m for m in sys.modules if m.startswith(('crawler.digest.html', "
        "'crawler.digest.text', 'crawler.digest.stage'))))"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "2 []"
