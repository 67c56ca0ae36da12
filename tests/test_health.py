"""Extraction health: the comparison with a section's own history (crawler/lifecycle/health.py), its hysteresis,
and the rows over a real state DB (crawler/lifecycle/healthdb.py)."""

import sqlite3
import statistics
from contextlib import closing

import pytest

from crawler import state
from crawler.config import load_config
from crawler.exceptions import ConfigError
from crawler.lifecycle import health, healthdb
from crawler.lifecycle.health import DEGRADED, RECOVERED, HealthSettings, HealthState, judge, measure, step
from crawler.lifecycle.stage import health_settings_of, run_stage
from crawler.store import migrate
from tests.alerting import context, db_before_migrations, new_run, rows, snapshot, store_article, write_config

CFG = HealthSettings()
KEY = "site/politics"


def run_of(n, lengths, dated=None, failed=0, failure=None, pages=None):
    """Run ``n`` of the section: items of these text lengths, the first ``dated`` of them with a date."""
    dated = len(lengths) if dated is None else dated
    items = [(length, i < dated) for i, length in enumerate(lengths)]
    return measure(
        KEY, n, f"2026-11-{n:02d}T02:00:00+00:00", items, pages or len(lengths) + failed, failed, failure, CFG
    )


USUAL = [run_of(1, [2400, 2300, 1900]), run_of(2, [2500, 2100, 2340])]


def test_measure_counts_short_texts_dates_and_failed_pages():
    run = run_of(3, [50, 120, 3000, 2600], dated=1, failed=2, failure="x: extraction failed: …")
    assert (run.items, run.median_chars, run.dated, run.short, run.pages, run.failed) == (4, 1360, 1, 2, 6, 2)


def test_no_history_no_judgement():
    verdict = judge(run_of(1, [40, 40, 40], dated=0), [], CFG)
    assert verdict.state is None and "no history" in verdict.cause


def test_short_texts_without_dates_are_degraded_with_the_cause_in_words():
    run = run_of(3, [61, 58, 70], dated=0)
    verdict = judge(run, USUAL[::-1], CFG)
    usual_median = round(statistics.median([r.median_chars for r in USUAL]))
    assert verdict.state == "degraded"
    assert verdict.cause == (
        f"median text 61 characters (usual {usual_median:,}); dates on 0 of 3 items (usual 6 of 6 over the last 2 runs)"
    )


def test_thresholds_text_ratio_and_dates():
    usual = USUAL[:1]  # median 2,300, every item dated
    limit = round(CFG.health_text_ratio * 2300)  # below it is degraded
    assert judge(run_of(3, [limit - 1] * 3), usual, CFG).state == "degraded"
    assert judge(run_of(3, [limit] * 3), usual, CFG).state == "ok"
    assert judge(run_of(3, [2000] * 5, dated=1), usual, CFG).state == "degraded"  # 1 of 5 = 0.2
    assert judge(run_of(3, [2000] * 5, dated=2), usual, CFG).state == "ok"  # 0.4: untidy, not lost
    undated_site = [run_of(1, [2000] * 4, dated=3)]  # usual 0.75 < 0.8
    assert judge(run_of(3, [2000] * 4, dated=0), undated_site, CFG).state == "ok"


def test_most_pages_failing_is_degraded_even_without_items():
    walls = run_of(3, [], failed=3, failure="http://x/1: extraction failed: bot wall or JavaScript-only page (…)")
    verdict = judge(walls, USUAL, CFG)
    assert verdict.state == "degraded" and verdict.cause.startswith("3 of 3 fetched pages yielded no article; first: ")
    assert judge(run_of(3, [2000, 2000], failed=2), USUAL, CFG).state is None  # 2 of 4: not most, too few items
    assert judge(run_of(3, [2000] * 3, failed=3), USUAL, CFG).state == "ok"  # 3 of 6: not more than half


def test_too_few_pages_are_not_judged():
    verdict = judge(run_of(3, [40, 40]), USUAL, CFG)
    assert verdict.state is None and "fewer than health_min_items = 3" in verdict.cause


def fold(verdicts, st=None):
    """Fold verdicts ("bad", "good", None = not judged) of runs 3, 4, … into the state; events per run."""
    st = st or HealthState(KEY)
    out = []
    for n, kind in enumerate(verdicts, start=3):
        run = {"bad": run_of(n, [40] * 3, dated=0), "good": run_of(n, [2300] * 3), None: run_of(n, [40])}[kind]
        st, evs = step(st, run, judge(run, USUAL, CFG), CFG)
        out.append([e.type for e in evs])
    return st, out


def test_hysteresis_one_bad_run_is_silence_two_are_one_event_then_back_in_one():
    assert fold(["bad", "good", "bad", "good"])[1] == [[], [], [], []]
    st, got = fold(["bad", "bad", "bad", "good"])
    assert got == [[], [DEGRADED], [], [RECOVERED]] and st.state == "ok"
    assert fold(["bad", None, "bad"])[1] == [[], [], [DEGRADED]]  # a run not judged breaks nothing
    assert fold(["bad"] * 3, HealthState(KEY))[0].state == "degraded"
    three = HealthSettings(hysteresis_runs=3)
    st = HealthState(KEY)
    for n in (3, 4):
        run = run_of(n, [40] * 3, dated=0)
        st, evs = step(st, run, judge(run, USUAL, three), three)
        assert not evs
    assert st.pending_count == 2 and st.state == "ok"


def test_events_say_since_when_and_what_was_wrong():
    st, _ = fold(["bad"])
    run = run_of(4, [40] * 3, dated=0)
    st, evs = step(st, run, judge(run, USUAL, CFG), CFG)
    assert evs[0].cause.endswith("(2 consecutive runs, since 2026-11-03T02:00:00+00:00)")
    assert evs[0].details["measured"]["median_chars"] == 40 and evs[0].details["measured"]["dated"] == 0
    run = run_of(5, [2300] * 3)
    st, evs = step(st, run, judge(run, USUAL, CFG), CFG)
    assert (
        evs[0].type == RECOVERED
        and "extraction degraded since 2026-11-03T02:00:00+00:00: median text 40" in evs[0].cause
    )


# ---------------------------------------------------------------- over a real state DB
BASE = "http://news.test"


def night(cfg, out, n, lengths, dated=True, crawl=None):
    """One run: a snapshot of site/politics and items of these text lengths, then the lifecycle stage."""
    run_id = new_run(out)
    at = f"2026-11-{n:02d}T02:00:00+00:00"
    urls = [f"{BASE}/politics/{n}-{i}.html" for i in range(len(lengths))]
    snapshot(out, run_id, KEY, f"{BASE}/politics/", at=at, urls=urls)
    for url, length in zip(urls, lengths):
        store_article(
            out, run_id, KEY, url, "Title", ["x" * length], at=at, published_at="2026-11-01" if dated else None
        )
    ctx = context(cfg, run_id)
    ctx.crawl = crawl or {KEY: {"fetched": len(lengths), "unextracted": 0}}
    return run_stage(ctx)["extraction"]


def test_stage_keeps_rows_and_states_and_a_degraded_run_is_no_yardstick(tmp_path):
    cfg = write_config(tmp_path, BASE)
    out = tmp_path / "output"
    assert night(cfg, out, 1, [2000] * 3)["events"] == []
    assert night(cfg, out, 2, [40] * 3, dated=False)["events"] == []
    assert night(cfg, out, 3, [40] * 3, dated=False)["events"] == [DEGRADED]
    assert night(cfg, out, 4, [40] * 3, dated=False)["events"] == []  # still degraded: judged against run 1
    assert degraded(out).keys() == {KEY}
    assert night(cfg, out, 5, [1900] * 3)["events"] == [RECOVERED]
    got = rows(
        out, "SELECT run_id, items, median_chars, dated, short, verdict, state FROM section_health ORDER BY run_id"
    )
    assert [(r["verdict"], r["state"]) for r in got] == [
        (None, "ok"),
        ("degraded", "ok"),
        ("degraded", "degraded"),
        ("degraded", "degraded"),
        ("ok", "ok"),
    ]
    assert got[2]["median_chars"] == 40 and got[2]["short"] == 3 and got[0]["dated"] == 3
    cause = rows(out, "SELECT cause FROM events WHERE type = ?", DEGRADED)[0]["cause"]
    assert cause.startswith("median text 40 characters (usual 2,000); dates on 0 of 3 items (usual 3 of 3)")
    assert degraded(out) == {}


def test_a_stage_rerun_judges_nothing_twice(tmp_path):
    cfg = write_config(tmp_path, BASE)
    out = tmp_path / "output"
    night(cfg, out, 1, [2000] * 3)
    night(cfg, out, 2, [40] * 3, dated=False)
    night(cfg, out, 3, [40] * 3, dated=False)
    run_stage(context(cfg, 3))
    assert len(rows(out, "SELECT * FROM events WHERE type = ?", DEGRADED)) == 1
    assert rows(out, "SELECT pending_count, state FROM extraction_states") == [
        {"pending_count": 0, "state": "degraded"}
    ]


def test_walls_on_every_page_degrade_through_the_crawl_report(tmp_path):
    cfg = write_config(tmp_path, BASE)
    out = tmp_path / "output"
    night(cfg, out, 1, [2000] * 3)
    walled = {
        KEY: {
            "fetched": 0,
            "unextracted": 4,
            "unextracted_error": "extraction failed: bot wall or "
            'JavaScript-only page (DDoS-Guard check: "ddos-guard") at http://news.test/politics/9.html',
        }
    }
    night(cfg, out, 2, [], crawl=walled)
    night(cfg, out, 3, [], crawl=walled)
    cause = rows(out, "SELECT cause FROM events WHERE type = ?", DEGRADED)[0]["cause"]
    assert cause.startswith(
        "4 of 4 fetched pages yielded no article; first: extraction failed: bot wall or "
        'JavaScript-only page (DDoS-Guard check: "ddos-guard") at http://news.test/politics/9.html'
    )


def degraded(out):
    with closing(state.connect(out)) as conn:
        return healthdb.degraded_sections(conn)


def test_config_keys_are_validated_with_their_location(tmp_path):
    cfg = write_config(tmp_path, BASE)
    cfg.write_text(cfg.read_text().replace("[lifecycle]\n", "[lifecycle]\nhealth_runs = 3\nhealth_text_ratio = 1.5\n"))
    with pytest.raises(ConfigError, match=r"newsmon\.toml:\d+: \[lifecycle\] health_text_ratio: must be ≤ 1"):
        health_settings_of(load_config(cfg))
    cfg.write_text(cfg.read_text().replace("health_text_ratio = 1.5", "health_min_items = 0"))
    with pytest.raises(ConfigError, match=r"\[lifecycle\] health_min_items: must be ≥ 1"):
        health_settings_of(load_config(cfg))
    cfg.write_text(cfg.read_text().replace("health_min_items = 0", "health_min_items = 1"))
    settings = health_settings_of(load_config(cfg))
    assert (settings.health_runs, settings.health_min_items, settings.hysteresis_runs) == (3, 1, 2)
    assert health.HealthSettings().health_runs != 3  # the file, not the default, gave 3


def tables(conn) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_a_db_from_before_the_feature_gets_its_tables_on_connect(tmp_path):
    """A DB of a newsmon from before numbered migrations and before extraction health (user_version 0, no
    health tables) is upgraded by the migrations when opened, after a backup of it as it was."""
    db_before_migrations(tmp_path, without=("section_health", "extraction_states"))
    with closing(state.connect(tmp_path)) as conn:
        assert {"section_health", "extraction_states"} <= tables(conn)
        assert migrate.version_of(conn) == migrate.latest()
        assert healthdb.degraded_sections(conn) == {} and healthdb.degraded_in_runs(conn, {1}) == {}
    with closing(sqlite3.connect(tmp_path / "state.sqlite.v0.bak")) as backup:
        assert migrate.version_of(backup) == 0 and not {"section_health", "extraction_states"} & tables(backup)
