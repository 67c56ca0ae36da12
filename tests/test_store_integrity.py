"""The state DB is the one source of truth for items; the day files (``output/<day>/items.jsonl``) are its
export. These tests hold that promise against what really happens to an output directory:

* commands that update items in place (``newsmon translate --pending``, ``newsmon watch --rematch``) killed
  with SIGKILL at seeded random instants: a reader of the day files never sees a torn line, a lost item or
  an id twice — before, during and after each kill — and a final complete command leaves everything
  consistent (``newsmon verify`` exits 0), each item exactly once;
* a damaged day file (a torn last line, a removed line) is found by ``newsmon verify`` and restored by
  ``newsmon verify --repair`` — not by a plain ``newsmon run``, which writes only the days whose items changed;
* a lost ``state.sqlite`` is rebuilt by ``newsmon import output/*/items.jsonl``: same items, idempotent, and
  the next run fetches nothing again as new.

Everything runs for real: the CLI in subprocesses, the loopback site of the crawl tests (tests/crawlsite.py),
SQLite files, the tiny translation model built at test time (tests/tinymodel.py).
"""

from __future__ import annotations

import json
import random
import shutil
from contextlib import closing
from pathlib import Path

import pytest

from crawler.config import load_config
from crawler.localsite import SiteServer
from crawler.store import dayfiles
from crawler.store import items as item_store
from crawler.watch.matcher import Matcher
from crawler.watch.settings import watches_of
from tests.crawlsite import EXPECTED, serve_all, site_config
from tests.storekit import (
    day_files,
    db_count,
    db_items,
    env_for,
    kill_in_state,
    kill_when,
    make_item,
    newsmon,
    ok,
    read_day_files,
    ro,
    start,
    write_jsonl,
)
from tests.tinymodel import build_package

SEED = 20261203
DAYS = ["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04"]
TRANSLATION = """\
[translation]
beam_size = 2
batch_size = 8
max_decoding_length = 12
items_per_chunk = 2        # a commit every 2 items: kills land between in-place updates
"""
WATCH_A = '[[watch]]\nname = "putin"\nphrases = ["Putin", "Путин*", "普京"]\n'
WATCH_B = '[[watch]]\nname = "lavrov"\nphrases = ["Lavrov", "Лавров*", "王毅"]\n'


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def packages_dir(tmp_path_factory) -> Path:
    """zh→en and ru→en tiny real models, installed once for the module with ``newsmon models install``."""
    tmp = tmp_path_factory.mktemp("models")
    files = [build_package(tmp / "files", lang=lang, seed=i) for i, lang in enumerate(("zh", "ru"))]
    ok(newsmon("models", "install", "--file", files[0], "--file", files[1], env=env_for(tmp, tmp / "packages")))
    return tmp / "packages"


@pytest.fixture(scope="module")
def site():
    """The crawl tests' loopback site (every monitored site's pages), one server for the module."""
    server = serve_all(SiteServer()).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def crawled(site, tmp_path_factory) -> tuple[Path, Path]:
    """(config, output dir) of one complete ``newsmon run`` over the site, no translation model: tests copy
    the output directory and run again against the same server (same URLs, same item ids)."""
    tmp = tmp_path_factory.mktemp("crawled")
    config = tmp / "site.toml"
    config.write_text(site_config(site), encoding="utf-8")
    out = tmp / "out"
    proc = ok(newsmon("run", "--config", config, "--output", out, env=env_for(tmp)))
    assert f"{len(EXPECTED)} new items" in proc.stdout, proc.stdout
    return config, out


def copy_output(crawled, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(crawled[1], out)
    return out


def generated(tmp_path: Path, count: int, langs: tuple[str, ...], days: list[str] = DAYS) -> tuple[Path, list[dict]]:
    items = [make_item(n, langs[n % len(langs)], days[n % len(days)]) for n in range(count)]
    return write_jsonl(tmp_path / "generated.jsonl", items), items


def ids_by_day(items: list[dict]) -> dict[str, list[str]]:
    """Day → ids in import order (= line order of its day file)."""
    out: dict[str, list[str]] = {}
    for item in items:
        out.setdefault(item["fetched_at"][:10], []).append(item["id"])
    return out


def quick_view(out: Path) -> dict[str, list[str]]:
    """Day → ids, read fast (no JSON parsing) while a command runs: every line whole (ends the file with a
    newline, opens as an item object, closes as one)."""
    view = {}
    for path in day_files(out):
        data = dayfiles.read_day_file(path)
        assert not data or data.endswith(b"\n"), f"{path}: torn last line"
        ids = []
        for raw in data.splitlines():
            assert raw.startswith(b'{"id":"') and raw.endswith(b"}"), f"{path}: not a whole item line: {raw[:60]!r}"
            ids.append(raw[7 : raw.index(b'"', 7)].decode())
        view[path.parent.name] = ids
    return view


def kill_mid_export(proc, out: Path, db: Path, expected: dict[str, list[str]], *, sure: bool = True) -> bool:
    """SIGKILL ``proc`` while it writes a day file (its temp file stands), so the temp file stays behind as a
    real kill mid-write leaves it: from its first commit on, the process runs in short bursts and is looked
    at while it stands still. ``sure``: the command has day files to write (else it may end without one)."""
    with closing(ro(db)) as conn:
        version = lambda: conn.execute("PRAGMA data_version").fetchone()[0]  # noqa: E731
        first = version()
        own = lambda: bool(list(Path(out).glob(f"*/.items.jsonl*.{proc.pid}.tmp")))  # noqa: E731
        killed = kill_in_state(proc, lambda: version() != first, own, lambda: assert_reader_view(out, expected))
    assert not sure or (killed and own()), "the kill missed the export"
    return killed


def assert_reader_view(out: Path, expected: dict[str, list[str]]) -> None:
    view = quick_view(out)
    assert view == expected, "a reader of the day files sees items lost, added, duplicated or reordered"


def verify(out: Path, env: dict, *extra: str):
    return newsmon("verify", "--output", out, *extra, env=env)


# ---------------------------------------------------------------- 1. kills during in-place updates


def test_translate_pending_killed_at_random_instants(tmp_path, packages_dir):
    """``newsmon translate --pending`` over 36 zh/ru items (and 9 English), SIGKILLed at seeded random
    instants: at startup, right after one of its per-chunk commits, while it writes a day file, after its
    last commit.
    A reader polling the day files meanwhile, and after each kill, sees every item exactly once, in order,
    each line whole and either the imported line or the DB's current one; a final complete run translates
    the rest and ``newsmon verify`` finds nothing to say."""
    env = env_for(tmp_path, packages_dir)
    out, config = tmp_path / "out", tmp_path / "t.toml"
    config.write_text(TRANSLATION, encoding="utf-8")
    days = [f"2026-09-{d:02d}" for d in range(1, 16)]  # 15 day files: the export takes a while
    source, items = generated(tmp_path, 45, ("zh", "ru", "zh", "ru", "en"), days)
    originals = {i["id"]: i for i in items}
    to_translate = {i["id"] for i in items if i["lang"] in ("zh", "ru")}
    assert len(to_translate) == 36
    ok(newsmon("import", source, "--output", out, "--config", config, env=env))
    expected = ids_by_day(items)
    assert_reader_view(out, expected)
    db = out / "state.sqlite"

    def done() -> int:
        return db_count(db, "SELECT count(*) FROM items WHERE translation_status = 'done'")

    rng = random.Random(SEED)
    # (what to wait for, extra delay): "start" = the process is spawned; a fraction f = f of the items
    # still pending are translated (committed); "export" = a day file is being written (its temp file
    # stands; up to 14 days still to write); 1.0 = every item committed (the export runs or has run).
    points = [
        ("start", rng.uniform(0.05, 0.35)),
        (rng.uniform(0.1, 0.6), rng.uniform(0, 0.01)),
        ("start", rng.uniform(0.05, 0.35)),
        (rng.uniform(0.1, 0.6), rng.uniform(0, 0.01)),
        (rng.uniform(0.1, 0.6), rng.uniform(0, 0.01)),
        ("export", 0.0),
        (1.0, rng.uniform(0, 0.02)),
    ]
    hits, partial = 0, 0
    for trigger, delay in points:
        before = done()
        if trigger == "start":
            ready = lambda: True  # noqa: E731
        elif trigger == "export":
            ready = None  # set once the pid is known
        else:
            target = min(len(to_translate), before + max(1, round(trigger * (len(to_translate) - before))))
            ready = lambda target=target: done() >= target  # noqa: E731
        proc = start("translate", "--pending", "--output", out, "--config", config, env=env)
        if trigger == "export":  # sure to export when items are left to translate
            hits += kill_mid_export(proc, out, db, expected, sure=before < len(to_translate))
        else:
            hits += kill_when(proc, ready, delay, lambda: assert_reader_view(out, expected))
        after = done()
        partial += 0 < after < len(to_translate)
        _check_lines(out, expected, originals, db_items(db))
    assert hits >= 4, f"only {hits} of {len(points)} kills hit a running process"
    assert partial >= 1, "no kill landed between two in-place updates"

    final = ok(newsmon("translate", "--pending", "--output", out, "--config", config, env=env))
    assert "0 failed, 0 still pending" in final.stdout or final.stdout.strip() == "nothing to translate", final.stdout
    check = verify(out, env)
    assert check.returncode == 0 and check.stdout.splitlines() == [f"{len(days)} day(s), 45 item(s): consistent"], (
        check.stdout + check.stderr
    )
    seen = read_day_files(out)  # each item exactly once, in import order
    assert {day: [i["id"] for i in lines] for day, lines in seen.items()} == expected
    rows = db_items(db)
    for item in (i for lines in seen.values() for i in lines):
        assert item == rows[item["id"]]
        status = item["translation"]["status"]
        if item["id"] in to_translate:
            assert status == "done" and item["title_en"] and len(item["paragraphs_en"]) == 3, item["id"]
        else:
            assert status == "not_needed" and item == originals[item["id"]]
        assert {k: v for k, v in item.items() if k not in ("title_en", "text_en", "paragraphs_en", "translation")} == {
            k: v
            for k, v in originals[item["id"]].items()
            if k not in ("title_en", "text_en", "paragraphs_en", "translation")
        }


def _check_lines(out: Path, expected: dict, originals: dict, rows: dict) -> None:
    """After a kill: whole lines, every item once, each line the imported one or the DB's current one (the
    file never shows a version the DB does not hold)."""
    seen = read_day_files(out)
    assert {day: [i["id"] for i in lines] for day, lines in seen.items()} == expected
    for item in (i for lines in seen.values() for i in lines):
        assert item == originals[item["id"]] or item == rows[item["id"]], item["id"]


def test_watch_rematch_killed_at_random_instants(tmp_path):
    """``newsmon watch --rematch`` over 1500 items (three chunks of 500, each its own transaction),
    alternating between two ``[[watch]]`` configs so every rematch rewrites hundreds of items in place,
    SIGKILLed at seeded random instants. Meanwhile and after each kill a reader of the day files sees every
    item once, in order, whole, differing from the imported item only by a ``watch`` field one of the configs
    gives it; in the DB every item's ``watch`` field and its ``watch_hits`` rows agree (one transaction).
    A final complete rematch leaves day files, hits and DB consistent (``newsmon verify`` exits 0)."""
    env = env_for(tmp_path)
    out = tmp_path / "out"
    configs = {}
    for name, text in (("putin", WATCH_A), ("lavrov", WATCH_B)):
        configs[name] = tmp_path / f"{name}.toml"
        configs[name].write_text(text, encoding="utf-8")
    source, items = generated(tmp_path, 1500, ("zh", "ru", "en"))
    originals = {i["id"]: i for i in items}
    ok(newsmon("import", source, "--output", out, env=env))
    expected = ids_by_day(items)
    # What each config makes of each item: the matcher's verdict, computed here once.
    field = {name: {} for name in configs}
    for name, path in configs.items():
        matcher = Matcher(watches_of(load_config(path, output_dir=out)))
        for item in items:
            hits = [h.as_field() for h in matcher.match(item)]
            if hits:
                field[name][item["id"]] = hits
    assert 400 < len(field["putin"]) < 1500 and 400 < len(field["lavrov"]) < 1500
    db = out / "state.sqlite"

    def hits_of(name: str) -> int:
        return db_count(db, f"SELECT count(*) FROM watch_hits WHERE watch = '{name}'")

    rng = random.Random(SEED + 1)
    names = ["putin", "lavrov"] * 4
    # As for translate: "start", a fraction of the hits still to write committed, "export" (a day file
    # being written), or all hits committed (1.0).
    points = [
        ("start", rng.uniform(0.05, 0.4)),
        (rng.uniform(0.05, 0.5), rng.uniform(0, 0.01)),
        ("start", rng.uniform(0.05, 0.4)),
        (rng.uniform(0.05, 0.5), rng.uniform(0, 0.01)),
        (rng.uniform(0.05, 0.5), rng.uniform(0, 0.01)),
        ("export", 0.0),
        (1.0, rng.uniform(0, 0.02)),
        ("export", 0.0),
    ]
    hits, partial = 0, 0
    for name, (trigger, delay) in zip(names, points):
        before = hits_of(name)
        if trigger == "start":
            ready = lambda: True  # noqa: E731
        elif trigger == "export":
            ready = None  # set once the pid is known
        else:
            target = min(len(field[name]), before + max(1, round(trigger * (len(field[name]) - before))))
            ready = lambda name=name, target=target: hits_of(name) >= target  # noqa: E731
        proc = start("watch", "--rematch", "--output", out, "--config", configs[name], env=env)
        if trigger == "export":
            hits += kill_mid_export(proc, out, db, expected)
        else:
            hits += kill_when(proc, ready, delay, lambda: assert_reader_view(out, expected))
        partial += 0 < hits_of(name) < len(field[name])
        rows = db_items(db)
        seen = read_day_files(out)
        assert {day: [i["id"] for i in lines] for day, lines in seen.items()} == expected
        for item in [i for lines in seen.values() for i in lines] + list(rows.values()):
            watch = item.pop("watch", None)
            assert item == originals[item["id"]], item["id"]
            assert watch in (None, field["putin"].get(item["id"]), field["lavrov"].get(item["id"])), item["id"]
        _assert_hits_agree(db)
    assert hits >= 5, f"only {hits} of {len(points)} kills hit a running process"
    assert partial >= 1, "no kill landed between two chunks of in-place updates"

    final = ok(newsmon("watch", "--rematch", "--output", out, "--config", configs["putin"], env=env))
    assert f"rematched 1500 items against 1 watch: {len(field['putin'])} hits" in final.stdout, final.stdout
    check = verify(out, env)
    assert check.returncode == 0 and check.stdout.splitlines() == [f"{len(DAYS)} day(s), 1500 item(s): consistent"], (
        check.stdout + check.stderr
    )
    seen = read_day_files(out)
    assert {day: [i["id"] for i in lines] for day, lines in seen.items()} == expected
    for item in (i for lines in seen.values() for i in lines):
        assert item.pop("watch", None) == field["putin"].get(item["id"]) and item == originals[item["id"]]
    _assert_hits_agree(db)
    assert db_count(db, "SELECT count(*) FROM watch_hits WHERE watch <> 'putin'") == 0
    alerts = [json.loads(line) for line in (out / "alerts.jsonl").read_text("utf-8").splitlines()]
    assert len({a["id"] for a in alerts}) == len(alerts), "an event announced twice"


def _assert_hits_agree(db: Path) -> None:
    """Every item's ``watch`` field names exactly its ``watch_hits`` rows (written in one transaction)."""
    with closing(ro(db)) as conn:
        rows = {(i, w) for i, w in conn.execute("SELECT item_id, watch FROM watch_hits")}
        fields = {
            (ident, hit["name"])
            for ident, text in conn.execute("SELECT id, json FROM items")
            for hit in item_store.loads(text).get("watch", [])
        }
    assert rows == fields


# ---------------------------------------------------------------- 2. a damaged day file


def test_verify_names_and_repair_restores_a_torn_and_a_removed_line(tmp_path, site, crawled):
    """A torn last line (the file cut mid-line) and a removed line are each named by ``newsmon verify``
    (exit 1, the file's path in the line) and restored by ``newsmon verify --repair`` to the exact bytes the
    file had. A plain ``newsmon run`` does NOT restore them: a run writes only the day files whose items
    changed (and those an earlier run could not write), so a day damaged behind its back stays damaged until
    ``newsmon verify --repair`` — the tool for it."""
    config, _ = crawled
    out = copy_output(crawled, tmp_path)
    env = env_for(tmp_path)
    (path,) = day_files(out)
    good = path.read_bytes()
    lines = good.splitlines(keepends=True)
    assert len(lines) == len(EXPECTED) and ok(verify(out, env)).stdout.endswith("consistent\n")

    torn = good[: len(good) - len(lines[-1]) // 2]  # the last line cut in its middle
    path.write_bytes(torn)
    found = verify(out, env)
    assert found.returncode == 1, found.stdout + found.stderr
    problems = found.stdout.splitlines()[:-1]
    assert problems and all(line.startswith(str(path)) for line in problems), found.stdout
    assert any("torn" in line for line in problems), found.stdout

    rerun = ok(newsmon("run", "--config", config, "--output", out, env=env))
    assert "0 new items" in rerun.stdout
    assert path.read_bytes() == torn, "a run rewrote a day none of whose items changed"
    assert verify(out, env).returncode == 1

    repaired = verify(out, env, "--repair")
    assert repaired.returncode == 0 and "repaired: 1 day file(s) written" in repaired.stdout, repaired.stdout
    assert path.read_bytes() == good
    assert ok(verify(out, env)).stdout.splitlines() == [f"1 day(s), {len(EXPECTED)} item(s): consistent"]

    removed = json.loads(lines[7])["id"]
    path.write_bytes(b"".join(lines[:7] + lines[8:]))
    found = verify(out, env)
    assert found.returncode == 1
    assert found.stdout.splitlines()[:-1] == [f"{path}: item {removed} missing"], found.stdout
    ok(verify(out, env, "--repair"))
    assert path.read_bytes() == good
    ok(verify(out, env))


# ---------------------------------------------------------------- 3. a lost state DB


def test_lost_state_db_is_rebuilt_by_import_and_nothing_is_fetched_again(tmp_path, site, crawled):
    """``state.sqlite`` deleted: ``newsmon import output/*/items.jsonl`` brings back every item (same ids,
    same JSON, the day file unchanged); importing again adds nothing; the next ``newsmon run`` against the
    same site fetches no article again (each is known by its canonical URL) and lands 0 new items."""
    config, _ = crawled
    out = copy_output(crawled, tmp_path)
    env = env_for(tmp_path)
    db = out / "state.sqlite"
    before = db_items(db)
    assert len(before) == len(EXPECTED)
    files = day_files(out)
    file_bytes = {p: p.read_bytes() for p in files}
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)

    first = ok(newsmon("import", *files, "--output", out, env=env))
    assert (
        first.stdout.strip() == f"{len(EXPECTED)} line(s) read: {len(EXPECTED)} imported, 0 already stored, 0 rejected"
    )
    assert db_items(db) == before
    assert {p: p.read_bytes() for p in files} == file_bytes

    again = ok(newsmon("import", *files, "--output", out, env=env))
    assert (
        again.stdout.strip() == f"{len(EXPECTED)} line(s) read: 0 imported, {len(EXPECTED)} already stored, 0 rejected"
    )
    assert db_items(db) == before

    site.clear_log()
    rerun = ok(newsmon("run", "--config", config, "--output", out, env=env))
    assert "0 new items" in rerun.stdout, rerun.stdout
    fetched = {path for _m, path, status in site.log}
    assert not fetched & set(EXPECTED), f"fetched again: {sorted(fetched & set(EXPECTED))}"
    assert not [p for p in fetched if p.startswith("/n1/2019/0615/c1013-31153719-")], "a further page fetched again"
    after = db_items(db)
    assert after.keys() == before.keys()
    ok(verify(out, env))
