"""Article re-checks against the loopback site server: edits, deletions, volatile text, conditional GET."""

import json
from datetime import datetime, timedelta, timezone

from crawler import jsonl
from crawler.lifecycle import stage as sections
from crawler.extract.extraction import extract_article
from tests.alerting import article_page as article, context, new_run, rows, store_article, write_config
from tests.sitesrv import Route

PARAS = ["The foreign minister arrived in Beijing on Monday for two days of talks with his Chinese counterpart.",
         "Officials said the talks would cover energy supplies, the situation in the region and a summit.",
         "The visit is the third this year, following meetings in Moscow in March and in Astana in July."]
SECTION = "site/russia"
VOLATILE = r"Updated \d\d:\d\d, [\d,]+ views"


def ago(**kw):
    return (datetime.now(timezone.utc) - timedelta(**kw)).replace(microsecond=0).isoformat()


def stored(server, out, path, title="Minister visits Beijing", paragraphs=PARAS, first_seen=None, route=None):
    route = route or Route(article(title, paragraphs))
    server.routes[path] = route
    url = server.url + path
    got = extract_article(route.body.decode(), url, None)
    return store_article(out, 1, SECTION, url, got.title, got.paragraphs, at=first_seen or ago(days=1),
                         etag=route.etag, last_modified=route.last_modified)


def test_edits_deletions_and_noise(tmp_path, site_server):
    server = site_server
    server.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    cfg = write_config(tmp_path, server.url)
    text = cfg.read_text().replace("recheck_max = 0", "recheck_max = 50\nrecheck_interval_hours = 0")
    cfg.write_text(text.replace("ignore_patterns = ['\\?t=\\d+']", f"ignore_patterns = ['{VOLATILE}']"))
    out = tmp_path / "output"
    new_run(out)
    ids = {name: stored(server, out, f"/world/russia/{name}.html")
           for name in ("edited", "deleted", "volatile", "same", "home", "flaky")}
    ids["old"] = stored(server, out, "/world/russia/old.html", first_seen=ago(days=10))
    ids["private"] = stored(server, out, "/private/1.html")

    edited = [PARAS[0], PARAS[1].replace("a summit", "a summit in Kazan"), PARAS[2], "A new closing paragraph."]
    server.routes["/world/russia/edited.html"] = Route(article("Minister visits Beijing", edited))
    del server.routes["/world/russia/deleted.html"]
    server.routes["/world/russia/volatile.html"] = Route(article("Minister visits Beijing", PARAS, views="98,765"))
    server.routes["/world/russia/home.html"] = Route(status=301, location="/")
    server.routes["/"] = Route(b"<html><body><h1>Test News</h1><p>Front page</p></body></html>")
    server.routes["/world/russia/flaky.html"] = Route(b"oops", status=503)
    server.clear_log()

    summary = sections.run_stage(context(cfg, new_run(out)))
    assert summary["rechecks"] == {"edited": 1, "deleted": 2, "unchanged": 1, "not_modified": 1, "error": 2}
    got = {e["article_id"]: e for e in rows(out, "SELECT * FROM events ORDER BY seq")}
    assert set(got) == {ids["edited"], ids["deleted"], ids["home"]}
    assert got[ids["edited"]]["type"] == "article_edited"
    assert got[ids["edited"]]["cause"] == "1 paragraph changed, 1 added"
    assert got[ids["deleted"]]["cause"] == "HTTP 404: the article page is gone"
    assert got[ids["home"]]["cause"].startswith("redirected to the homepage")
    diff = json.loads(got[ids["edited"]]["details"])["paragraphs"]
    assert diff[0]["op"] == "replace" and diff[0]["new"] == [edited[1]]
    end = len(json.loads(rows(out, "SELECT paragraphs FROM article_versions WHERE article_id = ? AND version = 1",
                              ids["edited"])[0]["paragraphs"]))   # extraction may keep the "Updated" line
    assert diff[1] == {"op": "insert", "old_index": end, "new_index": end, "old": [], "new": [edited[3]]}

    versions = rows(out, "SELECT version, paragraphs FROM article_versions WHERE article_id = ? ORDER BY version",
                    ids["edited"])
    assert [v["version"] for v in versions] == [1, 2] and edited[3] in json.loads(versions[1]["paragraphs"])
    item = json.loads(rows(out, "SELECT json FROM items WHERE id = ?", ids["edited"])[0]["json"])
    assert item["version"] == 2 and item["paragraphs"][-1] == edited[3]
    assert (out / item["raw_path"]).exists()
    assert {r["id"] for r in rows(out, "SELECT id FROM articles WHERE status = 'deleted'")} == {ids["deleted"],
                                                                                               ids["home"]}
    fetched = {p for _m, p, _s in server.log}
    assert "/world/russia/old.html" not in fetched and "/private/1.html" not in fetched
    assert ("GET", "/world/russia/same.html", 304) in server.log
    assert [e["type"] for e in jsonl.read(out / "alerts.jsonl")].count("article_deleted") == 2

    server.clear_log()
    again = sections.run_stage(context(cfg, new_run(out)))       # the next run: nothing new to say
    assert again["rechecks"].get("edited", 0) == 0 and len(rows(out, "SELECT id FROM events")) == 3
    assert ("GET", "/world/russia/edited.html", 304) in server.log   # the new version's validators were kept
    assert not any(p in ("/world/russia/deleted.html", "/world/russia/home.html") for _m, p, _s in server.log)


def test_a_redirect_to_the_same_article_is_an_edit_and_to_another_page_a_deletion(tmp_path, site_server):
    server = site_server
    cfg = write_config(tmp_path, server.url)
    cfg.write_text(cfg.read_text().replace("recheck_max = 0", "recheck_max = 50\nrecheck_interval_hours = 0"))
    out = tmp_path / "output"
    new_run(out)
    slug = stored(server, out, "/world/russia/minister-visits-beijing.html")
    gone = stored(server, out, "/world/russia/talks.html", title="Talks in Astana",
                  paragraphs=["Another story entirely, about talks held in Astana in July with officials."])
    server.routes["/world/russia/minister-visits-beijing.html"] = Route(
        status=301, location="/world/russia/minister-visits-beijing-and-shanghai.html")
    server.routes["/world/russia/minister-visits-beijing-and-shanghai.html"] = Route(
        article("Minister visits Beijing and Shanghai", PARAS))
    server.routes["/world/russia/talks.html"] = Route(status=302, location="/world/russia/minister-visits-beijing"
                                                                          "-and-shanghai.html")
    sections.run_stage(context(cfg, new_run(out)))
    got = {e["article_id"]: e for e in rows(out, "SELECT * FROM events")}
    assert got[slug]["type"] == "article_edited"
    assert got[slug]["cause"].startswith("title changed; moved to http://127.0.0.1")
    assert got[gone]["type"] == "article_deleted" and got[gone]["cause"].startswith("redirected away to")
