"""End to end on PostgreSQL: `newsmon run` against the monitored sites served on loopback, the state in a
database of the test's own (NEWSMON_DATABASE_URL); the day files written as with the SQLite file, and
`newsmon search` answering Chinese and Russian from the database."""

from __future__ import annotations

import json
import re
from contextlib import closing

import pytest

from crawler import state
from crawler.localsite import SiteServer
from crawler.store import items as item_store
from tests.conftest import run_newsmon
from tests.crawlsite import EXPECTED, serve_all, site_config


@pytest.fixture(scope="module")
def crawled(tmp_path_factory, pg_server):
    url = pg_server.database()
    server = serve_all(SiteServer()).start()
    work = tmp_path_factory.mktemp("crawl-pg")
    (work / "sites.toml").write_text(site_config(server), encoding="utf-8")
    out = work / "out"
    env = {state.ENV_URL: url}
    first = run_newsmon("run", "--config", str(work / "sites.toml"), "--output", str(out), cwd=work, env=env)
    server.clear_log()
    second = run_newsmon("run", "--config", str(work / "sites.toml"), "--output", str(out), cwd=work, env=env)
    yield server, out, url, env, first, (second, list(server.log))
    server.stop()
    pg_server.drop(url)


def _day_items(out) -> list[dict]:
    return [
        json.loads(line)
        for f in sorted(out.glob("*/items.jsonl"))
        for line in f.read_text(encoding="utf-8").splitlines()
    ]


def test_a_run_lands_every_article_once_in_postgresql_and_the_day_files(crawled):
    server, out, url, _env, first, _second = crawled
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Traceback" not in first.stderr
    items = _day_items(out)
    assert sorted(i["url"].removeprefix(server.url) for i in items) == sorted(EXPECTED)
    assert not (out / state.DB_NAME).exists()
    with closing(state.connect(out, url)) as conn:
        stored = {r["id"]: item_store.loads(r["json"]) for r in conn.execute("SELECT id, json FROM items")}
        assert conn.execute("SELECT status FROM runs ORDER BY id").fetchall()[0][0] in ("ok", "errors")
    assert stored == {i["id"]: i for i in items}  # the day files are the database's rows
    assert [p.parent for p in out.glob("*/digest.txt")] == [p.parent for p in out.glob("*/items.jsonl")]


def test_status_reads_the_database(crawled):
    _server, out, _url, env, _first, _second = crawled
    proc = run_newsmon("status", "--output", str(out), "--json", env=env)
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    assert len(report["runs"]) == 2 and report["disk"]["state_db_bytes"] == 0
    assert {s["section"] for s in report["sections"]} and "no state DB" not in " ".join(report["attention"])


def test_a_second_run_lands_nothing_new(crawled):
    _server, out, _url, _env, _first, (second, log) = crawled
    assert second.returncode == 0, second.stdout + second.stderr
    assert len(_day_items(out)) == len(EXPECTED)
    assert log and not [path for _method, path, _status in log if path in EXPECTED]  # entry points only


@pytest.mark.parametrize("lang", ["zh", "ru"])
def test_search_answers_from_postgresql(crawled, lang):
    _server, out, _url, env, _first, _second = crawled
    item = next(i for i in _day_items(out) if i["lang"] == lang and i.get("title"))
    if lang == "zh":
        query = re.sub(r"[^\u4e00-\u9fff]", "", item["title"])[:4]
    else:
        query = max(re.findall(r"[А-Яа-яЁё]+", item["title"]), key=len)
    proc = run_newsmon("search", query, "--output", str(out), "--limit", "50", env=env, check=True)
    assert item["url"] in proc.stdout, (query, proc.stdout)
