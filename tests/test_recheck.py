"""Article re-checks against the loopback site server: edits, deletions (with hysteresis), volatile text,
conditional GET, and hosts re-checked side by side."""

import json
import threading
import time
from datetime import UTC, datetime, timedelta

from crawler import jsonl, state
from crawler.extract.extraction import extract_article
from crawler.lifecycle import stage as sections
from crawler.store import items as item_store
from tests.alerting import article_page as article
from tests.alerting import context, db_before_migrations, free_port, new_run, rows, store_article
from tests.sitesrv import Route, SiteServer

PARAS = [
    "The foreign minister arrived in Beijing on Monday for two days of talks with his Chinese counterpart.",
    "Officials said the talks would cover energy supplies, the situation in the region and a summit.",
    "The visit is the third this year, following meetings in Moscow in March and in Astana in July.",
]
SECTION = "site/russia"
VOLATILE = r"Updated \d\d:\d\d, [\d,]+ views"


def write_config(tmp_path, base_url, lifecycle="", delay=0, ignore=r"\?t=\d+"):
    """One listing section; re-checks on, due on every run (``lifecycle`` adds keys)."""
    path = tmp_path / "newsmon.toml"
    tmp_path.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"""replace_default_sources = true
[crawler]
output_dir = "{tmp_path / "output"}"
download_delay = {delay}
timeout = 30
retries = 0
[lifecycle]
recheck_max = 50
recheck_interval_hours = 0
{lifecycle}
[[sources]]
id = "site"
name = "Test site"
homepage = "{base_url}/"
[[sources.sections]]
id = "russia"
kind = "listing"
url = "{base_url}/world/russia/"
link_css = "div.item a"
ignore_patterns = ['{ignore}']
""",
        encoding="utf-8",
    )
    return path


def ago(**kw):
    return (datetime.now(UTC) - timedelta(**kw)).replace(microsecond=0).isoformat()


def stored(server, out, path, title="Minister visits Beijing", paragraphs=PARAS, first_seen=None, route=None):
    route = route or Route(article(title, paragraphs))
    server.routes[path] = route
    url = server.url + path
    got = extract_article(route.body.decode(), url, None)
    return store_article(
        out,
        1,
        SECTION,
        url,
        got.title,
        got.paragraphs,
        at=first_seen or ago(days=1),
        etag=route.etag,
        last_modified=route.last_modified,
    )


def test_edits_deletions_and_noise(tmp_path, site_server):
    server = site_server
    server.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    cfg = write_config(tmp_path, server.url, ignore=VOLATILE)
    out = tmp_path / "output"
    new_run(out)
    ids = {
        name: stored(server, out, f"/world/russia/{name}.html")
        for name in ("edited", "deleted", "volatile", "same", "home", "flaky")
    }
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
    # One night of 404 / redirect to the homepage is only a suspicion (hysteresis_runs = 2 by default).
    assert summary["rechecks"] == {"edited": 1, "gone": 2, "unchanged": 1, "not_modified": 1, "error": 2}
    got = {e["article_id"]: e for e in rows(out, "SELECT * FROM events ORDER BY seq")}
    assert set(got) == {ids["edited"]}
    assert got[ids["edited"]]["type"] == "article_edited"
    assert got[ids["edited"]]["cause"] == "1 paragraph changed, 1 added"
    diff = json.loads(got[ids["edited"]]["details"])["paragraphs"]
    assert diff[0]["op"] == "replace" and diff[0]["new"] == [edited[1]]
    end = len(
        json.loads(
            rows(out, "SELECT paragraphs FROM article_versions WHERE article_id = ? AND version = 1", ids["edited"])[0][
                "paragraphs"
            ]
        )
    )  # extraction may keep the "Updated" line
    assert diff[1] == {"op": "insert", "old_index": end, "new_index": end, "old": [], "new": [edited[3]]}

    versions = rows(
        out, "SELECT version, paragraphs FROM article_versions WHERE article_id = ? ORDER BY version", ids["edited"]
    )
    assert [v["version"] for v in versions] == [1, 2] and edited[3] in json.loads(versions[1]["paragraphs"])
    item = item_store.loads(rows(out, "SELECT json FROM items WHERE id = ?", ids["edited"])[0]["json"])
    assert item["version"] == 2 and item["paragraphs"][-1] == edited[3]
    assert (out / item["raw_path"]).exists()
    assert rows(out, "SELECT id FROM articles WHERE status = 'deleted'") == []
    suspected = {r["article_id"]: r for r in rows(out, "SELECT * FROM pending_deletions")}
    assert set(suspected) == {ids["deleted"], ids["home"]} and suspected[ids["deleted"]]["checks"] == 1
    assert suspected[ids["deleted"]]["http_status"] == 404
    fetched = {p for _m, p, _s in server.log}
    assert "/world/russia/old.html" not in fetched and "/private/1.html" not in fetched
    assert ("GET", "/world/russia/same.html", 304) in server.log

    server.clear_log()
    second = sections.run_stage(context(cfg, new_run(out)))  # still gone: confirmed on the second re-check
    assert second["rechecks"]["deleted"] == 2 and "gone" not in second["rechecks"]
    got = {e["article_id"]: e for e in rows(out, "SELECT * FROM events WHERE type = 'article_deleted'")}
    assert set(got) == {ids["deleted"], ids["home"]}
    since = suspected[ids["deleted"]]["since"]
    assert (
        got[ids["deleted"]]["cause"] == f"HTTP 404: the article page is gone (2 consecutive re-checks, since {since})"
    )
    assert got[ids["home"]]["cause"].startswith("redirected to the homepage")
    assert json.loads(got[ids["deleted"]]["details"])["checks"] == 2
    assert {r["id"] for r in rows(out, "SELECT id FROM articles WHERE status = 'deleted'")} == {
        ids["deleted"],
        ids["home"],
    }
    assert rows(out, "SELECT * FROM pending_deletions") == []
    assert ("GET", "/world/russia/edited.html", 304) in server.log  # the new version's validators were kept
    assert [e["type"] for e in jsonl.read(out / "alerts.jsonl")].count("article_deleted") == 2

    server.clear_log()
    again = sections.run_stage(context(cfg, new_run(out)))  # the next run: nothing new to say
    assert again["rechecks"].get("edited", 0) == 0 and len(rows(out, "SELECT id FROM events")) == 3
    assert not any(p in ("/world/russia/deleted.html", "/world/russia/home.html") for _m, p, _s in server.log)


def test_a_redirect_to_the_same_article_is_an_edit_and_to_another_page_a_deletion(tmp_path, site_server):
    server = site_server
    cfg = write_config(tmp_path, server.url, lifecycle="recheck_gone_checks = 1")
    out = tmp_path / "output"
    new_run(out)
    slug = stored(server, out, "/world/russia/minister-visits-beijing.html")
    gone = stored(
        server,
        out,
        "/world/russia/talks.html",
        title="Talks in Astana",
        paragraphs=["Another story entirely, about talks held in Astana in July with officials."],
    )
    server.routes["/world/russia/minister-visits-beijing.html"] = Route(
        status=301, location="/world/russia/minister-visits-beijing-and-shanghai.html"
    )
    server.routes["/world/russia/minister-visits-beijing-and-shanghai.html"] = Route(
        article("Minister visits Beijing and Shanghai", PARAS)
    )
    server.routes["/world/russia/talks.html"] = Route(
        status=302, location="/world/russia/minister-visits-beijing-and-shanghai.html"
    )
    sections.run_stage(context(cfg, new_run(out)))
    got = {e["article_id"]: e for e in rows(out, "SELECT * FROM events")}
    assert got[slug]["type"] == "article_edited"
    assert got[slug]["cause"].startswith("title changed; moved to http://127.0.0.1")
    # recheck_gone_checks = 1: the first re-check that finds it gone is enough.
    checked = rows(out, "SELECT checked_at FROM article_checks WHERE article_id = ?", gone)[0]["checked_at"]
    assert got[gone]["type"] == "article_deleted" and got[gone]["cause"].startswith("redirected away to")
    assert got[gone]["cause"].endswith(f"(re-checked {checked})")


def stage_run(cfg, out):
    return sections.run_stage(context(cfg, new_run(out)))["rechecks"]


def deleted_events(out):
    return rows(out, "SELECT article_id, run_id, cause FROM events WHERE type = 'article_deleted'")


def test_one_404_night_then_normal_never_alerts_and_an_error_neither_counts_nor_clears(tmp_path, site_server):
    server = site_server
    cfg = write_config(tmp_path, server.url)
    out = tmp_path / "output"
    new_run(out)
    ident = stored(server, out, "/world/russia/hiccup.html")
    page = server.routes["/world/russia/hiccup.html"]

    del server.routes["/world/russia/hiccup.html"]
    assert stage_run(cfg, out) == {"gone": 1}  # a CMS hiccup: suspicion only
    server.routes["/world/russia/hiccup.html"] = page
    assert stage_run(cfg, out) == {"not_modified": 1}  # back: the suspicion is cleared
    assert rows(out, "SELECT * FROM pending_deletions") == [] and deleted_events(out) == []

    del server.routes["/world/russia/hiccup.html"]
    assert stage_run(cfg, out) == {"gone": 1}  # counting starts over
    since = rows(out, "SELECT since FROM pending_deletions")[0]["since"]
    server.routes["/world/russia/hiccup.html"] = Route(b"busy", status=503)
    assert stage_run(cfg, out) == {"error": 1}  # says nothing either way
    del server.routes["/world/russia/hiccup.html"]
    last = new_run(out)
    assert sections.run_stage(context(cfg, last))["rechecks"] == {"deleted": 1}
    assert deleted_events(out) == [
        {
            "article_id": ident,
            "run_id": last,
            "cause": f"HTTP 404: the article page is gone (2 consecutive re-checks, since {since})",
        }
    ]
    assert stage_run(cfg, out) == {}  # confirmed: never re-checked again
    assert len(deleted_events(out)) == 1


def test_a_suspected_article_stays_due_past_recheck_days_until_confirmed_or_cleared(tmp_path, site_server):
    server = site_server
    cfg = write_config(tmp_path, server.url, lifecycle="recheck_days = 3\nrecheck_gone_checks = 3")
    out = tmp_path / "output"
    db_before_migrations(out, without=("pending_deletions",))  # from before the deletion hysteresis …
    new_run(out)  # … upgraded on connect
    gone = stored(server, out, "/world/russia/gone.html", first_seen=ago(days=2))
    back = stored(server, out, "/world/russia/back.html", first_seen=ago(days=2))
    stored(server, out, "/world/russia/fine.html", first_seen=ago(days=2))
    back_page = server.routes["/world/russia/back.html"]
    del server.routes["/world/russia/gone.html"], server.routes["/world/russia/back.html"]
    assert stage_run(cfg, out) == {"gone": 2, "not_modified": 1}

    cfg.write_text(cfg.read_text().replace("recheck_days = 3", "recheck_days = 1"))  # all three aged out now
    server.clear_log()
    assert stage_run(cfg, out) == {"gone": 2}  # only the suspected ones are still due
    assert {p for _m, p, _s in server.log} == {"/robots.txt", "/world/russia/gone.html", "/world/russia/back.html"}

    server.routes["/world/russia/back.html"] = back_page
    assert stage_run(cfg, out) == {"deleted": 1, "not_modified": 1}
    assert [e["article_id"] for e in deleted_events(out)] == [gone]
    assert "3 consecutive re-checks" in deleted_events(out)[0]["cause"]
    assert rows(out, "SELECT outcome FROM article_checks WHERE article_id = ?", back) == [{"outcome": "not_modified"}]

    server.clear_log()
    assert stage_run(cfg, out) == {}  # confirmed and cleared: neither is due any more
    assert server.log == []


class InFlight:
    """Requests being answered right now across several servers, and the most seen at once."""

    def __init__(self):
        self._lock = threading.Lock()
        self.now = self.peak = 0

    def change(self, by: int) -> None:
        with self._lock:
            self.now += by
            self.peak = max(self.peak, self.now)


class TimedServer(SiteServer):
    """The site server, also noting when each request arrived and counting it in a shared ``InFlight``."""

    def __init__(self, shared: InFlight):
        super().__init__()
        self.shared, self.arrivals = shared, []

    def _enter(self, user_agent):
        super()._enter(user_agent)
        with self._lock:
            self.arrivals.append(time.monotonic())
        self.shared.change(+1)

    def _leave(self):
        self.shared.change(-1)
        super()._leave()


def two_hosts_and_a_dead_one(tmp_path, servers, dead, delay):
    """Articles on two loopback hosts (different ports) and one refusing connections; one corrupt item."""
    cfg = write_config(tmp_path, servers[0].url, delay=delay)
    out = tmp_path / "output"
    new_run(out)
    first, second = servers
    plan = [
        (first, "same"),
        (second, "same"),
        (first, "edited"),
        (second, "gone"),
        (first, "gone"),
        (second, "flaky"),
        (first, "corrupt"),
        (second, "edited"),
        (None, "dead"),
    ]
    for n, (server, name) in enumerate(plan):
        path = f"/world/russia/{name}.html"
        if server is None:
            store_article(out, 1, SECTION, dead + path, "Gone host", PARAS, at=ago(days=1, minutes=60 - n))
        else:
            stored(server, out, path, first_seen=ago(days=1, minutes=60 - n))
    for server in servers:
        server.routes["/world/russia/edited.html"] = Route(article("Minister visits Beijing", PARAS[:2]))
        del server.routes["/world/russia/gone.html"]
    second.routes["/world/russia/flaky.html"] = Route(b"busy", status=503)
    conn = state.connect(out)
    conn.execute(
        f"UPDATE items SET json = '{{not json' WHERE {item_store.sql_json()} LIKE ?",
        (f"%{first.port}/world/russia/corrupt%",),
    )
    conn.close()
    return cfg, out


def outcomes(out):
    """Everything a re-check run leaves in the state DB, keyed by URL (comparable across output dirs)."""

    def of(table, columns):
        sql = f"SELECT a.url, {columns} FROM {table} t JOIN articles a ON a.id = t.article_id"
        return {tuple(r.values()) for r in rows(out, sql)}

    return {
        "checks": of("article_checks", "t.outcome, t.http_status"),
        "events": of("events", "t.type, t.cause"),
        "pending": of("pending_deletions", "t.checks"),
        "status": {(r["url"], r["status"]) for r in rows(out, "SELECT url, status FROM articles")},
    }


def test_a_suspicion_older_than_recheck_days_no_longer_makes_its_article_due(tmp_path, site_server):
    """A host that errors night after night neither confirms nor clears: its suspects must not stay due for ever."""
    server = site_server
    cfg = write_config(tmp_path, server.url, lifecycle="recheck_days = 1\nrecheck_gone_checks = 3")
    out = tmp_path / "output"
    new_run(out)
    gone = stored(server, out, "/world/russia/gone.html", first_seen=ago(hours=12))
    del server.routes["/world/russia/gone.html"]
    assert stage_run(cfg, out) == {"gone": 1}
    conn = state.connect(out)  # two days on: the article and its suspicion have aged out
    try:
        conn.execute("UPDATE articles SET first_seen = ? WHERE id = ?", (ago(days=3), gone))
        conn.execute("UPDATE pending_deletions SET since = ? WHERE article_id = ?", (ago(days=2), gone))
        conn.execute("UPDATE article_checks SET checked_at = ? WHERE article_id = ?", (ago(days=2), gone))
    finally:
        conn.close()
    server.clear_log()
    assert stage_run(cfg, out) == {}
    assert server.log == []
    assert rows(out, "SELECT checks FROM pending_deletions WHERE article_id = ?", gone) == [{"checks": 1}]
    assert deleted_events(out) == []


def test_hosts_side_by_side_give_the_sequential_outcomes_and_each_host_stays_polite(tmp_path, caplog):
    # Each page takes the server 0.1 s to answer; without the delay a host's requests would arrive ~0.1 s apart.
    delay, answer_time, jitter = 0.3, 0.1, 0.1
    shared = InFlight()
    servers = [TimedServer(shared).start(), TimedServer(shared).start()]
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there: connection refused
    try:
        results, peaks = {}, {}
        for workers in (1, 4):
            cfg, out = two_hosts_and_a_dead_one(tmp_path / f"w{workers}", servers, dead, delay)
            cfg.write_text(cfg.read_text().replace("[lifecycle]", f"[lifecycle]\nrecheck_workers = {workers}"))
            for server in servers:
                for route in server.routes.values():
                    route.delay = answer_time
                server.clear_log()
                server.arrivals.clear()
                server.max_in_flight = 0
            shared.peak = 0
            results[workers] = (stage_run(cfg, out), outcomes(out))
            peaks[workers] = shared.peak
    finally:
        for server in servers:
            server.stop()

    counts, seen = results[4]
    assert counts == {"not_modified": 2, "edited": 2, "gone": 2, "error": 3}
    assert results[1] == results[4]
    assert len(seen["events"]) == 2 and len(seen["pending"]) == 2
    assert (
        f"re-check of {servers[0].url}/world/russia/corrupt.html skipped: its stored item is not valid JSON"
        in caplog.text
    )
    assert peaks == {1: 1, 4: 2}  # sequential: one request at a time overall; parallel: one per host
    # Politeness per host in the parallel run: robots.txt first, then the host's articles in due order,
    # one at a time, never arriving closer together than the delay (less the jitter of a request's own trip
    # on a loaded machine).
    first, second = servers
    assert [p for _m, p, _s in first.log] == ["/robots.txt"] + [
        f"/world/russia/{n}.html" for n in ("same", "edited", "gone", "corrupt")
    ]
    assert [p for _m, p, _s in second.log] == ["/robots.txt"] + [
        f"/world/russia/{n}.html" for n in ("same", "gone", "flaky", "edited")
    ]
    for server in servers:
        assert server.max_in_flight == 1
        stamps = server.arrivals
        assert len(stamps) == 5 and min(b - a for a, b in zip(stamps, stamps[1:])) >= delay - jitter
