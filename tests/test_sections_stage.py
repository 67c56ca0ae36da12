"""The sections stage over a real state DB: snapshot rows in, section states and events (DB + alerts.jsonl) out."""

import pytest

from crawler import jsonl, state
from crawler.config import load_config
from crawler.exceptions import ConfigError
from crawler.lifecycle import stage as sections
from tests.alerting import context, new_run, rows, snapshot, store_article, write_config

BASE = "http://news.test"
RU, POL, WORLD = "site/russia", "site/politics", "site/world"
URLS = {RU: f"{BASE}/world/russia/", POL: f"{BASE}/politics/", WORLD: f"{BASE}/world/"}


def day(n):
    return f"2026-11-0{n}T02:00:00+00:00"


def art(key, n):
    return f"{BASE}/{key.split('/')[1]}/{n}.html"


def run(cfg, out, n, shots, new=()):
    run_id = new_run(out)
    for key, kw in shots.items():
        snapshot(out, run_id, key, URLS[key], at=day(n), **kw)
    for key, url, title in new:
        store_article(out, run_id, key, url, title, ["Body."], at=day(n))
    return sections.run_stage(context(cfg, run_id)), run_id


@pytest.fixture
def setup(tmp_path):
    cfg = write_config(tmp_path, BASE)
    return cfg, tmp_path / "output"


def test_gone_broken_flaky_and_back_each_event_exactly_once(setup):
    cfg, out = setup
    first = [art(RU, i) for i in (1, 2, 3)]
    pol = [art(POL, i) for i in (1, 2)]
    world = [art(WORLD, i) for i in (1, 2)]
    run(
        cfg,
        out,
        1,
        {RU: dict(urls=first), POL: dict(urls=pol), WORLD: dict(urls=world)},
        new=[(RU, u, f"R{i}") for i, u in enumerate(first)]
        + [(POL, u, "P") for u in pol]
        + [(WORLD, u, "W") for u in world],
    )
    run(
        cfg,
        out,
        2,
        {
            RU: dict(status=404, error="HTTP 404", page_bytes=300),
            POL: dict(status=500, error="HTTP 500"),
            WORLD: dict(urls=[], page_bytes=29_000),
        },
    )
    run(
        cfg,
        out,
        3,
        {
            RU: dict(status=404, error="HTTP 404", page_bytes=300),
            POL: dict(urls=pol[::-1]),
            WORLD: dict(urls=[], page_bytes=29_500),
        },
    )
    back = [art(RU, 4), art(RU, 5), first[0] + "?t=1700000000"]
    summary, run4 = run(
        cfg,
        out,
        4,
        {RU: dict(urls=back + first), POL: dict(urls=pol[::-1]), WORLD: dict(urls=[], page_bytes=29_500)},
        new=[(RU, back[0], "Kremlin news 4"), (RU, back[1], "Kremlin news 5"), (RU, back[2], "volatile copy of 1")],
    )

    got = rows(out, "SELECT type, section, run_id, cause FROM events ORDER BY seq")
    assert [(e["run_id"], e["type"], e["section"]) for e in got] == [
        (1, "section_appeared", POL),
        (1, "section_appeared", RU),
        (1, "section_appeared", WORLD),
        (3, "section_gone", RU),
        (3, "section_broken", WORLD),
        (4, "section_reappeared", RU),
        (4, "section_changed", RU),
    ]
    causes = {(e["type"], e["section"]): e["cause"] for e in got}
    assert "HTTP 404" in causes[("section_gone", RU)] and "2 consecutive runs" in causes[("section_gone", RU)]
    assert "css 'div.item a'" in causes[("section_broken", WORLD)]
    assert causes[("section_changed", RU)] == "2 new items: Kremlin news 4; Kremlin news 5"
    assert summary["sections"] == {POL: "active", RU: "active", WORLD: "broken"}

    lines = list(jsonl.read(out / "alerts.jsonl"))
    assert [line["id"] for line in lines] == [e["id"] for e in rows(out, "SELECT id FROM events ORDER BY seq")]
    assert set(lines[0]) == {"id", "type", "at", "run_id", "section", "source", "article_id", "cause", "details"}
    changed = lines[-1]
    assert changed["details"]["count"] == 2 and changed["source"] == "site"

    again = sections.run_stage(context(cfg, run4))  # a rerun of the stage adds nothing
    assert again["events"] == [] and len(list(jsonl.read(out / "alerts.jsonl"))) == len(lines)
    states = {r["section"]: r for r in rows(out, "SELECT * FROM section_states")}
    assert states[WORLD]["state"] == "broken" and states[RU]["last_run_id"] == run4


def test_alerts_jsonl_is_caught_up_after_a_crash(setup):
    cfg, out = setup
    run(cfg, out, 1, {RU: dict(urls=[art(RU, 1)])}, new=[(RU, art(RU, 1), "R")])
    (out / "alerts.jsonl").unlink()  # as if killed before the append
    conn = state.connect(out)
    conn.execute("UPDATE events SET written = 0")
    conn.close()
    run(cfg, out, 2, {RU: dict(urls=[art(RU, 1)])})
    assert [line["type"] for line in jsonl.read(out / "alerts.jsonl")] == ["section_appeared"]


def test_bad_lifecycle_setting_is_one_clear_error(tmp_path):
    cfg = write_config(tmp_path, BASE, extra="")
    text = cfg.read_text().replace("recheck_max = 0", "recheck_max = 0\nhysteresis_runs = 0")
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=r"\[lifecycle\] hysteresis_runs: must be ≥ 1"):
        sections.settings_of(load_config(cfg))
    cfg.write_text(text.replace("hysteresis_runs = 0", "hysteresis = 2"))
    with pytest.raises(ConfigError, match=r"\[lifecycle\] hysteresis: unknown key"):
        sections.settings_of(load_config(cfg))


def test_an_item_listed_before_but_stored_only_now_is_new(setup):
    cfg, out = setup
    listed = [art(RU, 1), art(RU, 2)]
    run(cfg, out, 1, {RU: dict(urls=listed)}, new=[(RU, listed[0], "One")])  # story 2 failed to fetch
    run(cfg, out, 2, {RU: dict(urls=listed)}, new=[(RU, listed[1], "Two")])
    got = rows(out, "SELECT type, cause FROM events WHERE run_id = 2")
    assert got == [{"type": "section_changed", "cause": "1 new item: Two"}]


def test_configured_cadence_reaches_the_state_machine(tmp_path):
    cfg = write_config(tmp_path, BASE)
    cfg.write_text(
        cfg.read_text().replace(
            'url = "http://news.test/politics/"', 'url = "http://news.test/politics/"\ncadence_hours = 12'
        )
    )
    out = tmp_path / "output"
    pol = [art(POL, 1)]
    run(cfg, out, 1, {POL: dict(urls=pol)}, new=[(POL, pol[0], "P")])
    run(cfg, out, 2, {POL: dict(urls=pol)})
    run(cfg, out, 3, {POL: dict(urls=pol)})
    got = rows(out, "SELECT run_id, type, cause FROM events WHERE type = 'section_stale'")
    assert [(e["run_id"], e["type"]) for e in got] == [(2, "section_stale")]
    assert "no new item for 24.0 hours" in got[0]["cause"] and "cadence_hours = 12" in got[0]["cause"]
