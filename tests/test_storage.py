"""What the output directory keeps, and keeps once: the search index without a copy of the text (same
results as a substring scan of every item), raw pages in zstd with a per-source dictionary (byte-exact,
readable by re-extraction and `newsmon verify`, old gzip pages too), earlier days' digests gzipped, and the
state DB's free pages given back to the file system (a new file) or kept for reuse (a file made before)."""

from __future__ import annotations

import gzip
import os
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from crawler import state
from crawler.crawl import store as raw_store
from crawler.crawl.store import RawPageError, read_raw, save_raw
from crawler.digest import search
from crawler.digest import stage as digest_stage
from crawler.digest.search import Filters
from crawler.exceptions import ExtractionError
from crawler.extract.stored import load_page
from crawler.localsite import Route, write_loopback_config
from crawler.phrases import parse
from crawler.store import items as item_store
from tests import digestkit
from tests.recorded import recorded

LEGACY = Path(__file__).parent / "resources" / "legacy-db"

QUERIES = [
    "两国人民",
    "航天合作",
    "罢工",
    "俄",
    "ъ",
    "xI",
    "%",
    "_",
    "интересах наших народов",
    "МАЛАЙЗИИ",
    "Путин",
    "interests of our peoples",
    "Taurida motorway",
    "Putin",
    '"two peoples" China',
    "friendship Malaysia",
    "PWNED",
    "the",
    "President",
    "人民",
    "中国人民",
    "两国人员",
    "习近平",
    "Владимир",
    "of the",
    "a",
    "Путин*",
    "xi*",
    "ёлка",
]


# ---------------------------------------------------------------- search


def scan(conn: sqlite3.Connection, query: str, filters: Filters | None = None) -> list[str]:
    """What a search must return: every item whose title or text (original or English) holds every term, a
    phrase as crawler.phrases matches it (docs/watch.md), newest first — found by reading every item, no
    index, no SQL."""
    phrases = [parse(t) for t in search.parse_terms(query)]
    filters = filters or Filters()
    hits = []
    for row in conn.execute("SELECT id, day, json FROM items"):
        doc = search.doc_of(item_store.loads(row["json"]), row["day"])
        fields = [doc[f] or "" for f in search.TEXT_FIELDS]
        if not all(any(p.search(f) for f in fields) for p in phrases):
            continue
        if filters.lang and doc["lang"] != filters.lang or filters.since and doc["date"] < filters.since:
            continue
        hits.append((doc["date"], doc["id"]))
    hits.sort(key=lambda h: h[1])
    hits.sort(key=lambda h: h[0], reverse=True)
    return [h[1] for h in hits]


def searched(conn, query: str, filters: Filters | None = None) -> tuple[int, list[str]]:
    results = search.search(conn, query, filters, limit=1000)
    return results.total, [hit.doc["id"] for hit in results.hits]


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("storage-search")
    digestkit.standard_day(out)
    # Trigrams of a query present in an item, but not together: the index offers it, the text check drops it.
    apart = digestkit.base_item(
        "mfa-cn",
        "statements",
        "https://www.mfa.gov.cn/apart",
        "zh",
        "两国人员往来",
        ["中国人民和俄罗斯人民。", "Interest rates of our peoples’ banks."],
        "2026-11-27",
    )
    digestkit.store(out, [apart])
    with closing(state.connect(out)) as conn:
        search.update_index(conn)
    return out


@pytest.mark.parametrize("query", QUERIES)
def test_search_returns_what_a_scan_of_every_item_returns(archive, query):
    with closing(state.connect(archive)) as conn:
        expected = scan(conn, query)
        assert searched(conn, query) == (len(expected), expected)


def test_trigrams_found_apart_are_not_a_match(archive):
    with closing(state.connect(archive)) as conn:
        apart = conn.execute("SELECT id FROM search_docs WHERE url = 'https://www.mfa.gov.cn/apart'").fetchone()[0]
        offered = {
            r[0]
            for r in conn.execute(
                "SELECT d.id FROM search_fts f JOIN search_docs d ON d.rowid = f.rowid WHERE search_fts MATCH ?",
                (search.fts_expression(["两国人民"]),),
            )
        }
        assert apart in offered  # the index offers it …
        assert apart not in searched(conn, "两国人民")[1]  # … the text does not hold the term
        assert apart not in searched(conn, "interests of our peoples")[1]


def test_the_index_keeps_no_copy_of_the_text(archive):
    with closing(state.connect(archive)) as conn:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(search_docs)")}
        assert "text" not in columns and "text_en" not in columns
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'search_fts'").fetchone()[0]
        assert "content=''" in sql and "detail='none'" in sql
        assert not conn.execute("SELECT name FROM sqlite_master WHERE name = 'search_fts_content'").fetchone()
        hit = search.search(conn, "两国人民").hits[0]  # a hit still carries its text
        assert "两国人民" in hit.doc["text"] and hit.doc["text_en"]


def test_relevance_puts_the_item_with_more_occurrences_first(tmp_path):
    items = [
        digestkit.base_item(
            "s",
            "n",
            f"https://s.example/{n}",
            "en",
            f"Story {n}",
            [("Lavrov met partners. " * times) + "Weather was fine."],
            "2026-11-0" + str(n),
        )
        for n, times in ((1, 5), (2, 1), (3, 2))
    ]
    digestkit.store(tmp_path, items)
    with closing(state.connect(tmp_path)) as conn:
        search.update_index(conn)
        by_date = [h.doc["title"] for h in search.search(conn, "Lavrov").hits]
        by_relevance = [h.doc["title"] for h in search.search(conn, "Lavrov", order="relevance").hits]
    assert by_date == ["Story 3", "Story 2", "Story 1"] and by_relevance == ["Story 1", "Story 3", "Story 2"]


def test_a_changed_text_gets_a_new_index_row_and_the_old_ones_are_compacted(tmp_path, monkeypatch):
    item = digestkit.synthetic_item("mid")
    digestkit.store(tmp_path, [item])
    with closing(state.connect(tmp_path)) as conn:
        search.update_index(conn)
        first = conn.execute("SELECT rowid FROM search_docs").fetchone()[0]
        with state.transaction(conn):  # not the text: the row stays, no index row is added
            item_store.update(conn, item["id"], {"story": {"id": item["id"], "size": 2}})
        assert search.update_index(conn) == 1
        assert conn.execute("SELECT rowid FROM search_docs").fetchone()[0] == first
        assert search.left_behind(conn) == (0, 1)
        with state.transaction(conn):  # the text: a new row, the old index row left behind
            item_store.update(
                conn,
                item["id"],
                {"paragraphs": ["Новый текст о сотрудничестве."], "text": "Новый текст о сотрудничестве."},
            )
        monkeypatch.setattr(search, "COMPACT_MIN", 5)
        search.update_index(conn)
        assert conn.execute("SELECT rowid FROM search_docs").fetchone()[0] > first
        assert search.left_behind(conn) == (1, 1)
        assert searched(conn, "Устава ООН") == (0, []) and searched(conn, "сотрудничестве")[0] == 1
        monkeypatch.setattr(search, "COMPACT_MIN", 0)  # past the threshold: the next update compacts
        with state.transaction(conn):
            item_store.update(conn, item["id"], {"title": "Новый заголовок"})
        search.update_index(conn)
        assert search.left_behind(conn) == (0, 1)
        assert searched(conn, "заголовок")[0] == 1 and searched(conn, "сотрудничестве")[0] == 1
        conn.execute("INSERT INTO search_fts(search_fts) VALUES ('integrity-check')")


def test_an_upgraded_db_is_indexed_again_and_finds_what_it_found(tmp_path):
    """The legacy DB (tests/resources/legacy-db) with its old index (text in search_docs, positions in the FTS
    index): the upgrade drops it and the next update indexes every item again, with the same results as the
    old index gave (tests/test_search.py: 9 items for "Putin", 1 for "罢工")."""
    state.db_path(tmp_path).write_bytes(gzip.decompress((LEGACY / "state.sqlite.gz").read_bytes()))
    with closing(sqlite3.connect(state.db_path(tmp_path))) as old:
        assert old.execute("SELECT count(*) FROM search_docs").fetchone()[0] > 0
        stored = old.execute("SELECT count(*) FROM items").fetchone()[0]
    with closing(state.connect(tmp_path)) as conn:
        assert conn.execute("SELECT count(*) FROM search_docs").fetchone()[0] == 0
        assert search.update_index(conn) == stored
        assert searched(conn, "Putin")[0] == 9 and searched(conn, "罢工")[0] == 1
        for query in ("Putin", "罢工", "расписании", "Путин", "China", "两国"):
            expected = scan(conn, query)
            assert searched(conn, query) == (len(expected), expected)


# ---------------------------------------------------------------- raw pages


def kremlin_pages(count: int) -> list[bytes]:
    """Distinct pages of one site: the recorded Kremlin articles, each copy with its own number and line."""
    names = sorted(p.name for p in recorded("kremlin-en/news-63953.html").parent.glob("news-*.html"))
    bodies = [recorded(f"kremlin-en/{name}").read_bytes() for name in names]
    return [
        bodies[n % len(bodies)].replace(b"</h1>", f" no. {n}</h1><p>Line {n * 7919}.</p>".encode(), 1)
        for n in range(count)
    ]


@pytest.fixture
def fresh_cache(monkeypatch):
    """As a new process finds them: no dictionary or folder known."""
    monkeypatch.setattr(raw_store, "_FOLDERS", {})
    monkeypatch.setattr(raw_store, "_DICTIONARIES", {})


def dictionary_of(path: Path) -> int:
    return raw_store.zstd.get_frame_info(path.read_bytes()).dictionary_id


def test_raw_pages_are_byte_exact_and_share_a_dictionary_per_source(tmp_path, monkeypatch, fresh_cache):
    monkeypatch.setattr(raw_store, "DICT_FIRST", 12)
    monkeypatch.setattr(raw_store, "DICT_GROWTH", 3)
    pages = kremlin_pages(40)
    paths = [raw_store.raw_relpath("kremlin-en", f"{n:04d}") for n in range(len(pages))]
    for relpath, body in zip(paths, pages):
        save_raw(tmp_path, relpath, body, fsync=False)
    folder = tmp_path / "raw" / "kremlin-en"
    dicts = sorted(folder.glob("zstd-*.dict"), key=lambda p: int(p.name.split("-")[1]))
    assert [p.name.split("-")[1] for p in dicts] == ["12", "36"]  # at DICT_FIRST, then × DICT_GROWTH
    first, second = (int(p.stem.split("-")[2]) for p in dicts)
    used = [dictionary_of(tmp_path / p) for p in paths]
    assert set(used[:12]) == {first}  # written before it, compressed again with the first one
    assert set(used[12:35]) == {first} and set(used[36:]) == {second}
    sizes = sum((tmp_path / p).stat().st_size for p in paths[12:])
    alone = sum(len(raw_store.zstd.compress(b, raw_store.ZSTD_LEVEL)) for b in pages[12:])  # at the same level
    assert sizes < 0.65 * alone and sizes < 0.7 * sum(len(gzip.compress(b, 6)) for b in pages[12:])
    monkeypatch.setattr(raw_store, "_FOLDERS", {})  # a new process reads them all
    monkeypatch.setattr(raw_store, "_DICTIONARIES", {})
    assert [read_raw(tmp_path, p) for p in paths] == pages
    assert not list(folder.glob(".*.tmp"))


def test_old_gzip_pages_and_re_checks_stay_gzip(tmp_path, fresh_cache):
    body = kremlin_pages(1)[0]
    (tmp_path / "raw" / "s").mkdir(parents=True)
    (tmp_path / "raw/s/old.html.gz").write_bytes(gzip.compress(body))  # as newsmon wrote before
    save_raw(tmp_path, "raw/s/old.v2.html.gz", body)  # a re-check's version
    assert gzip.decompress((tmp_path / "raw/s/old.v2.html.gz").read_bytes()) == body
    item = {"raw_path": "raw/s/old.html.gz", "raw_encoding": "utf-8", "url": "http://en.kremlin.ru/x"}
    assert read_raw(tmp_path, "raw/s/old.html.gz") == body and load_page(tmp_path, item) == body.decode()


def test_a_page_whose_dictionary_is_gone_is_named_not_misread(tmp_path, monkeypatch, fresh_cache):
    monkeypatch.setattr(raw_store, "DICT_FIRST", 12)
    pages = kremlin_pages(14)
    for n, body in enumerate(pages):
        save_raw(tmp_path, f"raw/k/{n}.html.zst", body, fsync=False)
    for path in (tmp_path / "raw/k").glob("zstd-*.dict"):
        path.unlink()
    monkeypatch.setattr(raw_store, "_FOLDERS", {})
    monkeypatch.setattr(raw_store, "_DICTIONARIES", {})
    with pytest.raises(RawPageError, match="dictionary .* is missing"):
        read_raw(tmp_path, "raw/k/13.html.zst")
    item = {"raw_path": "raw/k/13.html.zst", "raw_encoding": "utf-8", "url": "http://k/13"}
    with pytest.raises(ExtractionError, match="raw page unreadable: raw/k/13.html.zst"):
        load_page(tmp_path, item)


def test_a_real_run_stores_zstd_pages_that_verify_and_re_extraction_read(tmp_path, site_server, newsmon):
    """More pages than DICT_FIRST from one source through `newsmon run`: one dictionary, every page written
    with it (those before it compressed again), `newsmon verify` clean, `newsmon digest --reextract` reads
    every page back and finds nothing changed."""
    count = raw_store.DICT_FIRST + 6
    pages = kremlin_pages(count)
    for n, body in enumerate(pages):
        site_server.routes[f"/news/{n}"] = Route(body)
    links = "".join(f'<li><a href="/news/{n}">{n}</a></li>' for n in range(count))
    site_server.routes["/news/"] = Route(f"<html><body><ul>{links}</ul></body></html>".encode())
    config = write_loopback_config(
        tmp_path / "c.toml",
        [
            {
                "id": "kremlin-en",
                "sections": [
                    {"id": "news", "kind": "listing", "url": f"{site_server.url}/news/", "link_pattern": r"/news/\d+$"}
                ],
            }
        ],
        crawler={"obey_robots": False, "autothrottle": False},
        translation={"enabled": False},
    )
    out = tmp_path / "out"
    run = newsmon("run", "--config", str(config), "--output", str(out), timeout=300)
    assert f"{count} new items" in run.stdout, run.stdout + run.stderr
    folder = out / "raw" / "kremlin-en"
    dicts = list(folder.glob("zstd-*.dict"))
    assert len(dicts) == 1 and not list(folder.glob("*.html.gz"))
    ident = int(dicts[0].stem.split("-")[2])
    with closing(state.connect(out)) as conn:
        items = [item_store.loads(r[0]) for r in conn.execute("SELECT json FROM items")]
    by_path = {f"/news/{n}": body for n, body in enumerate(pages)}
    for item in items:
        assert item["raw_path"].endswith(".html.zst") and dictionary_of(out / item["raw_path"]) == ident
        assert read_raw(out, item["raw_path"]) == by_path[item["url"].removeprefix(site_server.url)]
    verify = newsmon("verify", "--output", str(out))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    day = (
        items[0]["fetched_at"][:10]
        if (out / items[0]["fetched_at"][:10]).is_dir()
        else next(p.name for p in out.iterdir() if re.match(r"\d{4}-\d{2}-\d{2}$", p.name))
    )
    again = newsmon("digest", "--date", day, "--reextract", "--config", str(config), "--output", str(out))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "unreadable" not in again.stderr and "missing" not in again.stderr


# ---------------------------------------------------------------- digests


def test_digests_of_earlier_days_are_gzipped_unless_still_to_be_sent(tmp_path):
    days = ["2026-11-26", "2026-11-27", "2026-11-28"]
    for day in days:
        for name in digest_stage.DIGEST_FILES:
            (tmp_path / day).mkdir(exist_ok=True)
            (tmp_path / day / name).write_text(f"{name} of {day}\n" * 50, encoding="utf-8")
    with closing(state.connect(tmp_path)) as conn:
        conn.execute(
            "INSERT INTO digest_deliveries(day, channel, status, items, alerts) "
            "VALUES ('2026-11-27', 'editors', 'undelivered', 3, 0)"
        )
        assert digest_stage.gzip_old_digests(conn, tmp_path, "2026-11-28") == 2
        assert digest_stage.gzip_old_digests(conn, tmp_path, "2026-11-28") == 0
    assert sorted(p.name for p in (tmp_path / "2026-11-26").iterdir()) == ["digest.html.gz", "digest.txt.gz"]
    assert (
        gzip.decompress((tmp_path / "2026-11-26/digest.txt.gz").read_bytes())
        == ("digest.txt of 2026-11-26\n" * 50).encode()
    )
    for day in days[1:]:  # to be sent (mail reads the plain file), and today's
        assert sorted(p.name for p in (tmp_path / day).iterdir()) == ["digest.html", "digest.txt"]
    assert not any(p.name.startswith(".") for p in tmp_path.rglob("*"))


def test_a_digest_built_again_is_plain_and_its_gzipped_copy_goes(tmp_path):
    out = tmp_path
    digestkit.standard_day(out)
    digest_stage.build(out, digestkit.DAY)
    with closing(state.connect(out)) as conn:
        assert digest_stage.gzip_old_digests(conn, out, "2026-12-01") == 2
    digest_stage.build(out, digestkit.DAY)
    assert sorted(p.name for p in (out / digestkit.DAY).glob("digest.*")) == ["digest.html", "digest.txt"]
    assert os.path.getsize(out / digestkit.DAY / "digest.txt") > 0


def test_the_pages_an_aged_out_stories_index_held_go_back_to_the_file_system(tmp_path):
    from crawler.store import dayfiles
    from crawler.stories.index import StorySettings
    from crawler.stories.stage import update_stories
    from tests.storekit import make_item

    day, now = "2026-11-28", 1795867200.0  # 2026-11-28T12:00Z: the items' day
    items = [make_item(n, ("zh", "ru", "en")[n % 3], day) for n in range(600)]
    settings = StorySettings()  # index_days = 14
    with closing(state.connect(tmp_path)) as conn:
        assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # INCREMENTAL: a new file
        with state.transaction(conn):
            for item in items:
                item_store.insert(conn, item, day)
        update_stories(conn, tmp_path, settings, now=now)
        indexed = conn.execute("SELECT count(*) FROM story_bands").fetchone()[0]
        update_stories(conn, tmp_path, settings, now=now + 15 * 86400)  # index_days (14) later: all age out
        assert indexed > 0 and conn.execute("SELECT count(*) FROM story_bands").fetchone()[0] == 0
        free, pages = (conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("freelist_count", "page_count"))
        assert free > pages * state.FREE_SHARE_KEPT
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    dayfiles.export_now(tmp_path)  # what a run ends with
    assert state.db_path(tmp_path).stat().st_size < (pages - 0.9 * free) * page_size  # the file itself shrank
    with closing(state.connect(tmp_path)) as conn:
        assert conn.execute("PRAGMA freelist_count").fetchone()[0] == 0
        loaded = item_store.load(conn, [i["id"] for i in items])
        assert [loaded[i["id"]][1]["text"] for i in items] == [i["text"] for i in items]  # every item still whole


def test_a_file_made_before_keeps_its_free_pages_until_newsmon_state_compact(tmp_path, newsmon):
    db = state.db_path(tmp_path)
    db.write_bytes(gzip.decompress((LEGACY / "state.sqlite.gz").read_bytes()))
    with closing(state.connect(tmp_path)) as conn:
        assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 0  # SQLite's default, as made then
        stored = {ident: item_store.loads(row) for ident, row in conn.execute("SELECT id, json FROM items")}
        with state.transaction(conn):
            conn.execute("DELETE FROM item_changes")
            conn.execute("DELETE FROM search_docs")
        pages, free, page_size = (
            conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "freelist_count", "page_size")
        )
        assert free > pages * state.FREE_SHARE_KEPT
        assert state.release_free_pages(conn) == 0  # kept for reuse: giving them back takes a VACUUM
        assert conn.execute("PRAGMA page_count").fetchone()[0] == pages

    done = newsmon("state", "compact", "--output", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert f"{db}: " in done.stdout and " MB → " in done.stdout
    assert db.stat().st_size <= (pages - free) * page_size
    with closing(state.connect(tmp_path)) as conn:
        assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # given back after each run from now on
        assert {ident: item_store.loads(row) for ident, row in conn.execute("SELECT id, json FROM items")} == stored


def test_free_pages_wait_for_the_next_run_while_another_process_writes(tmp_path):
    with closing(state.connect(tmp_path)) as conn:
        with state.transaction(conn):
            conn.executemany(
                "INSERT INTO item_changes(item_id, day, fields) VALUES (?, '', '*')", [("x" * 900,)] * 3000
            )
        conn.execute("DELETE FROM item_changes")
        conn.execute("PRAGMA busy_timeout = 100")  # instead of 30 s
        with closing(sqlite3.connect(state.db_path(tmp_path), isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")  # a writer holding the lock
            assert state.release_free_pages(conn) == 0
            other.execute("ROLLBACK")
        assert state.release_free_pages(conn) > 0
        assert conn.execute("PRAGMA freelist_count").fetchone()[0] == 0
