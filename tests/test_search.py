"""Archive search: Chinese, Russian and English queries find the expected items and nothing else."""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from crawler import state
from crawler.digest import search
from crawler.digest.search import Filters, SearchError
from crawler.store import items as item_store
from tests import digestkit
from tests.conftest import ROOT

LEGACY = Path(__file__).parent / "resources" / "legacy-db"


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("search")
    items = digestkit.standard_day(out)
    with closing(state.connect(out)) as conn:
        assert search.update_index(conn) == len(items)
    return out, items


@pytest.fixture
def conn(archive):
    c = state.connect(archive[0])
    yield c
    c.close()


def found(conn, query: str, **filters) -> set[str]:
    return {hit.doc["id"] for hit in search.search(conn, query, Filters(**filters), limit=100).hits}


def ids(items: dict, *keys: str) -> set[str]:
    return {items[k]["id"] for k in keys}


@pytest.mark.parametrize(
    "query, expected",
    [
        ("两国人民", ["mfa"]),  # Chinese substring, mid-sentence
        ("航天合作", ["pd"]),  # in a recorded People's Daily page
        ("罢工", ["xinhua"]),  # two characters: below the trigram size
        ("俄", ["mfa"]),  # one character
        ("ъ", ["kommersant"]),  # one Cyrillic letter, case-folded (“Ъ”, a word of its own)
        ("xI", ["pd"]),  # short ASCII, case-insensitive, a whole word (not Xinhua)
        ("xI*", ["pd", "xinhua"]),  # a word ending: Xi, Xinhua
        ("Путин*", ["kommersant"]),  # Путина, Путиным … (the phrase syntax of [[watch]])
        ("путина", ["kommersant"]),  # a whole word, any case
        ("путинa", []),  # (a Latin a: a different word)
        ("Пути", []),  # a whole word only: not the start of Путин
        ("%", ["xinhua"]),  # LIKE wildcards are literal characters
        ("_", []),
        ("интересах наших народов", ["mid"]),  # Russian phrase, original text
        ("МАЛАЙЗИИ", ["kommersant"]),  # Cyrillic, case-folded
        ("Путин", ["kommersant"]),
        ("interests of our peoples", ["mid"]),  # English, found in a translation
        ("Taurida motorway", ["kremlin"]),  # English original
        ("Putin", ["kommersant", "kremlin"]),  # English original and a translation
        ('"two peoples" China', ["mfa"]),  # a quoted phrase and a word
        ("friendship Malaysia", []),  # terms in different items: no item has both
        ("PWNED", ["planted"]),
    ],
)
def test_queries_find_exactly_the_expected_items(conn, archive, query, expected):
    _, items = archive
    assert found(conn, query) == ids(items, *expected)


def test_filters(conn, archive):
    _, items = archive
    assert found(conn, "Putin", lang="ru") == ids(items, "kommersant")
    assert found(conn, "Putin", source="kremlin-en") == ids(items, "kremlin")
    assert found(conn, "Putin", source="kommersant/politics") == ids(items, "kommersant")
    assert found(conn, "Putin", since="2025-01-01") == ids(items, "kommersant")  # by publication date
    assert found(conn, "Putin", until="2020-12-31") == ids(items, "kremlin")
    with pytest.raises(SearchError, match="--since"):
        found(conn, "Putin", since="last week")
    with pytest.raises(SearchError, match="empty query"):
        found(conn, '  ""  ')


def test_a_hit_shows_its_context_in_both_languages(conn, archive):
    hit = search.search(conn, "两国人民").hits[0]
    assert hit.contexts == [
        ("zh", "中方愿同俄罗斯一道，巩固两国人民传统友谊。"),
        ("en", "China is ready to work with Russia to consolidate the traditional friendship between the two peoples."),
    ]
    deep = search.search(conn, "玻中两国").hits[0]  # a paragraph far into a long article
    assert deep.contexts[0][0] == "zh" and "玻中两国" in deep.contexts[0][1]
    assert deep.contexts[0][1].startswith("…") or len(deep.contexts[0][1]) <= 180


def test_the_index_follows_item_changes(tmp_path):
    item = digestkit.synthetic_item("mid")
    digestkit.store(tmp_path, [item])
    conn = state.connect(tmp_path)
    try:
        assert search.update_index(conn) == 1 and search.update_index(conn) == 0  # incremental
        assert found(conn, "Устава ООН") == {item["id"]}
        with state.transaction(conn):  # any write through the item store (here: an edit)
            item_store.update(
                conn,
                item["id"],
                {"paragraphs": ["Новый текст о сотрудничестве."], "text": "Новый текст о сотрудничестве."},
            )
        assert search.update_index(conn) == 1 and search.update_index(conn) == 0
        assert found(conn, "Устава ООН") == set() and found(conn, "сотрудничестве") == {item["id"]}
        # The item store never deletes an item: a row gone behind its back (damage) is not in the change feed,
        # and the rebuild drops its index row.
        conn.execute("DELETE FROM items WHERE id = ?", (item["id"],))
        assert search.rebuild_index(conn, progress=False) == 1
        assert found(conn, "сотрудничестве") == set()
        assert conn.execute("SELECT count(*) FROM search_docs").fetchone()[0] == 0
    finally:
        conn.close()


def test_items_are_indexed_in_batches_each_row_as_the_item_makes_it(tmp_path, monkeypatch, caplog):
    """Batches of two (every batch boundary crossed): each indexed row is ``doc_of`` its item; a row gone from
    ``items`` leaves the index, a row holding no JSON is named and skipped, neither stops its batch."""
    items = [digestkit.recorded_item(key) for key in digestkit.PAGES] + [
        digestkit.synthetic_item(key) for key in digestkit.SYNTHETIC
    ]
    digestkit.store(tmp_path, items)
    monkeypatch.setattr(search, "BATCH", 2)
    with closing(state.connect(tmp_path)) as conn:
        assert search.update_index(conn) == len(items)
        gone, broken = items[1]["id"], items[2]["id"]
        conn.execute("DELETE FROM items WHERE id = ?", (gone,))  # damage, as above
        conn.execute("UPDATE items SET json = '{' WHERE id = ?", (broken,))
        with caplog.at_level("WARNING", logger="crawler.digest.search"):
            assert search.rebuild_index(conn, progress=False) == len(items)
        assert any(broken in r.getMessage() for r in caplog.records)
        docs = {r["id"]: dict(r) for r in conn.execute("SELECT * FROM search_docs")}
        good = [item for item in items if item["id"] not in (gone, broken)]
        assert gone not in docs and {item["id"] for item in good} <= set(docs)
        for item in good:
            expected = search.doc_of(item, digestkit.DAY)
            row = docs[item["id"]]
            assert {f: row[f] for f in search.DOC_FIELDS if f in row} == {f: expected[f] for f in expected if f in row}
        chinese = {i["id"] for i in good if "两国人民" in i["text"] + i["title"]}
        assert found(conn, "两国人民") == chinese != set()


def index_pages(conn) -> int:
    return conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search_fts%'").fetchone()[0] // 4096


def indexed_in_updates(output_dir: Path, updates: int) -> sqlite3.Connection:
    """The recorded pages' items stored and indexed again and again, one update each time (a run, a task beside
    the crawl): every update's batch a segment of its own."""
    conn = state.connect(output_dir)
    for n in range(updates):
        items = [digestkit.recorded_item(key) for key in digestkit.PAGES]
        for item in items:  # the same texts under new URLs, each with a line of its own
            item = digestkit.base_item(
                item["source"],
                item["section"],
                f"{item['url']}?copy={n}",
                item["lang"],
                item["title"],
                [*item["paragraphs"], f"Copy {n} of the page, number {n * 7919}."],
                item["published_at"],
            )
            digestkit.store(output_dir, [item])
        assert search.update_index(conn) == len(items)
    return conn


def test_each_update_merges_some_of_the_index_segments(tmp_path, monkeypatch):
    merged = indexed_in_updates(tmp_path / "merged", 12)
    monkeypatch.setattr(search, "_merge_some", lambda conn: None)
    unmerged = indexed_in_updates(tmp_path / "unmerged", 12)
    try:
        apart = index_pages(unmerged)
        unmerged.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
        whole = index_pages(unmerged)
        assert index_pages(merged) < apart and index_pages(merged) <= 1.1 * whole
        copy = '"Copy 3 of the page"'
        assert found(merged, copy) == found(unmerged, copy) and len(found(merged, copy)) == len(digestkit.PAGES)
        merged.execute("INSERT INTO search_fts(search_fts) VALUES ('integrity-check')")
    finally:
        merged.close()
        unmerged.close()


def test_items_stored_before_the_index_existed_are_caught_up(tmp_path):
    """A state DB of an older newsmon (tests/resources/legacy-db, schema before migrations) whose items were
    stored before the search index existed: none indexed, none queued. Upgraded on connect, the first index
    update catches them all up, though the change feed holds none of them."""
    state.db_path(tmp_path).write_bytes(gzip.decompress((LEGACY / "state.sqlite.gz").read_bytes()))
    with closing(sqlite3.connect(state.db_path(tmp_path))) as old:
        assert old.execute("PRAGMA user_version").fetchone()[0] == 0
        with old:
            old.execute("DELETE FROM search_docs")
            old.execute("DELETE FROM search_pending")
        stored = old.execute("SELECT count(*) FROM items").fetchone()[0]
    conn = state.connect(tmp_path)
    try:
        assert conn.execute("SELECT count(*) FROM search_docs").fetchone()[0] == 0
        assert search.update_index(conn) == stored == 24 and search.update_index(conn) == 0
        assert len(found(conn, "Putin")) == 9 and len(found(conn, "罢工")) == 1 and found(conn, "расписании")
        conn.execute("INSERT INTO search_fts(search_fts) VALUES ('delete-all')")  # damage the index …
        assert search.rebuild_index(conn, progress=False) == stored
        assert len(found(conn, "Putin")) == 9 and len(found(conn, "罢工")) == 1  # … and rebuild it from the items
        conn.execute("INSERT INTO search_fts(search_fts) VALUES ('integrity-check')")
    finally:
        conn.close()


# ---------------------------------------------------------------- the real CLI


def test_newsmon_search_prints_hits_in_both_languages(archive, newsmon):
    out, items = archive
    proc = newsmon("search", "两国人民", "--output", str(out), check=True)
    lines = proc.stdout.splitlines()
    assert lines[0] == "1 hit"
    assert lines[2].startswith(f"2026-11-28  mfa-cn/statements  zh  #{items['mfa']['id'][:8]}")
    assert "  EN: Foreign Ministry spokesperson answers a question on China-Russia relations" in lines
    assert "    zh: 中方愿同俄罗斯一道，巩固两国人民传统友谊。" in lines
    assert any(line.startswith("    en: China is ready to work with Russia") for line in lines)
    proc = newsmon("search", "интересах", "--output", str(out), "--json", check=True)
    hits = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [h["id"] for h in hits] == [items["mid"]["id"]] and hits[0]["context"][1]["lang"] == "en"
    none = newsmon("search", "no such words anywhere", "--output", str(out))
    assert none.returncode == 1 and none.stdout.startswith("0 hits")
    bad = newsmon("search", "x", "--since", "yesterday", "--output", str(out))
    assert bad.returncode == 2 and "not a calendar date" in bad.stderr and "Traceback" not in bad.stderr


def test_rebuild_shows_plain_progress_lines_off_a_terminal(archive, newsmon):
    out, _ = archive
    proc = newsmon("search", "--rebuild", "--output", str(out), check=True)
    assert "search index: 7/7 (100%) done in" in proc.stderr and "\r" not in proc.stderr
    assert "search index rebuilt: 7 items" in proc.stderr


def test_rebuild_draws_a_bar_on_a_terminal(archive):
    out, _ = archive
    master, slave = os.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "crawler", "search", "--rebuild", "--output", str(out)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=slave,
            timeout=60,
            check=True,
        )
        os.close(slave)
        slave = None
        seen = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the other end is closed
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
        if slave is not None:
            os.close(slave)
    text = seen.decode("utf-8")
    assert proc.returncode == 0
    assert "\rsearch index " in text and "█" in text and "7/7 100%" in text


def test_a_mistyped_output_directory_is_an_error_not_a_new_archive(tmp_path, newsmon):
    missing = tmp_path / "no-such-dir"
    for args in (("search", "两国人民"), ("digest",)):
        proc = newsmon(*args, "--output", str(missing))
        assert proc.returncode == 2 and "no archive at" in proc.stderr and "Traceback" not in proc.stderr
    assert not missing.exists()


def test_limit_zero_prints_only_how_many_and_a_negative_limit_is_refused(archive, newsmon):
    out, _ = archive
    proc = newsmon("search", "Putin", "--limit", "0", "--output", str(out))
    assert proc.returncode == 0 and proc.stdout.strip() == "2 hits"
    one = newsmon("search", "Putin", "--limit", "1", "--output", str(out), check=True).stdout
    assert one.startswith("2 hits, showing the first 1\n") and one.count("  EN: ") == 1
    bad = newsmon("search", "Putin", "--limit", "-1", "--output", str(out))
    assert bad.returncode == 2 and "'-1': expected a whole number of hits, 0 or more" in bad.stderr


def test_a_word_ending_is_marked_whole_on_a_terminal():
    from crawler.commands.search import BOLD, RESET, mark

    assert mark("Встреча с Путиным и Путину", ["Путин*"]) == f"Встреча с {BOLD}Путиным{RESET} и {BOLD}Путину{RESET}"
    assert mark("Xinhua: Xi met", ["Xi"]) == f"Xinhua: {BOLD}Xi{RESET} met"
