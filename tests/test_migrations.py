"""Schema migrations of the state DB (crawler/store/migrate.py): a DB written by the previous newsmon
(tests/resources/legacy-db, ``user_version`` 0) is upgraded losing nothing, with a backup first; a DB of a
newer newsmon is refused untouched; every step applies once.

The legacy DB is read with plain sqlite3 before any newsmon code opens it ("before"), then through the real
CLI in subprocesses; the loopback site it was crawled from (tests/crawlsite.py) is served again on the same
port, since its items' ids are hashes of URLs that name that port.
"""

from __future__ import annotations

import gzip
import sqlite3
import time
from contextlib import closing
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler import state
from crawler.features import schema_packages
from crawler.localsite import SiteServer
from crawler.store import items as item_store
from crawler.store import migrate
from crawler.store.published import normalised
from tests.crawlsite import serve_all, site_config
from tests.storekit import db_items, env_for, make_item, newsmon, ok, user_version, write_jsonl

LEGACY = Path(__file__).resolve().parent / "resources" / "legacy-db"
# The [[watch]] the legacy DB was made with (its README).
LEGACY_WATCH = '\n[[watch]]\nname = "putin"\nphrases = ["Putin", "Путин*", "普京"]\n'
COUNTED = (
    "watch_hits",
    "events",
    "section_states",
    "runs",
    "articles",
    "article_pages",
    "section_snapshots",
    "http_validators",
    "story_items",
)


def unpack_legacy(tmp_path: Path) -> tuple[Path, str]:
    """The committed legacy DB and its day file, gunzipped into ``tmp_path/out``. Returns (out, day)."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "state.sqlite").write_bytes(gzip.decompress((LEGACY / "state.sqlite.gz").read_bytes()))
    with closing(sqlite3.connect(out / "state.sqlite")) as conn:
        (day,) = {r[0] for r in conn.execute("SELECT DISTINCT day FROM items")}
    (out / day).mkdir()
    (out / day / "items.jsonl").write_bytes(gzip.decompress((LEGACY / "items.jsonl.gz").read_bytes()))
    return out, day


def snapshot(db: Path) -> dict:
    """What must survive an upgrade, read with plain sqlite3: every item's JSON (parsed) and row counts."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return {
            "items": {i: item_store.loads(j) for i, j in conn.execute("SELECT id, json FROM items")},
            "counts": {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COUNTED},
            "version": conn.execute("PRAGMA user_version").fetchone()[0],
        }


def without_contexts(item: dict) -> dict:
    """``item`` with its watch hits as they were before they kept their keyword in context."""
    if "watch" not in item:
        return item
    return {**item, "watch": [{k: v for k, v in hit.items() if k != "contexts"} for hit in item["watch"]]}


def raw_paths(items: dict[str, dict]) -> set[str]:
    """Every raw page the items name (the article's and its further pages')."""
    paths = set()
    for item in items.values():
        paths.add(item["raw_path"])
        paths.update(p["raw_path"] for p in (item.get("extras") or {}).get("pages", [])[1:] if p.get("raw_path"))
    return paths


def serve_on(port: int) -> SiteServer:
    """The crawl tests' site on ``port`` (the legacy items' URLs name it); a moment's retry if it is busy."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return serve_all(SiteServer(port=port)).start()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


# ---------------------------------------------------------------- 4. the legacy DB


def test_legacy_db_is_upgraded_losing_nothing_and_crawls_on(tmp_path):
    """The DB of the previous newsmon (schema without migrations, ``user_version`` 0) opened by
    ``newsmon verify``: upgraded to the newest step with ``state.sqlite.v0.bak`` written first; every item
    (id and JSON), watch hit, event, section state and run kept; the day file consistent with the upgraded
    DB but for the publication dates the upgrade put in one form (``crawler.store.published``: their lines
    are exported again by the next command that exports; the other problems are the raw pages, which were
    not committed); then a ``newsmon run`` against the same site lands 0 new items and fetches no article
    again."""
    env = env_for(tmp_path)
    out, day = unpack_legacy(tmp_path)
    db = out / "state.sqlite"
    before = snapshot(db)
    assert before["version"] == 0 and len(before["items"]) == 24
    assert before["counts"]["watch_hits"] == 9 and before["counts"]["events"] == 22  # as its README says
    legacy_bytes = db.read_bytes()
    day_file = (out / day / "items.jsonl").read_bytes()

    found = newsmon("verify", "--output", out, env=env)
    assert found.returncode == 1, found.stdout + found.stderr
    problems = found.stdout.splitlines()
    assert problems[-1] == f"1 day(s), 24 item(s): {len(problems) - 1} problem(s)"
    expected = {
        f"{out / rel}: raw page of item {ident} missing"
        for ident, item in before["items"].items()
        for rel in raw_paths({ident: item})
    }
    redated = [ident for ident, item in before["items"].items() if normalised(item) is not item]
    assert redated and all(before["items"][i]["published_at"] for i in redated)
    differ = {p for p in problems[:-1] if p.endswith("differs from the state DB")}
    assert {p.split(": item ")[1].split()[0] for p in differ} == set(redated), found.stdout
    assert set(problems[:-1]) - differ == expected and len(problems) - 1 - len(differ) == len(expected)
    assert "Traceback" not in found.stderr

    after = snapshot(db)
    assert after["version"] == migrate.latest()
    assert after["items"] == {i: normalised(item) for i, item in before["items"].items()}
    assert {item["published_precision"] for item in after["items"].values() if item["published_at"]} <= {"date", "time"}
    assert after["counts"] == before["counts"]
    assert (out / day / "items.jsonl").read_bytes() == day_file

    backup = out / "state.sqlite.v0.bak"
    assert backup.is_file()
    kept = snapshot(backup)
    assert kept == before  # the old schema and content, readable
    with closing(sqlite3.connect(backup)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'watch_pending'").fetchone()[0] == 1
    assert legacy_bytes != db.read_bytes()  # upgraded in place, the backup beside it

    # With the raw pages back (empty stand-ins: verify checks that they exist) and the redated lines
    # exported (as any run or exporting command does), nothing is left to say.
    for rel in raw_paths(before["items"]):
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(b"")
    ok(newsmon("verify", "--repair", "--output", out, env=env))
    assert ok(newsmon("verify", "--output", out, env=env)).stdout.splitlines() == ["1 day(s), 24 item(s): consistent"]

    port = urlsplit(next(iter(before["items"].values()))["url"]).port
    server = serve_on(port)
    try:
        config = tmp_path / "site.toml"
        config.write_text(site_config(server) + LEGACY_WATCH, encoding="utf-8")
        run = ok(newsmon("run", "--config", config, "--output", out, env=env))
    finally:
        server.stop()
    assert "run 2: ok; 0 new items" in run.stdout, run.stdout
    fetched = {path for _m, path, status in server.log}
    articles = {urlsplit(item["url"]).path for item in before["items"].values()}
    assert not fetched & articles, f"fetched again: {sorted(fetched & articles)}"
    final = snapshot(db)
    # the run matched the items with watch hits again, which gave each hit its keyword in context (step 17)
    assert all(hit.get("contexts") for item in final["items"].values() for hit in item.get("watch", []))
    assert {i: without_contexts(item) for i, item in final["items"].items()} == after["items"]
    assert final["counts"] == {
        **before["counts"],
        "runs": before["counts"]["runs"] + 1,
        "section_snapshots": final["counts"]["section_snapshots"],
    }
    assert final["counts"]["section_snapshots"] > before["counts"]["section_snapshots"]
    assert ok(newsmon("verify", "--output", out, env=env)).stdout.endswith("24 item(s): consistent\n")


# ---------------------------------------------------------------- 5. a DB of a newer newsmon


@pytest.fixture
def newer_db(tmp_path) -> Path:
    """A state DB as this newsmon makes it (WAL), then marked as written by the next version of it."""
    out = tmp_path / "out"
    state.connect(out).close()
    db = state.db_path(out)
    with closing(sqlite3.connect(db)) as conn:
        conn.execute(f"PRAGMA user_version = {migrate.latest() + 1}")
    return db


def assert_refused(proc, db: Path) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("newsmon: error: ") and str(db) in lines[0] and "newer" in lines[0], lines[0]


def test_db_of_a_newer_newsmon_is_refused_untouched(tmp_path, newer_db):
    """``newsmon status`` and ``newsmon run`` refuse a DB whose ``user_version`` is past the newest step:
    one line on stderr naming the file and "newer", exit status 2, the DB's bytes unchanged, no backup, no
    page fetched, no day file written."""
    env = env_for(tmp_path)
    out = newer_db.parent
    data = newer_db.read_bytes()
    assert_refused(newsmon("status", "--output", out, env=env), newer_db)
    server = serve_all(SiteServer()).start()
    try:
        config = tmp_path / "site.toml"
        config.write_text(site_config(server), encoding="utf-8")
        assert_refused(newsmon("run", "--config", config, "--output", out, env=env), newer_db)
    finally:
        server.stop()
    assert not [entry for entry in server.log if entry[1] != "/robots.txt"], server.log
    assert newer_db.read_bytes() == data
    assert user_version(newer_db) == migrate.latest() + 1
    assert not list(out.glob("state.sqlite.v*.bak")) and not list(out.glob("*/items.jsonl"))


def test_db_of_a_newer_newsmon_in_rollback_journal_mode_is_refused_untouched(tmp_path):
    """The same refusal for a DB in SQLite's default (rollback journal) mode: not even its journal mode may
    change."""
    out = tmp_path / "out"
    out.mkdir()
    db = out / "state.sqlite"
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("CREATE TABLE items (id TEXT PRIMARY KEY, day TEXT NOT NULL, json TEXT NOT NULL)")
        conn.execute(f"PRAGMA user_version = {migrate.latest() + 1}")
    data = db.read_bytes()
    assert_refused(newsmon("status", "--output", out, env=env_for(tmp_path)), db)
    assert db.read_bytes() == data


# ---------------------------------------------------------------- 6. each step once


def test_steps_are_numbered_once_and_named_by_the_pattern():
    """``steps()``: strictly increasing unique numbers, each from a file named ``NNNN_<name>.sql|py``; and
    no file in a schema folder is skipped for a name the pattern does not match (it would never run)."""
    numbers = [s.number for s in migrate.steps()]
    assert numbers and numbers == sorted(set(numbers)) and numbers[-1] == migrate.latest()
    named: list[int] = []
    overrides: list[int] = []
    for package in schema_packages():
        for entry in resources.files(package).joinpath("schema").iterdir():
            if entry.name in ("__init__.py", "__pycache__"):
                continue
            assert migrate.STEP_NAME.match(entry.name), f"{package}.schema: {entry.name} is not NNNN_<name>.sql|py"
            (overrides if ".postgresql." in entry.name else named).append(int(entry.name[:4]))
    assert sorted(named) == numbers  # every file is a step, every step a file
    assert set(overrides) <= set(numbers)  # a PostgreSQL file stands in for a step
    assert {s.name for s in migrate.steps()} >= {"core", "item_store"}


def test_opening_a_db_again_runs_no_step(tmp_path):
    """A fresh DB gets every step once; the legacy DB every step past 0 once, then opening either again
    (in this process and through the CLI) applies nothing: same ``user_version``, same schema and content,
    the backup left as it was."""
    fresh = tmp_path / "fresh.sqlite"
    with closing(sqlite3.connect(fresh, isolation_level=None)) as conn:
        assert migrate.migrate(conn, fresh) == len(migrate.steps())
        assert migrate.migrate(conn, fresh) == 0
    assert user_version(fresh) == migrate.latest() and not list(tmp_path.glob("fresh.sqlite.v*.bak"))

    out, _day = unpack_legacy(tmp_path)
    db = out / "state.sqlite"
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        assert migrate.migrate(conn, db) == len([s for s in migrate.steps() if s.number > 0])
        dump = list(conn.iterdump())
        assert migrate.migrate(conn, db) == 0
        assert list(conn.iterdump()) == dump  # schema and content: not one row touched
    schema = schema_of(db)
    backup = out / "state.sqlite.v0.bak"
    stamp = (backup.stat().st_mtime_ns, backup.read_bytes())

    env = env_for(tmp_path)
    source = write_jsonl(tmp_path / "one.jsonl", [make_item(1, "en", "2026-12-03")])
    for _ in range(2):  # two more openings, each a new process
        proc = ok(newsmon("import", source, "--output", out, env=env))
        assert "upgrad" not in proc.stderr and "backup" not in proc.stderr, proc.stderr
    assert user_version(db) == migrate.latest()
    assert schema_of(db) == schema  # no step ran again (nor a table came back)
    assert (backup.stat().st_mtime_ns, backup.read_bytes()) == stamp
    assert len(db_items(db)) == 25  # the second import added nothing


def schema_of(db: Path) -> list[tuple]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
