"""Analysis on a seeded week (tests/analysiskit.py): item flags through the real stage on a real SQLite
DB, then `newsmon trend`, `newsmon brief`, `newsmon digest` and `newsmon search --flag` as real subprocesses."""

from __future__ import annotations

import json
import re
from contextlib import closing
from datetime import date

import pytest
from lxml import etree

from crawler import state
from crawler.analysis.flags import subjects_of
from crawler.analysis.settings import AnalysisSettings
from crawler.analysis.stage import update_flags
from crawler.config import load_config
from crawler.store import items as item_store
from tests.analysiskit import ANSWER, QUESTION, SINCE, UNTIL, seed, write_config

pytestmark = pytest.mark.usefixtures("state_backend")  # every test on SQLite and on PostgreSQL


def flags_now(output) -> dict[str, list[str]]:
    with closing(state.connect(output)) as conn:
        return {
            r["id"]: item_store.loads(r["json"]).get("flags", []) for r in conn.execute("SELECT id, json FROM items")
        }


def held_events(output) -> list[dict]:
    with closing(state.connect(output)) as conn:
        return [dict(r) for r in conn.execute("SELECT * FROM events WHERE type = 'article_held' ORDER BY seq")]


def flag(cfg, settings: AnalysisSettings | None = None) -> dict:
    config = load_config(cfg)
    settings = settings or AnalysisSettings()
    with closing(state.connect(config.output_dir)) as conn:
        return update_flags(conn, subjects_of(config), settings, run_id=9)


def test_the_stage_flags_held_and_off_subject_items_and_announces_a_held_one_once(tmp_path):
    cfg, out = write_config(tmp_path), tmp_path / "output"
    items = seed(out)
    summary = flag(cfg)
    got = flags_now(out)
    assert got[items["xinhua"]["id"]] == ["dateline_lag"]  # 3 days ≥ dateline_lag_days = 2
    assert got[items["kazakh"]["id"]] == ["off_subject"]  # in people/russia, no Russia
    assert [got[items[name]["id"]] for name in ("tass", "russian", "plenary", "earlier")] == [[], [], [], []]
    assert summary == {"items": 4, "flagged": 2, "held_events": 1}  # catch-up: subject sections + datelines
    events = held_events(out)
    assert [(e["article_id"], e["section"]) for e in events] == [(items["xinhua"]["id"], "xinhua/world")]
    assert events[0]["cause"] == (
        "published 3 days after its dateline 新华社符拉迪沃斯托克9月8日电 (2026-09-08 → 2026-09-11)"
    )
    assert "flags" not in item_store.get(state.connect(out), items["russian"]["id"])  # absent when none

    # Nothing changed: nothing read. A translation that names Russia takes the item back on subject;
    # an edit re-reads the held one, whose event is not recorded twice.
    assert flag(cfg)["items"] == 0
    with closing(state.connect(out)) as conn:
        item_store.update(conn, items["kazakh"]["id"], {"title_en": "An exhibition in Kazakhstan and Russia"})
        item_store.update(conn, items["xinhua"]["id"], {"title": "测试稿件：两国合作（更新）"})
    assert flag(cfg) == {"items": 2, "flagged": 1, "held_events": 0}
    assert flags_now(out)[items["kazakh"]["id"]] == []
    assert len(held_events(out)) == 1


def test_the_lag_threshold_is_the_setting(tmp_path):
    cfg, out = write_config(tmp_path), tmp_path / "output"
    items = seed(out)
    flag(cfg, AnalysisSettings(dateline_lag_days=1))
    got = flags_now(out)
    assert got[items["tass"]["id"]] == ["dateline_lag"] and got[items["xinhua"]["id"]] == ["dateline_lag"]


def test_a_bad_lag_setting_is_one_line_with_its_place(tmp_path, newsmon):
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text() + "\n[analysis]\ndateline_lag_days = -1\n", encoding="utf-8")
    proc = newsmon("sources", "check", "--config", str(cfg))
    line = len(cfg.read_text().splitlines())
    assert proc.returncode == 2 and f"{cfg}:{line}: [analysis] dateline_lag_days: must be ≥ 0, got -1" in proc.stderr, (
        proc.stderr
    )


# ---------------------------------------------------------------- newsmon trend
def table_of(stdout: str) -> dict[tuple[str, str], int]:
    """(source, period) → count from the printed table (the total column left out)."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("period "))
    head = lines[start].split()
    out = {}
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        cells = line.split()
        out.update({(source, cells[0]): int(n) for source, n in zip(head[1:-1], cells[1:-1])})
    return out


def week(day: str) -> str:
    year, number, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{number:02d}"


def test_trend_counts_per_week_and_outlet_across_languages_and_draws_the_same(tmp_path, newsmon):
    cfg, out = write_config(tmp_path), tmp_path / "output"
    items = seed(out)
    chart = tmp_path / "peoples.svg"
    proc = newsmon("trend", "interests of our peoples", "两国人民", "--config", str(cfg), "--chart", str(chart))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # Matching: the English phrase in the English items, the Chinese one in the Xinhua original; one each.
    expected = {
        (i["source"], week(i["published_at"][:10])): 1
        for name, i in items.items()
        if name in ("plenary", "tass", "xinhua", "earlier")
    }
    weeks = [week("2026-08-20"), week("2026-08-27"), week("2026-09-05"), week("2026-09-11")]  # W35 empty
    table = table_of(proc.stdout)
    assert {k: v for k, v in table.items() if v} == expected
    assert sorted({period for _, period in table}) == weeks
    assert "4 items in 3 outlets, by week" in proc.stdout
    assert "first use: 2026-08-20 kremlin/transcripts “Talks with the Chinese delegation”" in proc.stdout
    assert re.search(r"then \(\+17 days\): 2026-09-06 tass-en/politics", proc.stdout), proc.stdout
    assert re.search(r"then \(\+22 days\): 2026-09-11 xinhua/world", proc.stdout), proc.stdout

    svg = etree.parse(str(chart))
    assert svg.getroot().tag == "{http://www.w3.org/2000/svg}svg"
    drawn = {
        (c.get("data-series"), c.get("data-period")): int(c.get("data-count"))
        for c in svg.iter("{http://www.w3.org/2000/svg}circle")
    }
    assert drawn == table
    assert f"chart: {chart}" in proc.stdout


def test_trend_filters_by_source_and_says_when_nothing_matches(tmp_path, newsmon):
    cfg, out = write_config(tmp_path), tmp_path / "output"
    seed(out)
    proc = newsmon(
        "trend", "两国人民", "interests of our peoples", "--source", "xinhua", "--by", "day", "--config", str(cfg)
    )
    assert proc.returncode == 0, proc.stderr
    assert table_of(proc.stdout) == {("xinhua", "2026-09-11"): 1}
    assert (out / "trends" / "两国人民-interests-of-our-peoples.svg").exists()
    none = newsmon("trend", "Vladivostok Summit", "--config", str(cfg))
    assert none.returncode == 1 and "0 items in 0 outlets" in none.stdout
    bad = newsmon("trend", "Pu*tin", "--config", str(cfg))
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "only one trailing *" in bad.stderr


# ---------------------------------------------------------------- newsmon brief
def test_the_brief_holds_each_part_with_links_and_dates(tmp_path, newsmon):
    cfg, out = write_config(tmp_path), tmp_path / "output"
    items = seed(out)
    flag(cfg)
    newsmon("watch", "--rematch", "--config", str(cfg), check=True)
    brief = tmp_path / "brief.md"
    proc = newsmon("brief", "--since", SINCE, "--until", UNTIL, "--output", str(brief), "--config", str(cfg))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = brief.read_text(encoding="utf-8")
    parts = dict(re.findall(r"^## (.+?)\n(.*?)(?=^## |\Z)", text, re.M | re.S))
    assert list(parts) == [
        "Sections back or off their subject",
        "Watches",
        "Transcript quotes",
        "Held datelines",
        "Carried by several outlets",
    ]

    sections = parts["Sections back or off their subject"]
    assert "### people/russia — People's Daily › Russia" in sections
    assert "- back on 2026-09-09: the entry page answers again" in sections
    assert "- off its subject on 2026-09-10: 1 of 2 new items mention" in sections
    kazakh = next(line for line in sections.splitlines() if items["kazakh"]["url"] in line)
    assert kazakh.endswith("**no mention of the section's subject**") and "published 2026-09-10" in kazakh
    assert items["russian"]["url"] in sections

    watches = parts["Watches"]
    assert "### Peoples (3 items)" in watches
    assert (
        "> EN: Xinhua, Vladivostok, September 8 — The interests of the two peoples are the basis of "
        "cooperation." in watches
    )
    assert "> 新华社符拉迪沃斯托克9月8日电 两国人民的利益是合作的基础。" in watches
    assert "  > It serves the interests of our peoples." in watches  # the sentence of the match
    assert items["earlier"]["url"] not in text  # before the window

    quotes = parts["Transcript quotes"]
    assert quotes.strip().startswith("### Vladimir Putin")
    assert f"  - asked by Ilya Doronov: “{QUESTION}”\n  - Vladimir Putin: “{ANSWER}”" in quotes
    assert items["plenary"]["url"] in quotes and "published 2026-09-05" in quotes

    held = parts["Held datelines"]
    assert items["xinhua"]["url"] in held
    assert (
        "held 3 days: datelined 符拉迪沃斯托克 2026-09-08 (新华社符拉迪沃斯托克9月8日电), published 2026-09-11"
    ) in held
    assert items["tass"]["url"] not in held

    stories = parts["Carried by several outlets"]
    assert "(2 outlets: kremlin, tass-en)" in stories
    assert items["plenary"]["url"] in stories and items["tass"]["url"] in stories


def test_an_empty_window_says_so_in_every_part(tmp_path, newsmon):
    cfg, out = write_config(tmp_path), tmp_path / "output"
    seed(out)
    proc = newsmon("brief", "--since", "2026-10-01", "--until", "2026-10-07", "--config", str(cfg))
    assert proc.returncode == 0 and proc.stdout.count("_Nothing in this window._") == 5, proc.stdout
    backwards = newsmon("brief", "--since", "2026-10-07", "--until", "2026-10-01", "--config", str(cfg))
    assert backwards.returncode == 2 and "--since 2026-10-07 is after --until 2026-10-01" in backwards.stderr


# ---------------------------------------------------------------- the digest and search
def test_the_digest_shows_held_and_off_subject_items_and_each_watch_by_week(tmp_path, newsmon):
    cfg, out = write_config(tmp_path), tmp_path / "output"
    items = seed(out)
    flag(cfg)
    newsmon("watch", "--rematch", "--config", str(cfg), check=True)
    for day in ("2026-09-10", "2026-09-11"):
        newsmon("digest", "--date", day, "--config", str(cfg), check=True)
    held_day = (out / "2026-09-11" / "digest.txt").read_text(encoding="utf-8")
    header = next(line for line in held_day.splitlines() if f"#{items['xinhua']['id'][:8]} |" in line)
    assert "HELD 3 DAYS" in header
    assert (
        f"    #{items['xinhua']['id'][:8]} NOTE HELD 3 DAYS: datelined 符拉迪沃斯托克 2026-09-08 "
        "(新华社符拉迪沃斯托克9月8日电), published 2026-09-11"
    ) in held_day
    off_day = (out / "2026-09-10" / "digest.txt").read_text(encoding="utf-8")
    header = next(line for line in off_day.splitlines() if f"#{items['kazakh']['id'][:8]} |" in line)
    assert header.endswith("OFF-SUBJECT")
    assert f"    #{items['kazakh']['id'][:8]} NOTE in Russia section, no mention of 俄罗斯, 俄, 普京, …" in off_day
    assert f"#{items['russian']['id'][:8]} NOTE" not in off_day

    page = etree.HTML((out / "2026-09-11" / "digest.html").read_text(encoding="utf-8"))
    assert page.xpath("//p[@class='note']/text()") == [
        "HELD 3 DAYS: datelined 符拉迪沃斯托克 2026-09-08 (新华社符拉迪沃斯托克9月8日电), published 2026-09-11"
    ]
    bars = page.xpath("//ul[@class='weeks']/li//*[local-name()='rect']")
    assert len(bars) == 8  # chart_weeks
    counts = [int(b.get("data-count")) for b in bars]
    # watch_hits days are the items' days: 08-20 falls in the week 08-15…08-21, the others in the last week
    assert counts == [0, 0, 0, 0, 1, 0, 0, 3], counts
    assert bars[-1].get("data-period") == "week from 2026-09-05"


def test_search_lists_the_items_of_a_flag(tmp_path, newsmon):
    cfg, out = write_config(tmp_path), tmp_path / "output"
    items = seed(out)
    flag(cfg)
    proc = newsmon("search", "--flag", "off_subject", "--json", "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(line)["id"] for line in proc.stdout.splitlines()] == [items["kazakh"]["id"]]
    both = newsmon("search", "测试稿件", "--flag", "dateline_lag", "--json", "--config", str(cfg))
    assert [json.loads(line)["id"] for line in both.stdout.splitlines()] == [items["xinhua"]["id"]]
    none = newsmon("search", "哈萨克斯坦", "--flag", "dateline_lag", "--config", str(cfg))
    assert none.returncode == 1
    bad = newsmon("search", "--flag", "offsubject", "--config", str(cfg))
    assert (
        bad.returncode == 2
        and "--flag 'offsubject': not a flag newsmon sets (known: dateline_lag, off_subject)" in bad.stderr
    )


def test_a_hit_stored_without_its_sentence_is_quoted_from_the_item():
    """Hits stored before keyword-in-context: the sentence is found in the item, and its English
    counterpart at the same place of the aligned paragraph."""
    from crawler.analysis.brief import WatchSpec, quoted_sentences
    from tests.analysiskit import week_items

    xinhua = week_items()["xinhua"]
    hit = {"name": "Peoples", "phrases": ["两国人民"], "found": ["两国人民"], "in": ["text"]}
    assert quoted_sentences(xinhua, hit, WatchSpec("Peoples", ("两国人民",))) == [
        "EN: Xinhua, Vladivostok, September 8 — The interests of the two peoples are the basis of cooperation.",
        "新华社符拉迪沃斯托克9月8日电 两国人民的利益是合作的基础。",
    ]
    english = {"name": "Peoples", "phrases": ["the basis"], "found": ["the basis"], "in": ["text_en"]}
    assert (
        quoted_sentences(xinhua, english, WatchSpec("Peoples", ("the basis",)))[1]
        == "新华社符拉迪沃斯托克9月8日电 两国人民的利益是合作的基础。"
    )


def test_a_held_item_reads_as_one_alert_message_entry(tmp_path):
    """What a channel receives for an article_held event: its heading, the title, the cause and the link."""
    from crawler.alerts.message import compose
    from crawler.lifecycle.events import from_row

    cfg, out = write_config(tmp_path), tmp_path / "output"
    items = seed(out)
    flag(cfg)
    with closing(state.connect(out)) as conn:
        pending = [from_row(r) for r in conn.execute("SELECT * FROM events WHERE type = 'article_held'")]
    title, body = compose(pending, {}, "newsmon", 50)
    assert title == "newsmon: 1 article published days after its dateline"
    assert (
        "Articles published days after their dateline (1)\n"
        "• xinhua/world: Test story: cooperation of two countries [original: 测试稿件：两国合作]\n"
    ) in body
    assert (
        "    published 3 days after its dateline 新华社符拉迪沃斯托克9月8日电 (2026-09-08 → 2026-09-11) — "
        f"{items['xinhua']['url']}"
    ) in body


def test_a_bad_analysis_table_leaves_the_digest_written(tmp_path, newsmon):
    """The analysis stage fails on it with its file:line; the digest still draws the default weeks."""
    cfg, out = write_config(tmp_path), tmp_path / "output"
    seed(out)
    cfg.write_text(cfg.read_text() + "\n[analysis]\nchart_weeks = 0\n", encoding="utf-8")
    proc = newsmon("digest", "--date", "2026-09-11", "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    page = etree.HTML((out / "2026-09-11" / "digest.html").read_text(encoding="utf-8"))
    assert len(page.xpath("//ul[@class='weeks']/li//*[local-name()='rect']")) == 8
