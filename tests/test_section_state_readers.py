"""The digest and `newsmon status` read a section's state from one place (crawler.lifecycle.sectionstate):
a section gone and back says so in both, and a digest rebuilt for an earlier day says what held that day."""

from __future__ import annotations

import json
from contextlib import closing

import pytest
from lxml import html as lxml_html

from crawler import state
from crawler.config import load_config
from crawler.digest import stage as digest
from crawler.lifecycle import events
from crawler.lifecycle.machine import Settings
from crawler.lifecycle.sectionstate import section_states
from crawler.lifecycle.stage import update_sections
from crawler.ops.status import collect, render
from crawler.store import items as item_store
from tests import digestkit
from tests.alerting import write_config
from tests.schedsite import LISTING, make_config, serve_site

pytestmark = pytest.mark.usefixtures("state_backend")  # every test on SQLite and on PostgreSQL

KEY = "kremlin/news"


def section_line(text: str, key: str) -> str:
    lines = [line for line in text.splitlines() if f" | {key} | " in line and not line.startswith("ALERT")]
    assert len(lines) == 1, lines
    return lines[0]


def html_state(page: str, key: str) -> str:
    rows = lxml_html.fromstring(page).xpath(f'//table[@class="sections"]//tr[td[2]="{key}"]')
    assert len(rows) == 1
    return rows[0].xpath('string(td[@class="state"])')


def test_a_section_gone_and_back_is_back_in_the_digest_and_in_status(tmp_path, site_server, newsmon):
    serve_site(site_server)
    cfg = make_config(tmp_path, site_server, extra="\n[lifecycle]\nhysteresis_runs = 1\n")
    args = ("--config", str(cfg), "--output", str(tmp_path / "out"))
    newsmon("run", *args, check=True)
    listing = site_server.routes.pop(LISTING)  # 404: gone (one run is enough here)
    assert newsmon("run", *args).returncode == 1
    site_server.routes[LISTING] = listing
    newsmon("run", *args, check=True)

    out = tmp_path / "out"
    day = next(out.glob("*/digest.txt")).parent
    text = (day / "digest.txt").read_text(encoding="utf-8")
    kinds = [line.split(" | ")[1] for line in text.splitlines() if line.startswith("ALERT ")]
    assert "section_gone" in kinds and "section_reappeared" in kinds  # the day's events, as they came
    line = section_line(text, KEY)
    assert line.startswith("   OK ") and "back: " in line and "was gone since" in line, line  # its items: the day's
    assert "in trouble" not in text.splitlines()[0]
    assert html_state((day / "digest.html").read_text(encoding="utf-8"), KEY) == "OK"

    report = json.loads(newsmon("status", "--json", *args).stdout)
    section = next(s for s in report["sections"] if s["section"] == KEY)
    assert section["state"] == "active" and not any(KEY in a for a in report["attention"])

    # A rebuilt digest says the same as the one written after the run.
    newsmon("digest", "--date", day.name, *args, check=True)
    assert section_line((day / "digest.txt").read_text(encoding="utf-8"), KEY) == line


def test_a_digest_rebuilt_for_an_earlier_day_says_what_held_that_day(tmp_path):
    """Three days, one run each, folded by the real lifecycle: active, gone (HTTP 404), back."""
    cfg = write_config(tmp_path, "http://127.0.0.1:9")
    config, out, key = load_config(cfg), tmp_path / "output", "site/russia"
    url = "http://127.0.0.1:9/world/russia/"
    days = ["2026-11-01", "2026-11-02", "2026-11-03"]
    answers = [
        {"http_status": 200, "links_found": 10},
        {"http_status": 404, "links_found": 0},
        {"http_status": 200, "links_found": 10},
    ]
    for day, answer in zip(days, answers):
        run_id = digestkit.add_run(
            out, [{"section": key, "url": url, "page_bytes": 30_000, **answer}], started_at=f"{day}T12:00:00+00:00"
        )
        with closing(state.connect(out)) as conn:
            update_sections(conn, config, run_id, Settings(hysteresis_runs=1))
    for day in days:
        digest.build(out, day, config)

    def line(day: str) -> str:
        return section_line((out / day / "digest.txt").read_text(encoding="utf-8"), key)

    assert line(days[0]).startswith("   QUIET ")
    assert line(days[1]).startswith("!! GONE ") and "HTTP 404 (not found)" in line(days[1])
    assert line(days[2]).startswith("   QUIET ") and "back: " in line(days[2])
    with closing(state.connect(out)) as conn:
        then, now = section_states(conn, upto_run=2)[key], section_states(conn)[key]
    assert (then.state, then.since) == ("gone", f"{days[1]}T12:00:00+00:00")
    assert (now.state, now.since) == ("active", f"{days[2]}T12:00:00+00:00")
    assert section_states(conn := state.connect(out), upto_run=3) == section_states(conn)
    conn.close()
    section = next(s for s in collect(config)["sections"] if s["section"] == key)
    assert (section["state"], section["since"]) == ("active", now.since)


def test_without_lifecycle_rows_the_days_last_turn_counts(tmp_path):
    """A store whose sections the lifecycle never judged: the digest reads the day's events in time order,
    so a section gone and back that day is not GONE."""
    out = tmp_path / "output"
    started = digestkit.STARTED
    digestkit.add_run(out, [{"section": "mid/news", "url": "https://mid.ru/ru/foreign_policy/news/"}])
    later = started.replace("12:00", "13:00")
    with closing(state.connect(out)) as conn:
        events.record(
            conn,
            [
                events.Event("section_reappeared", "mid/news", later, 1, "10 article links found again"),
                events.Event("section_gone", "mid/news", started, 1, "HTTP 404 (not found)"),
                events.Event("section_gone", "tass/politics", started, 1, "HTTP 404 (not found)"),
            ],
        )
    digest.build(out, digestkit.DAY)
    text = (out / digestkit.DAY / "digest.txt").read_text(encoding="utf-8")
    assert section_line(text, "mid/news").startswith("   QUIET ")
    assert section_line(text, "tass/politics").startswith("!! GONE ")


def test_one_failed_run_is_no_verdict_in_the_digest_nor_in_status(tmp_path):
    """Hysteresis: an active section whose page fails once stays active in both, and both say what was seen."""
    cfg = write_config(tmp_path, "http://127.0.0.1:9")
    config, out, key = load_config(cfg), tmp_path / "output", "site/russia"
    url = "http://127.0.0.1:9/world/russia/"
    for n, answer in enumerate([{"http_status": 200, "links_found": 10}, {"http_status": 503, "links_found": 0}]):
        run_id = digestkit.add_run(
            out,
            [{"section": key, "url": url, "page_bytes": 30_000, **answer}],
            started_at=f"2026-11-01T1{n}:00:00+00:00",
        )
        with closing(state.connect(out)) as conn:
            update_sections(conn, config, run_id, Settings(hysteresis_runs=2))
    digest.build(out, "2026-11-01", config)
    line = section_line((out / "2026-11-01" / "digest.txt").read_text(encoding="utf-8"), key)
    assert line.startswith("   QUIET ") and "last run: HTTP 503" in line and "erroring if it persists" in line, line

    report = collect(config)
    section = next(s for s in report["sections"] if s["section"] == key)
    assert (section["state"], section["pending"]) == ("active", {"state": "erroring", "runs": 1})
    assert not any(key in a for a in report["attention"])
    assert "erroring on the last run, not confirmed yet" in render(report)


def test_status_counts_translations_from_the_item_store(tmp_path):
    out = tmp_path / "output"
    with closing(state.connect(out)) as conn:
        for n, status in enumerate(["pending", "pending", "failed", "done"]):
            item = digestkit.base_item(
                "mid", "news", f"https://mid.ru/news/{n}", "ru", f"Заголовок {n}", ["Текст."], None
            )
            item["translation"]["status"] = status
            with state.transaction(conn):
                item_store.insert(conn, item, digestkit.DAY)
    report = collect(load_config(output_dir=out))
    assert report["translations"] == {"pending": 2, "failed": 1}
    assert "translations: 2 pending, 1 failed" in render(report)
