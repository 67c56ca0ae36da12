"""Day files of earlier days are gzipped: the newest day's stays plain (the crawl appends to it), every earlier
day's becomes ``items.jsonl.gz`` holding exactly the DB's lines, and every reader (the digest, verify, import,
a later export) takes either. A real SQLite state DB and real files; ``newsmon`` itself for verify and import.
"""

from __future__ import annotations

import gzip
import subprocess
from contextlib import closing
from pathlib import Path

import pytest

from crawler import state
from crawler.digest.data import items_of_day
from crawler.store import dayfiles
from crawler.store import items as item_store
from crawler.store.verify import verify
from tests.conftest import run_newsmon
from tests.storekit import make_item

DAY1, DAY2, DAY3 = "2026-11-27", "2026-11-28", "2026-11-29"


def ID(n: int, day: str) -> str:
    return make_item(n, "en", day)["id"]


def store(out: Path, day: str, *numbers: int) -> dayfiles.ExportReport:
    with closing(state.connect(out)) as conn:
        with state.transaction(conn):
            for n in numbers:
                assert item_store.insert(conn, make_item(n, "en", day), day)
        return dayfiles.export_changed(conn, out)


def db_lines(out: Path, day: str) -> bytes:
    with closing(state.connect(out)) as conn:
        return dayfiles.render_day(conn, day)


def newsmon(*args: str | Path) -> subprocess.CompletedProcess:
    return run_newsmon(*map(str, args), timeout=120)


def test_the_newest_day_stays_plain_and_earlier_days_are_gzipped_with_the_dbs_lines(tmp_path):
    store(tmp_path, DAY1, 1, 2)
    assert dayfiles.day_files(tmp_path, DAY1) == [tmp_path / DAY1 / "items.jsonl"]  # the newest day: plain

    report = store(tmp_path, DAY2, 1)
    assert report.gzipped == [DAY1]
    assert dayfiles.day_files(tmp_path, DAY1) == [tmp_path / DAY1 / "items.jsonl.gz"]
    assert gzip.decompress((tmp_path / DAY1 / "items.jsonl.gz").read_bytes()) == db_lines(tmp_path, DAY1)
    assert [i["id"] for i in dayfiles.read_items(tmp_path, DAY1)] == [ID(1, DAY1), ID(2, DAY1)]
    assert dayfiles.day_files(tmp_path, DAY2) == [tmp_path / DAY2 / "items.jsonl"]
    with closing(state.connect(tmp_path)) as conn:
        assert verify(conn, tmp_path).problems == []


def test_a_change_to_an_earlier_day_rewrites_its_gzipped_file(tmp_path):
    store(tmp_path, DAY1, 1)
    store(tmp_path, DAY2, 1)
    with closing(state.connect(tmp_path)) as conn:
        with state.transaction(conn):
            item = item_store.get(conn, ID(1, DAY1))
            item["title_en"] = "Translated later"
            item_store.replace(conn, item)
        report = dayfiles.export_changed(conn, tmp_path)
    assert report.written == [DAY1]
    assert not (tmp_path / DAY1 / "items.jsonl").exists()
    assert dayfiles.read_items(tmp_path, DAY1)[0]["title_en"] == "Translated later"


def test_a_plain_file_with_lines_of_its_own_is_left_for_verify_to_name(tmp_path):
    store(tmp_path, DAY1, 1)
    plain = tmp_path / DAY1 / "items.jsonl"
    with open(plain, "ab") as fh:  # a line the DB does not hold (a user's, a colleague's)
        fh.write(b'{"id":"zz","source":"elsewhere"}\n')
    before = plain.read_bytes()
    report = store(tmp_path, DAY2, 1)
    assert report.gzipped == [] and plain.read_bytes() == before  # nothing of it lost
    with closing(state.connect(tmp_path)) as conn:
        problems = verify(conn, tmp_path).problems
    assert problems == [f"{plain}:2: item zz not in the state DB (newsmon import loads it)"]


def test_a_crash_between_the_gzipped_and_the_plain_file_is_named_and_mended(tmp_path):
    store(tmp_path, DAY1, 1)
    plain = tmp_path / DAY1 / "items.jsonl"
    leftover = plain.read_bytes()
    store(tmp_path, DAY2, 1)
    plain.write_bytes(leftover)  # what a kill after the gzipped file was written and before the unlink leaves
    with closing(state.connect(tmp_path)) as conn:
        assert verify(conn, tmp_path).problems == [f"{plain}: left beside items.jsonl.gz by an interrupted export"]
        # a reader takes the gzipped file; the digest reads both and counts each item once
        assert [i["id"] for i in items_of_day(conn, tmp_path, DAY1)] == [ID(1, DAY1)]
    store(tmp_path, DAY3, 1)  # the next export mends it
    assert not plain.exists()
    assert dayfiles.day_files(tmp_path, DAY1) == [tmp_path / DAY1 / "items.jsonl.gz"]


def test_a_damaged_gzipped_file_is_named_by_verify_and_written_again_by_repair(tmp_path):
    store(tmp_path, DAY1, 1)
    store(tmp_path, DAY2, 1)
    packed = tmp_path / DAY1 / "items.jsonl.gz"
    packed.write_bytes(packed.read_bytes()[:-12])  # cut short
    proc = newsmon("verify", "--output", tmp_path)
    assert proc.returncode == 1 and f"{packed}: not a readable gzip file" in proc.stdout + proc.stderr
    repaired = newsmon("verify", "--repair", "--output", tmp_path)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert gzip.decompress(packed.read_bytes()) == db_lines(tmp_path, DAY1)


def test_newsmon_import_reads_gzipped_day_files(tmp_path):
    source = tmp_path / "source"
    store(source, DAY1, 1, 2)
    store(source, DAY2, 1)
    files = sorted(source.glob("*/items.jsonl*"))
    assert [f.name for f in files] == ["items.jsonl.gz", "items.jsonl"]
    target = tmp_path / "target"
    proc = newsmon("import", "--output", target, *files)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "3 line(s) read: 3 imported, 0 already stored, 0 rejected"
    assert db_lines(target, DAY1) == db_lines(source, DAY1)
    assert dayfiles.day_files(target, DAY1) == [target / DAY1 / "items.jsonl.gz"]

    damaged = tmp_path / "damaged" / DAY1 / "items.jsonl.gz"
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes((source / DAY1 / "items.jsonl.gz").read_bytes()[:-12])
    bad = newsmon("import", "--output", tmp_path / "other", damaged)
    assert bad.returncode == 1 and "not a readable gzip file" in bad.stderr


def test_an_earlier_day_that_cannot_be_gzipped_for_want_of_space_stays_plain_and_whole(tmp_path, caplog):
    from tests.test_disk_full import mount_tmpfs, remount, umount

    day_dir = tmp_path / DAY1
    mount_tmpfs(day_dir, "32k")
    try:
        store(tmp_path, DAY1, *range(20))  # about 12 KB
        plain = day_dir / "items.jsonl"
        whole = plain.read_bytes()
        filler = day_dir / "filler"
        with open(filler, "wb") as fh:  # what other writers leave of the space: nothing
            try:
                fh.write(b"\0" * 64 * 1024)
            except OSError:
                pass
        store(tmp_path, DAY2, 1)
        assert plain.read_bytes() == whole and not (day_dir / "items.jsonl.gz").exists()
        assert not list(day_dir.glob(".*.tmp"))
        assert "day files of earlier days not gzipped" in caplog.text and "disk full" in caplog.text
        filler.unlink()
        remount(day_dir, "64k")
        assert store(tmp_path, DAY2, 2).gzipped == [DAY1]  # once there is room
        assert not plain.exists()
        assert gzip.decompress((day_dir / "items.jsonl.gz").read_bytes()) == whole
    finally:
        umount(day_dir)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"id":"3f2a9c","url":"https://example.org/a"}\n', "3f2a9c"),
        (b'{"id":"a\\"b","url":"x"}\n', None),  # an escape in the id: only a parse reads it right
        (b'{"url":"x","id":"3f2a9c"}\n', None),  # the id not first: the line is parsed
        (b'{"id":"3f2a9c', None),  # torn before the id ends
        (b"not json\n", None),
    ],
)
def test_a_lines_id_is_read_off_its_start_only_when_plain(raw, expected):
    assert dayfiles.line_id(raw) == expected
