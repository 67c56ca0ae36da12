"""End to end: `newsmon run` (the real CLI, in a subprocess, started from another directory) against
every monitored site served on loopback; then a second run that lands nothing and requests no article."""

from __future__ import annotations

import json
import sqlite3

import pytest

from crawler.crawl.store import read_raw
from crawler.localsite import SiteServer
from tests.conftest import RESOURCES, run_newsmon
from tests.crawlsite import EXPECTED, serve_all, site_config

REQUIRED = [
    "id",
    "source",
    "section",
    "section_key",
    "url",
    "canonical_url",
    "fetched_at",
    "published_at",
    "title",
    "text",
    "paragraphs",
    "lang",
    "lang_confidence",
    "paragraph_langs",
    "authors",
    "content_hash",
    "raw_path",
    "raw_encoding",
    "version",
    "title_en",
    "text_en",
    "paragraphs_en",
    "translation",
]


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    """Two runs against one server: the first lands everything, the second should find nothing new."""
    server = serve_all(SiteServer()).start()
    work = tmp_path_factory.mktemp("crawl")
    (work / "sites.toml").write_text(site_config(server), encoding="utf-8")
    out = work / "out"
    runs = []
    for extra in ([], [], ["--source", "kremlin-en/archive", "--refetch"]):
        server.clear_log()
        # From an unrelated working directory: the installed CLI must not depend on the repo's cwd.
        proc = run_newsmon("run", "--config", str(work / "sites.toml"), "--output", str(out), *extra, cwd=work)
        runs.append((proc, list(server.log), _items_file(out).read_bytes()))
    yield server, out, runs
    server.stop()


def _items_file(out):
    files = sorted(out.glob("*/items.jsonl"))
    assert len(files) == 1, files
    return files[0]


def _items(out) -> list[dict]:
    return [json.loads(line) for line in _items_file(out).read_text(encoding="utf-8").splitlines()]


def test_first_run_lands_every_expected_article_once(crawl):
    server, out, runs = crawl
    proc = runs[0][0]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    items = _items(out)
    paths = [item["url"].removeprefix(server.url) for item in items]
    assert sorted(paths) == sorted(EXPECTED)
    assert len({item["id"] for item in items}) == len(items)
    assert {p: item["lang"] for p, item in zip(paths, items)} == EXPECTED
    assert "Traceback" not in proc.stderr


def test_items_follow_the_schema_and_are_utf8_without_escapes(crawl):
    _server, out, _runs = crawl
    raw = _items_file(out).read_bytes()
    raw.decode("utf-8")
    assert b"\\u" not in raw
    for item in _items(out):
        assert set(REQUIRED) <= set(item), set(REQUIRED) - set(item)
        assert item["text"] == "\n\n".join(item["paragraphs"]) and item["paragraphs"]
        assert item["title"] and item["version"] == 1
        assert item["translation"]["status"] in ("pending", "not_needed", "done", "failed")


def test_legacy_charsets_come_out_without_mojibake(crawl):
    _server, out, _runs = crawl
    by_path = {item["url"].split("/", 3)[3]: item for item in _items(out)}
    utf8_copy = by_path["n1/2019/0615/c1013-31153719.html"]
    gbk_copy = by_path["n1/2019/0615/c1013-91153719.html"]  # GBK bytes labelled GB2312
    assert gbk_copy["title"] == utf8_copy["title"] == "女儿出嫁，郑板桥画了几笔兰花当嫁妆"
    assert gbk_copy["paragraphs"] == utf8_copy["paragraphs"]
    assert gbk_copy["raw_encoding"] == "gb18030"
    assert by_path["world/03jan2006/ankara.html"]["title"] == "Синтетическая страница для проверки кодировки KOI8-R"
    assert by_path["Article.Asp?lang=_c&Art_ID=29698"]["title"] == "用于测试国标编码的合成网页"
    xinhua_gb2312 = by_path["news/2012-06/04/content_25340717.htm"]
    assert xinhua_gb2312["title"] == "话剧《约定无期限》河北各市巡演结束"


def test_raw_pages_are_kept_compressed_as_served(crawl):
    _server, out, _runs = crawl
    gbk = (RESOURCES / "recorded/peoples-daily/culture-2019-0615-c1013-31153719.SYNTHETIC-gbk-bytes.html").read_bytes()
    for item in _items(out):
        assert item["raw_path"] == f"raw/{item['source']}/{item['id']}.html.zst"
        body = read_raw(out, item["raw_path"])
        assert body.decode(item["raw_encoding"])
        if item["url"].endswith("c1013-91153719.html"):
            assert body == gbk


def test_summary_table_names_every_section(crawl):
    _server, _out, runs = crawl
    stdout = runs[0][0].stdout
    for key in (
        "kremlin-en/news-feed",
        "kremlin-en/archive",
        "peoples-daily/russia",
        "xinhua/world",
        "tass-ru/all",
        "mid-ru/news",
        "fmprc/spokesperson",
        "rferl/home",
        "newsru/all",
    ):
        assert key in stdout
    assert f"{len(EXPECTED)} new items" in stdout
    archive = next(line for line in stdout.splitlines() if line.startswith("kremlin-en/archive"))
    assert archive.split()[1:5] == ["10", "10", "10", "0"]  # links, new, fetched, failed


def test_second_run_lands_nothing_and_requests_no_article(crawl):
    _server, _out, runs = crawl
    (proc1, _log1, items1), (proc2, log2, items2), _refetch = runs
    assert proc2.returncode == 0, proc2.stdout + proc2.stderr
    assert items2 == items1
    assert "0 new items" in proc2.stdout
    article_paths = set(EXPECTED)
    assert not [path for _m, path, _s in log2 if path in article_paths]
    entry_answers = {status for _m, path, status in log2 if path != "/robots.txt"}
    assert entry_answers == {304}  # conditional GET on every listing and feed


def test_snapshots_record_each_section_each_run(crawl):
    _server, out, _runs = crawl
    conn = sqlite3.connect(out / "state.sqlite")
    conn.row_factory = sqlite3.Row
    rows = conn.execute("SELECT * FROM section_snapshots WHERE run_id < 3 ORDER BY run_id, section").fetchall()
    assert len(rows) == 2 * 13
    first = {r["section"]: r for r in rows if r["run_id"] == 1}
    second = {r["section"]: r for r in rows if r["run_id"] == 2}
    archive = first["kremlin-en/archive"]
    assert (archive["http_status"], archive["not_modified"], archive["links_found"], archive["error"]) == (
        200,
        0,
        10,
        None,
    )
    assert json.loads(archive["article_urls"])[0].endswith("/events/president/news/63440")
    assert archive["link_rule"] == "css 'h3.hentry__title a[rel=bookmark]'"
    again = second["kremlin-en/archive"]
    assert (again["http_status"], again["not_modified"], again["links_found"]) == (304, 1, 10)
    assert again["fingerprint"] == archive["fingerprint"] and again["article_urls"] == archive["article_urls"]
    runs = conn.execute("SELECT id, status FROM runs ORDER BY id").fetchall()
    assert [tuple(r) for r in runs] == [(1, "ok"), (2, "ok"), (3, "ok")]
    stored = conn.execute("SELECT COUNT(*) FROM articles WHERE run_id = 1").fetchone()[0]
    assert stored == len(EXPECTED)


def test_sitemap_index_is_followed_into_a_gzipped_child_sitemap(crawl):
    server, out, _runs = crawl
    by_url = {item["url"].removeprefix(server.url): item for item in _items(out)}
    assert by_url["/n1/2024/0424/c1001-40223222.html"]["section_key"] == "peoples-daily/sitemap"
    conn = sqlite3.connect(out / "state.sqlite")
    row = conn.execute(
        "SELECT http_status, links_found, error FROM section_snapshots "
        "WHERE run_id = 1 AND section = 'peoples-daily/sitemap'"
    ).fetchone()
    assert row == (200, 1, None)


def test_refetch_requests_stored_articles_again_without_new_lines(crawl):
    _server, _out, runs = crawl
    (_p1, _l1, items1), (proc, log, items3) = runs[0], runs[2][:3]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    fetched = [path for _m, path, status in log if status == 200 and "/events/president/news/" in path]
    assert len(fetched) == 10  # the archive's ten articles, stored, fetched again
    assert items3 == items1 and "0 new items" in proc.stdout


def test_one_request_at_a_time_with_an_honest_user_agent(crawl):
    server, _out, _runs = crawl
    assert server.max_in_flight == 1  # sections of one host run one after another
    assert len(server.user_agents) == 1
    (agent,) = server.user_agents
    assert agent.startswith("newsmon/") and "+https://" in agent  # names itself and a contact URL
    assert server.requests_for("/robots.txt") >= 1


def test_extraction_in_worker_processes_lands_the_same_items(crawl, tmp_path):
    """[crawler] extraction_workers moves extraction + langdetect off the reactor; the output must not change."""
    server, out, _runs = crawl
    config = site_config(server).replace("[crawler]\n", "[crawler]\nextraction_workers = 2\n", 1)
    assert "extraction_workers = 2" in config
    (tmp_path / "sites.toml").write_text(config, encoding="utf-8")
    pooled = tmp_path / "out"
    proc = run_newsmon("run", "--config", str(tmp_path / "sites.toml"), "--output", str(pooled), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    def essentials(items):
        return sorted((i["id"], i["title"], i["lang"], i["published_at"], i["paragraphs"][-1]) for i in items)

    assert essentials(_items(pooled)) == essentials(_items(out))
