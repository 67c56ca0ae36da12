"""digest.txt: grep lands on the item, failures are listed, alerts come first; `newsmon digest` rebuilds."""

from __future__ import annotations

import re
import subprocess
from contextlib import closing
from pathlib import Path

import pytest

from crawler import jsonl, state
from crawler.config import load_config
from crawler.digest import stage as digest
from crawler.exceptions import ConfigError
from crawler.lifecycle import events
from crawler.store import dayfiles
from crawler.store import items as item_store
from crawler.store.published import normalised
from tests import digestkit
from tests.digestkit import DAY, STARTED
from tests.recorded import recorded


@pytest.fixture(scope="module")
def day_dir(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("digest")
    items = digestkit.standard_day(out)
    with closing(state.connect(out)) as conn:
        events.record(
            conn,
            [
                events.Event(
                    "section_broken",
                    "tass/politics",
                    STARTED,
                    1,
                    "the link rule css 'a.news' finds nothing (was 20 links)",
                ),
                events.Event(
                    "article_edited",
                    "kremlin-en/news",
                    STARTED,
                    1,
                    "title changed",
                    {
                        "url": items["kremlin"]["url"],
                        "title_before": "Launching traffic",
                        "title_after": items["kremlin"]["title"],
                    },
                    article_id=items["kremlin"]["id"],
                ),
                events.Event("section_appeared", "mfa-cn/statements", STARTED, 1, "first seen"),
            ],
        )
    digest.build(out, DAY)
    return out, items


def grep(pattern: str, path: Path, *flags: str) -> list[str]:
    proc = subprocess.run(["grep", *flags, pattern, str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.stdout.splitlines()


def header_of(item: dict, path: Path) -> str:
    lines = [line for line in grep(f"#{item['id'][:8]}", path) if not line.startswith(" ")]
    assert len(lines) == 1, lines
    return lines[0]


def test_grep_for_an_english_phrase_lands_on_the_russian_item(day_dir):
    out, items = day_dir
    path = out / DAY / "digest.txt"
    hits = grep("interests of our peoples", path, "-i")
    assert len(hits) == 1
    assert f"#{items['mid']['id'][:8]} EN" in hits[0]
    header = header_of(items["mid"], path)
    assert header.split(" | ")[:4] == ["2026-11-28", "mid", "news", "ru"]
    assert "EN: Statement of the Russian Foreign Ministry" in header
    assert "RU: Заявление МИД России" in header and items["mid"]["url"] in header
    # the original sits right beneath its English paragraph
    lines = path.read_text(encoding="utf-8").splitlines()
    at = lines.index(hits[0])
    assert lines[at + 1].endswith("RU  Россия и Китай будут и впредь действовать в интересах наших народов.")


def test_grep_for_chinese_lands_on_the_right_items(day_dir):
    out, items = day_dir
    path = out / DAY / "digest.txt"
    body = grep("俄罗斯", path)
    assert body == [f"    #{items['mfa']['id'][:8]} ZH  中方愿同俄罗斯一道，巩固两国人民传统友谊。"]
    title = grep("法国全国大罢工", path)  # a title of a recorded Xinhua page: its header line
    assert len(title) == 1
    assert title[0].startswith("2019-12-10 | xinhua | world | zh | EN: France's nationwide general strike")
    assert items["xinhua"]["url"] in title[0]


def test_good_news_alerts_are_not_styled_as_trouble(day_dir):
    """digest.html: section_appeared (good news) in the green style, section_broken in the red one."""
    out, _ = day_dir
    page = (out / DAY / "digest.html").read_text(encoding="utf-8")
    kinds = {kind: css for css, kind in re.findall(r'<div class="(alert[^"]*)"><strong>([a-z_]+)</strong>', page)}
    assert kinds == {"section_broken": "alert", "article_edited": "alert", "section_appeared": "alert good"}
    assert ".alert.good{" in page


def test_failed_and_broken_sections_are_listed_before_the_items(day_dir):
    out, _ = day_dir
    text = (out / DAY / "digest.txt").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0].startswith("# newsmon digest 2026-11-28: 7 items, 3 alerts, 2 sections in trouble")
    failed = [line for line in lines if line.startswith("!! ")]
    assert any("FAILED" in line and "rferl/news" in line and "DNSLookupError" in line for line in failed)
    assert any("FAILED" in line and "tass/politics" in line and "HTTP 503" in line for line in failed)
    assert text.index("== SECTIONS") < text.index("== ITEMS")
    assert "   OK          | kremlin-en/news | 10 links, 1 new" in lines


def test_alerts_come_first_and_flag_their_items(day_dir):
    out, items = day_dir
    text = (out / DAY / "digest.txt").read_text(encoding="utf-8")
    alerts = [line for line in text.splitlines() if line.startswith("ALERT ")]
    assert len(alerts) == 3 and text.index("== ALERTS") < text.index("== SECTIONS")
    assert [a.split(" | ")[1] for a in alerts] == ["section_broken", "article_edited", "section_appeared"]
    assert any("section_broken | tass/politics | the link rule css 'a.news' finds nothing" in a for a in alerts)
    assert any(
        "article_edited | kremlin-en/news | title changed | title: «Launching traffic» → «Launching motor" in a
        and a.endswith(items["kremlin"]["url"])
        for a in alerts
    )
    assert header_of(items["kremlin"], out / DAY / "digest.txt").endswith("| EDITED")
    assert header_of(items["mfa"], out / DAY / "digest.txt").endswith("| NEW-SECTION")
    assert header_of(items["xinhua"], out / DAY / "digest.txt").endswith("| -")


def test_items_are_grouped_by_section_and_carry_their_first_paragraphs(day_dir):
    out, items = day_dir
    text = (out / DAY / "digest.txt").read_text(encoding="utf-8")
    groups = [line for line in text.splitlines() if line.startswith("### ")]
    assert [g.split()[1] for g in groups] == sorted(g.split()[1] for g in groups)
    pd = [line for line in text.splitlines() if line.startswith(f"    #{items['pd']['id'][:8]}")]
    assert len(pd) == 6  # 3 paragraphs, each English + original
    assert [line.split()[1] for line in pd] == ["EN", "ZH"] * 3
    kremlin = [line for line in text.splitlines() if line.startswith(f"    #{items['kremlin']['id'][:8]}")]
    assert len(kremlin) == 3 and all(" EN  " in line for line in kremlin)  # English: no duplicate lines


def test_a_title_with_newlines_and_pipes_stays_on_one_header_line(tmp_path):
    item = digestkit.base_item(
        "x", "y", "https://x.example/1", "en", "Line one\nline two | three\tfour", ["Para\none."], None
    )
    digestkit.store(tmp_path, [item])
    digest.build(tmp_path, DAY)
    header = header_of(item, tmp_path / DAY / "digest.txt")
    assert "EN: Line one line two ¦ three four" in header and len(header.split(" | ")) == 9


def test_pending_translation_and_a_day_without_items(tmp_path):
    item = digestkit.recorded_item("xinhua", translated=False)
    digestkit.store(tmp_path, [item])
    digest.build(tmp_path, DAY)
    header = header_of(item, tmp_path / DAY / "digest.txt")
    assert "EN: (translation pending)" in header and header.endswith("TRANSLATION-PENDING")
    digestkit.add_run(
        tmp_path,
        [{"section": "xinhua/world", "url": "http://www.xinhuanet.com/world/", "links_found": 20}],
        started_at="2026-11-29T12:00:00+00:00",
    )
    digest.build(tmp_path, "2026-11-29")
    quiet = (tmp_path / "2026-11-29" / "digest.txt").read_text(encoding="utf-8")
    assert "(no new items this day: see SECTIONS above for why)" in quiet
    assert "QUIET       | xinhua/world | 20 links, no new article" in quiet


def test_alerts_are_read_from_alerts_jsonl_when_the_events_table_is_empty(tmp_path):
    digestkit.store(tmp_path, [digestkit.synthetic_item("mid")])
    jsonl.append_lines(
        tmp_path / "alerts.jsonl",
        [
            {
                "id": "e1",
                "type": "section_gone",
                "at": STARTED,
                "run_id": None,
                "section": "mid/news",
                "source": "mid",
                "cause": "HTTP 404 three runs in a row",
                "details": {},
            },
            {
                "id": "e2",
                "type": "section_gone",
                "at": "2026-10-01T12:00:00+00:00",
                "run_id": None,
                "section": "mid/old",
                "source": "mid",
                "cause": "another day",
                "details": {},
            },
        ],
    )
    digest.build(tmp_path, DAY)
    text = (tmp_path / DAY / "digest.txt").read_text(encoding="utf-8")
    assert "section_gone | mid/news | HTTP 404 three runs in a row" in text
    assert "another day" not in text


def test_files_are_replaced_whole(day_dir):
    out, _ = day_dir
    digest.build(out, DAY)
    assert sorted(p.name for p in (out / DAY).iterdir()) == ["digest.html", "digest.txt", "items.jsonl"]


def test_digest_settings_are_validated(tmp_path):
    bad = tmp_path / "c.toml"
    bad.write_text('[digest]\nparagraphs = "three"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c.toml:2: \[digest\] paragraphs: expected int"):
        digest.settings(load_config(bad))
    bad.write_text("[digest]\nparagrafs = 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c.toml:2: \[digest\] paragrafs: unknown key"):
        digest.settings(load_config(bad))


# ---------------------------------------------------------------- newsmon digest (the real CLI)


def test_newsmon_digest_rebuilds_a_day_from_the_store(day_dir, newsmon, tmp_path):
    out, items = day_dir
    (out / DAY / "digest.txt").unlink()
    proc = newsmon("digest", "--output", str(out), "--date", DAY, check=True)
    assert proc.stdout.split() == [str(out / DAY / "digest.txt"), str(out / DAY / "digest.html")]
    assert grep("interests of our peoples", out / DAY / "digest.txt", "-i")
    bad = newsmon("digest", "--output", str(out), "--date", "2020-01-01")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "nothing stored for 2020-01-01" in bad.stderr and DAY in bad.stderr


def test_reextract_updates_items_in_place_from_raw_pages(tmp_path, newsmon):
    good = digestkit.recorded_item("pd")
    stale = dict(good, paragraphs=["人民网版权所有，未经书面授权禁止使用"], text="人民网版权所有，未经书面授权禁止使用")
    stale["content_hash"], stale["raw_encoding"] = "stale", "utf-8"  # as the store records it
    gbk = digestkit.recorded_item("xinhua")  # stored without raw_encoding: decoded from the page itself
    gbk["id"], gbk["raw_path"] = "0" * 16, "raw/xinhua/gbk.html.gz"
    gbk["paragraphs"] = ["旧的段落"]
    gbk["content_hash"] = "old"
    missing = dict(digestkit.synthetic_item("mid"))  # no raw page on disk
    pd_page = recorded("peoples-daily/culture-2019-0615-c1013-31153719.SYNTHETIC-gbk-bytes.html")
    digestkit.store(
        tmp_path, [stale, gbk, missing], raw_from={stale["id"]: recorded(digestkit.PAGES["pd"][2]), gbk["id"]: pd_page}
    )
    gbk_url = "http://culture.people.com.cn/n1/2019/0615/c1013-31153719.html"
    edited = dict(gbk, url=gbk_url, version=2)
    with closing(state.connect(tmp_path)) as conn:
        with state.transaction(conn):  # as an edit (crawler/lifecycle/recheck.py) leaves it: version 2, through
            item_store.replace(conn, edited)  # the item store; the run's export writes the day file
        dayfiles.export_changed(conn, tmp_path)
    lines_before = (tmp_path / DAY / "items.jsonl").read_text(encoding="utf-8").count("\n")
    latest = {o["id"]: o for o in jsonl.read(tmp_path / DAY / "items.jsonl")}[gbk["id"]]
    assert latest == normalised(edited)  # the latest, its date in the stored form

    proc = newsmon("digest", "--output", str(tmp_path), "--date", DAY, "--reextract", check=True)
    assert "re-extracted 2026-11-28: 3 items, 2 changed, 1 failed" in proc.stderr
    assert "raw page missing" in proc.stderr and "reextract: 3/3 (100%) done in" in proc.stderr

    stored = {o["id"]: o for o in jsonl.read(tmp_path / DAY / "items.jsonl")}
    assert len(stored) == lines_before == 3  # updated in place, nothing appended
    assert stored[stale["id"]]["paragraphs"][:2] == good["paragraphs"][:2]
    assert stored[stale["id"]]["translation"]["status"] == "pending"
    assert stored[stale["id"]]["title_en"] is None  # stale English dropped, to be redone
    assert stored[missing["id"]] == normalised(missing)  # kept as it was (its date as stored)
    conn = state.connect(tmp_path)
    row = conn.execute("SELECT json FROM items WHERE id = ?", (stale["id"],)).fetchone()
    hash_ = conn.execute("SELECT content_hash FROM articles WHERE id = ?", (stale["id"],)).fetchone()[0]
    latest = item_store.loads(conn.execute("SELECT json FROM items WHERE id = ?", (gbk["id"],)).fetchone()[0])
    conn.close()
    assert item_store.loads(row[0]) == stored[stale["id"]] and hash_ == good["content_hash"]
    assert stored[gbk["id"]] == latest and latest["url"] == gbk_url  # the line is the latest version, re-extracted
    assert latest["title"] == "女儿出嫁，郑板桥画了几笔兰花当嫁妆" and latest["version"] == 2  # GBK decoded
    assert latest["paragraphs"][0].startswith("父亲的教诲像一盏灯")
    text = (tmp_path / DAY / "digest.txt").read_text(encoding="utf-8")
    assert "新华社记者" in text and "人民网版权所有" not in text


def test_configured_sections_not_crawled_that_day_are_listed_with_their_last_success(tmp_path):
    cfg = tmp_path / "sources.toml"
    cfg.write_text(
        "replace_default_sources = true\n"
        '[[sources]]\nid = "xinhua"\nname = "Xinhua"\n'
        '[[sources.sections]]\nid = "world"\nname = "World"\nkind = "listing"\n'
        'url = "http://www.xinhuanet.com/world/"\nlink_css = "a"\n'
        '[[sources]]\nid = "tass"\nname = "TASS"\n'
        '[[sources.sections]]\nid = "politics"\nkind = "listing"\nurl = "https://tass.ru/politika"\n'
        'link_css = "a"\n'
        '[[sources.sections]]\nid = "economy"\nkind = "listing"\nurl = "https://tass.ru/ekonomika"\n'
        'link_css = "a"\n',
        encoding="utf-8",
    )
    config = load_config(cfg, output_dir=tmp_path)
    digestkit.add_run(
        tmp_path,
        [{"section": "tass/politics", "url": "https://tass.ru/politika"}],
        started_at="2026-11-27T12:00:00+00:00",
    )
    digestkit.add_run(tmp_path, [{"section": "xinhua/world", "url": "http://www.xinhuanet.com/world/"}])
    digestkit.store(tmp_path, [digestkit.recorded_item("xinhua")])
    digest.build(tmp_path, DAY, config)
    lines = (tmp_path / DAY / "digest.txt").read_text(encoding="utf-8").splitlines()
    sections = lines[lines.index("== SECTIONS (3) ==") + 1 : lines.index("== SECTIONS (3) ==") + 4]
    assert sections == [
        "   OK          | xinhua/world | 10 links, 1 new",
        "   NOT-CRAWLED | tass/politics | not crawled this day (last success 2026-11-27T12:00:00+00:00)",
        "   NOT-CRAWLED | tass/economy | not crawled this day (never succeeded)",
    ]
    assert "### xinhua/world — Xinhua › World (1) ###" in lines


def test_the_stage_writes_the_digest_from_the_live_crawl_report_and_indexes(tmp_path):
    from crawler.runner import CycleContext

    items = [digestkit.recorded_item("kremlin"), digestkit.synthetic_item("mid")]
    run_id = digestkit.add_run(
        tmp_path,
        [
            {"section": "kremlin-en/news", "url": "http://en.kremlin.ru/events/president/news", "links_found": 20},
            {"section": "mid/news", "url": "https://mid.ru/ru/foreign_policy/news/", "links_found": 5},
        ],
    )
    digestkit.store(tmp_path, items)
    crawl = {
        "kremlin-en/news": {
            "links_found": 20,
            "new": 3,
            "fetched": 3,
            "landed": 1,
            "failed": 2,
            "seconds": 1.0,
            "errors": [
                "http://en.kremlin.ru/events/president/news/1: ExtractionError: no body",
                "http://en.kremlin.ru/events/president/news/2: HTTP 500",
            ],
            "entry_error": None,
        },
        "mid/news": {
            "links_found": 5,
            "new": 1,
            "fetched": 1,
            "landed": 1,
            "failed": 0,
            "seconds": 1.0,
            "errors": [],
            "entry_error": None,
        },
        "tass/politics": {
            "links_found": 0,
            "new": 0,
            "fetched": 0,
            "landed": 0,
            "failed": 1,
            "seconds": 30.0,
            "errors": ["timeout after 30 s"],
            "entry_error": "timeout after 30 s",
        },
    }
    ctx = CycleContext(load_config(None, output_dir=tmp_path), tmp_path, run_id, DAY, crawl=crawl)
    summary = digest.run_stage(ctx)
    assert summary["indexed"] == 2 and summary["items"] == 2
    assert summary["trouble"] == ["FAILED tass/politics", "PARTIAL kremlin-en/news"]
    lines = (tmp_path / DAY / "digest.txt").read_text(encoding="utf-8").splitlines()
    assert "!! FAILED      | tass/politics | timeout after 30 s" in lines
    assert (
        "!! PARTIAL     | kremlin-en/news | 20 links, 1 new, 2 articles failed: "
        "http://en.kremlin.ru/events/president/news/1: ExtractionError: no body"
    ) in lines
    conn = state.connect(tmp_path)
    try:
        assert conn.execute("SELECT count(*) FROM search_docs").fetchone()[0] == 2
    finally:
        conn.close()


def test_an_untranslated_item_says_so_once_then_gives_its_original_paragraphs(tmp_path):
    item = digestkit.recorded_item("xinhua", translated=False)
    digestkit.store(tmp_path, [item])
    digest.build(tmp_path, DAY)
    body = [
        line
        for line in (tmp_path / DAY / "digest.txt").read_text(encoding="utf-8").splitlines()
        if line.startswith(f"    #{item['id'][:8]}")
    ]
    assert body[0] == f"    #{item['id'][:8]} EN  (translation pending)"
    assert [line.split()[1] for line in body[1:]] == ["ZH"] * 3


def test_unreadable_stored_records_are_named_and_cost_nothing_else(tmp_path):
    good, damaged = digestkit.synthetic_item("mid"), digestkit.synthetic_item("mfa")
    digestkit.store(tmp_path, [good, damaged])
    conn = state.connect(tmp_path)
    conn.execute("UPDATE items SET json = '{\"id\": broken' WHERE id = ?", (damaged["id"],))
    conn.close()
    with open(tmp_path / DAY / "items.jsonl", "ab") as fh:
        fh.write(b'{"not": "json"\n')
    digest.build(tmp_path, DAY)
    text = (tmp_path / DAY / "digest.txt").read_text(encoding="utf-8")
    assert "2 stored records unreadable" in text.splitlines()[0]
    assert f"!! UNREADABLE | item {damaged['id']}: unreadable row in the items table" in text
    assert "!! UNREADABLE | 2026-11-28/items.jsonl line 3: not JSON" in text
    assert "巩固两国人民传统友谊" in text  # the damaged row's item, from its JSONL line
    assert "интересах наших народов" in text


def test_reextract_waits_for_a_running_cycle(tmp_path):
    import sys

    from crawler.ops.lock import CycleLock
    from tests.conftest import ROOT

    item = digestkit.recorded_item("kremlin")
    digestkit.store(tmp_path, [item], raw_from={item["id"]: recorded(digestkit.PAGES["kremlin"][2])})
    with CycleLock(tmp_path):  # a cycle is appending to items.jsonl
        proc = subprocess.Popen(
            [sys.executable, "-m", "crawler", "digest", "--output", str(tmp_path), "--date", DAY, "--reextract"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        first = proc.stderr.readline().decode("utf-8")  # said before it blocks
        assert "waiting for the cycle lock" in first, first
        assert proc.poll() is None and not (tmp_path / DAY / "digest.txt").exists()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "re-extracted 2026-11-28: 1 items" in err.decode("utf-8")
