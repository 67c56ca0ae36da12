"""`newsmon export`: every stored item as one row, in CSV, JSON lines and Parquet, read back as a spreadsheet
user's tools would (csv, json, pyarrow); published_at in one format; filters; Parquet without pyarrow."""

from __future__ import annotations

import csv
import json
import re
from contextlib import closing
from pathlib import Path

import pytest

from crawler import state
from crawler.store import items as item_store
from crawler.store import rows as export_rows
from tests import digestkit

STORED_FORM = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[Path, dict]:
    """The standard day, plus a dated-only Russian item that a watch matched, in a story, edited once."""
    out = tmp_path_factory.mktemp("export")
    items = digestkit.standard_day(out)
    extra = digestkit.base_item(
        "tass",
        "politics",
        "https://tass.ru/politika/1",
        "ru",
        "Путин в Крыму",
        ["Владимир Путин прибыл в Крым."],
        "2026-11-27",
    )
    digestkit.translate(extra, "Putin in Crimea", ["Vladimir Putin arrived in Crimea."])
    digestkit.store(out, [extra], day="2026-11-29")
    with closing(state.connect(out)) as conn, state.transaction(conn):
        hit = {"name": "Kremlin", "phrases": ["Путин*"], "found": ["Путин"], "in": ["title", "text"]}
        story = {"id": "s1", "size": 2, "items": [], "sources": [], "langs": []}
        item_store.update(conn, extra["id"], {"watch": [hit], "story": story, "version": 2})
        conn.execute("UPDATE articles SET status = 'deleted' WHERE id = ?", (extra["id"],))
    items["tass"] = extra
    return out, items


def export(newsmon, out: Path, *args: str):
    return newsmon("export", "--output", str(out), *args)


def test_csv_has_one_row_per_item_with_both_languages_and_one_date_format(tmp_path, archive, newsmon):
    out, items = archive
    target = tmp_path / "items.csv"
    proc = export(newsmon, out, "--format", "csv", str(target))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == f"{len(items)} items written to {target} (csv)"
    with target.open(encoding="utf-8", newline="") as f:
        read = list(csv.DictReader(f))
    assert list(read[0]) == list(export_rows.COLUMNS)
    by_id = {r["id"]: r for r in read}
    assert set(by_id) == {i["id"] for i in items.values()}
    for row in read:  # one format: the stored one, parsed by one pattern
        assert STORED_FORM.match(row["published_at"]), row["published_at"]
        assert row["published_date"] == row["published_at"][:10]
    tass = by_id[items["tass"]["id"]]
    assert (tass["published_at"], tass["published_date"], tass["published_precision"]) == (
        "2026-11-27T00:00:00+00:00",
        "2026-11-27",
        "date",
    )
    assert (tass["title"], tass["title_en"], tass["text_en"]) == (
        "Путин в Крыму",
        "Putin in Crimea",
        "Vladimir Putin arrived in Crimea.",
    )
    assert (tass["watch"], tass["story_id"], tass["version"], tass["edited"], tass["deleted"]) == (
        "Kremlin",
        "s1",
        "2",
        "true",
        "true",
    )
    assert tass["section"] == "tass/politics" and tass["crawl_day"] == "2026-11-29"
    kremlin = by_id[items["kremlin"]["id"]]
    assert kremlin["title_en"] == kremlin["title"] and kremlin["published_precision"] == "time"  # English item
    assert kremlin["published_at"] == "2020-08-27T15:20:00+03:00"  # the site's own offset kept
    mfa = by_id[items["mfa"]["id"]]
    assert "两国人民" in mfa["text"] and "two peoples" in mfa["text_en"] and mfa["edited"] == "false"


def test_jsonl_to_stdout_and_the_filters(archive, newsmon):
    out, items = archive
    proc = export(newsmon, out, "--format", "jsonl", "--source", "tass", "-")
    assert proc.returncode == 0 and proc.stderr == ""
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["id"] for r in rows] == [items["tass"]["id"]] and rows[0]["watch"] == ["Kremlin"]
    assert rows[0]["edited"] is True and rows[0]["authors"] == []
    since = export(newsmon, out, "--since", "2026-11-28", "--until", "2026-11-28", "-", "--format", "jsonl")
    dated = {json.loads(line)["id"] for line in since.stdout.splitlines()}
    assert dated == {i["id"] for i in items.values() if (i["published_at"] or "")[:10] == "2026-11-28"}
    assert len(dated) == 3
    section = export(newsmon, out, "--source", "kremlin-en/news", "--format", "jsonl", "-")
    assert [json.loads(line)["id"] for line in section.stdout.splitlines()] == [items["kremlin"]["id"]]


def test_parquet_types_the_dates(tmp_path, archive, newsmon):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    out, items = archive
    target = tmp_path / "items.parquet"
    proc = export(newsmon, out, str(target))  # the format from the extension
    assert proc.returncode == 0, proc.stderr
    table = pq.read_table(target)
    assert table.num_rows == len(items) and table.column_names == list(export_rows.COLUMNS)
    assert table.schema.field("published_at").type == pa.timestamp("ms", tz="UTC")
    assert table.schema.field("published_date").type == pa.date32()
    rows = {r["id"]: r for r in table.to_pylist()}
    kremlin = rows[items["kremlin"]["id"]]
    assert kremlin["published_at"].isoformat() == "2020-08-27T12:20:00+00:00"  # 15:20 Moscow, as UTC
    assert str(kremlin["published_date"]) == "2020-08-27"
    assert rows[items["tass"]["id"]]["watch"] == ["Kremlin"]
    csv_file = tmp_path / "items.csv"
    export(newsmon, out, str(csv_file))
    with csv_file.open(encoding="utf-8", newline="") as f:
        stamps = pa.array([r["published_at"] for r in csv.DictReader(f)])
    parsed = pc.strptime(stamps, format="%Y-%m-%dT%H:%M:%S%z", unit="s")  # one format parses every value
    assert parsed.null_count == 0 and len(parsed) == len(items)


def test_parquet_without_pyarrow_says_how_to_install_it(tmp_path, archive, newsmon):
    blocker = tmp_path / "no-pyarrow"
    (blocker / "pyarrow").mkdir(parents=True)
    (blocker / "pyarrow" / "__init__.py").write_text("raise ImportError('pyarrow is not installed here')\n")
    target = tmp_path / "items.parquet"
    proc = newsmon(
        "export", "--output", str(archive[0]), "--format", "parquet", str(target), env={"PYTHONPATH": str(blocker)}
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"newsmon: error: {export_rows.PARQUET_HINT}"
    assert not target.exists()


def test_bad_arguments_are_one_line_errors(tmp_path, archive, newsmon):
    out, _ = archive
    no_ext = newsmon("export", "--output", str(out), str(tmp_path / "items.txt"))
    assert no_ext.returncode == 2 and "give --format csv, jsonl or parquet" in no_ext.stderr
    bad_day = newsmon("export", "--output", str(out), "--since", "2026-13-01", str(tmp_path / "x.csv"))
    assert bad_day.returncode == 2 and "'2026-13-01': not a calendar date" in bad_day.stderr
    folder = newsmon("export", "--output", str(out), "--format", "csv", str(tmp_path))
    assert folder.returncode == 2 and "is a directory" in folder.stderr
    assert not list(tmp_path.glob(".*.tmp"))
