"""Distributed cycles: which crawl jobs a cycle queues and their locks, the queue's schema, the commands'
errors without a PostgreSQL state, and the queues a worker takes (a crawl worker and a translation worker)."""

from __future__ import annotations

import pytest

from crawler.config import load_config
from crawler.jobs.plan import crawl_jobs, lock_of
from tests.conftest import run_newsmon

CONFIG = """
replace_default_sources = true
[[sources]]
id = "wire"
[[sources.sections]]
id = "feed"
kind = "feed"
url = "http://feeds.example.org/wire.xml"
[[sources.sections]]
id = "world"
kind = "listing"
url = "http://www.example.org/world/"
link_pattern = '/a/'
[[sources]]
id = "ministry"
[[sources.sections]]
id = "news"
kind = "listing"
url = "http://ministry.example.net/news/"
link_pattern = '/a/'
[[sources]]
id = "mirror"
[[sources.sections]]
id = "home"
kind = "listing"
url = "http://www.example.org/mirror/"
link_pattern = '/a/'
"""


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "newsmon.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return load_config(path, output_dir=tmp_path / "out")


def test_one_job_per_host_group_locked_by_its_hosts(config):
    jobs = crawl_jobs(config.sections, config.sections)
    # wire's two hosts, and mirror (on one of them), are one group: one request at a time to www.example.org.
    assert [(j.lock, j.sections) for j in jobs] == [
        ("crawl:feeds.example.org,www.example.org", ("wire/feed", "wire/world", "mirror/home")),
        ("crawl:ministry.example.net", ("ministry/news",)),
    ]


def test_a_cycle_of_some_sources_locks_the_same_names_as_a_full_cycle(config):
    """Two cycles of different selections never crawl one host side by side: the groups are the config's."""
    jobs = crawl_jobs(config.sections, config.select(["mirror"]).sections)
    assert [(j.lock, j.sections) for j in jobs] == [("crawl:feeds.example.org,www.example.org", ("mirror/home",))]
    assert lock_of([s for s in config.sections if s.source_id == "ministry"]) == "crawl:ministry.example.net"


def test_worker_and_distributed_run_need_a_postgresql_state(tmp_path):
    env = {"NEWSMON_DATABASE_URL": ""}
    for args in (("worker",), ("run", "--distributed")):
        proc = run_newsmon(*args, "--output", str(tmp_path / "out"), env=env, timeout=60)
        assert proc.returncode != 0
        assert proc.stderr.strip().splitlines() == [
            "newsmon: error: jobs need a PostgreSQL database: set [state] url (or NEWSMON_DATABASE_URL) to "
            "postgresql://user@host/dbname"
        ], proc.stderr


def test_the_queue_schema_is_created_once_whoever_comes_first(pg_url):
    pytest.importorskip("procrastinate", reason="procrastinate is not installed (pip install 'newsmon[postgresql]')")
    import psycopg

    from crawler.jobs.queue import ensure_schema

    ensure_schema(pg_url)
    ensure_schema(pg_url)  # a second worker starting: nothing to do, no error
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM procrastinate_jobs").fetchone() == (0,)


def test_the_scheduler_runs_distributed_cycles_when_the_state_is_in_postgresql(tmp_path, monkeypatch):
    from crawler.ops.scheduler import cycle_argv

    build = cycle_argv(None, tmp_path, 0)
    monkeypatch.delenv("NEWSMON_DATABASE_URL", raising=False)
    assert "--distributed" not in build(("mid/news",), False)
    monkeypatch.setenv("NEWSMON_DATABASE_URL", "postgresql://newsmon@/newsmon?host=/run/postgresql")
    argv = build(("mid/news",), False)
    assert argv[argv.index("run") :] == [
        "run",
        "--output",
        str(tmp_path),
        "--no-wait",
        "--distributed",
        "--source",
        "mid/news",
    ]
