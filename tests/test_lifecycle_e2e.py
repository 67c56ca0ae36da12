"""End to end: four real `newsmon run` cycles against a loopback site that changes between runs, with a real
SMTP server and a webhook receiver that is down for the first two runs."""

import pytest

from crawler import jsonl
from crawler.store import items as item_store
from tests.alerting import WebhookReceiver, article_page, listing_page, rows, write_config
from tests.sitesrv import Route

pytestmark = pytest.mark.usefixtures("state_backend")  # every test on SQLite and on PostgreSQL

PARAS = [
    "The foreign minister arrived in Beijing on Monday for two days of talks with his counterpart.",
    "Officials said the talks would cover energy supplies, the situation in the region and a summit.",
    "The visit is the third this year, following meetings in Moscow in March and in Astana in July.",
]


def serve_section(server, name, numbers, css_class="item"):
    links = [(f"/{name}/{n}.html", f"{name.title()} story {n}") for n in numbers]
    server.routes[f"/{name}/"] = Route(listing_page(links, css_class))
    for path, title in links:
        server.routes.setdefault(path, Route(article_page(title, PARAS)))


def test_four_nights_of_a_changing_site(tmp_path, site_server, smtp, newsmon):
    server, hook = site_server, WebhookReceiver()
    extra = (
        f"[alerts]\nretries = 1\nretry_delay = 0.05\n"
        f'[[alerts.channels]]\nname = "desk"\nurl = "{smtp.url()}"\n'
        f'[[alerts.channels]]\nname = "hook"\nurl = "json://127.0.0.1:{hook.port}/newsmon"\n'
    )
    cfg = write_config(tmp_path, server.url, extra=extra)
    text = cfg.read_text().replace("recheck_max = 0", "recheck_max = 50\nrecheck_interval_hours = 0")
    cfg.write_text(text.replace("/world/russia/", "/russia/"))
    out = tmp_path / "output"

    def night(expect_ok=True):
        proc = newsmon("run", "--config", str(cfg), timeout=90)
        assert "Traceback" not in proc.stderr, proc.stderr
        assert proc.returncode == (0 if expect_ok else 1), proc.stdout + proc.stderr
        assert "stage crawler.lifecycle.stage failed" not in proc.stdout, proc.stdout
        assert "stage crawler.alerts.stage failed" not in proc.stdout, proc.stdout
        return proc

    # Night 1: everything answers.
    serve_section(server, "russia", [1, 2])
    serve_section(server, "politics", [1, 2])
    serve_section(server, "world", [1, 2])
    night()
    # Night 2: russia 404, politics has one flaky 500, world's layout changes, politics/1 is edited.
    del server.routes["/russia/"]
    server.routes["/politics/"] = Route(b"<html><body>Internal error</body></html>", status=500)
    serve_section(server, "world", [1, 2], css_class="card")
    edited = PARAS[1] + " The summit is now planned for Kazan."  # more than min_edit_chars (10)
    server.routes["/politics/1.html"] = Route(article_page("Politics story 1", [PARAS[0], edited, PARAS[2]]))
    night(expect_ok=False)
    # Night 3: russia still 404, politics fine again, world still broken, politics/2 deleted (a suspicion:
    # confirmed by night 4's re-check, the article hysteresis); webhook up.
    serve_section(server, "politics", [1, 2])
    del server.routes["/politics/2.html"]
    hook.start()
    try:
        night(expect_ok=False)
        # Night 4: russia is back with two new items.
        serve_section(server, "russia", [1, 2, 3, 4])
        night()
    finally:
        hook.stop()

    got = rows(out, "SELECT run_id, type, section, cause FROM events ORDER BY seq")
    seen = rows(out, "SELECT run_id, section, http_status, error, not_modified, links_found FROM section_snapshots")
    assert [(e["run_id"], e["type"], e["section"]) for e in got] == [
        (1, "section_appeared", "site/politics"),
        (1, "section_appeared", "site/russia"),
        (1, "section_appeared", "site/world"),
        (2, "article_edited", "site/politics"),
        (3, "section_gone", "site/russia"),
        (3, "section_broken", "site/world"),
        (4, "section_reappeared", "site/russia"),
        (4, "section_changed", "site/russia"),
        (4, "article_deleted", "site/politics"),
    ], (got, seen)
    cause = {e["type"]: e["cause"] for e in got}
    assert "HTTP 404" in cause["section_gone"] and "2 consecutive runs" in cause["section_gone"]
    assert "css 'div.item a'" in cause["section_broken"]
    assert cause["article_edited"] == "1 paragraph changed"
    assert cause["article_deleted"].startswith("HTTP 404") and "2 consecutive re-checks" in cause["article_deleted"]
    assert cause["section_changed"] == "2 new items: Russia story 3; Russia story 4"
    assert [e["id"] for e in jsonl.read(out / "alerts.jsonl")] == [
        r["id"] for r in rows(out, "SELECT id FROM events ORDER BY seq")
    ]

    assert len(smtp.messages) == 4  # one message per run that had events
    assert "Russia story 3" in smtp.bodies()[3]
    assert len(hook.posts) == 2  # nights 1–2 came late, in night 3's message
    assert "9 events" not in hook.posts[0]["message"] and "6 events from runs 1, 2, 3" in hook.posts[0]["message"]
    assert rows(out, "SELECT DISTINCT status FROM event_deliveries") == [{"status": "delivered"}]
    states = {r["section"]: r["state"] for r in rows(out, "SELECT section, state FROM section_states")}
    assert states == {"site/politics": "active", "site/russia": "active", "site/world": "broken"}
    edited = rows(out, "SELECT json FROM items i JOIN articles a ON a.id = i.id WHERE a.url LIKE '%/politics/1.html'")
    assert item_store.loads(edited[0]["json"])["version"] == 2
