"""The items row keeps each article's text once: ``text`` (and ``text_en``) left out when the paragraphs joined
rebuild it exactly, put back where it was by the store's reader, so the day file's line and every reader see
the item whole; on SQLite the row is compressed. Real SQLite state DBs, the real export and ``verify``; the
upgrade steps on rows written whole and on rows written as text."""

from __future__ import annotations

import importlib
import json
from contextlib import closing

from crawler import state
from crawler.store import dayfiles, verify
from crawler.store import items as item_store
from tests.storekit import make_item

DAY = "2026-11-30"


def translated(item: dict) -> dict:
    """``item`` with an English translation, as the translation stage stores it."""
    english = [f"English of paragraph {n}." for n in range(len(item["paragraphs"]))]
    return {**item, "title_en": "A title", "text_en": "\n\n".join(english), "paragraphs_en": english}


def test_a_row_leaves_out_the_joined_text_and_gives_the_item_back_whole_in_its_order():
    item = translated(make_item(1, "ru", DAY))
    row = item_store.row_json(item)
    stored = json.loads(row)
    assert "text" not in stored and "text_en" not in stored
    assert stored[item_store.DERIVED] == ["text", "text_en"]
    assert len(row.encode()) < len(item_store.dumps(item).encode()) * 0.75
    back = item_store.loads(row)
    assert back == item and list(back) == list(item)
    assert item_store.line(row) == item_store.dumps(item)  # the day file's line, byte for byte


def test_a_text_its_paragraphs_do_not_rebuild_is_kept():
    item = make_item(2, "en", DAY)
    edited = {**item, "text": item["text"] + " (a trailing note)"}  # not the paragraphs joined
    moved = {k: v for k, v in item.items() if k != "text"} | {"text": item["text"]}  # not right before them
    untranslated = {**item, "text_en": None, "paragraphs_en": None}
    for whole in (edited, moved, untranslated):
        row = item_store.row_json(whole)
        assert item_store.loads(row) == whole and list(item_store.loads(row)) == list(whole)
        assert item_store.line(row) == item_store.dumps(whole)
    assert json.loads(item_store.row_json(edited))["text"] == edited["text"]
    assert json.loads(item_store.row_json(untranslated))[item_store.DERIVED] == ["text"]


def test_a_damaged_short_row_reads_as_unreadable_not_as_a_crash():
    row = json.loads(item_store.row_json(make_item(3, "zh", DAY)))
    for damage in ({"paragraphs": "not a list"}, {"paragraphs": [1, 2]}, {item_store.DERIVED: "text"}):
        assert item_store.loads(json.dumps({**row, **damage})) is None


def test_stored_items_export_and_verify_as_whole_lines(tmp_path):
    items = [translated(make_item(n, lang, DAY)) for n, lang in enumerate(("zh", "ru", "en"))]
    with closing(state.connect(tmp_path)) as conn:
        with state.transaction(conn):
            for item in items:
                assert item_store.insert(conn, item, DAY)
        rows = dict(conn.execute("SELECT id, json FROM items").fetchall())
        assert all(item_store.DERIVED in json.loads(item_store.row_text(row)) for row in rows.values())
        dayfiles.export_changed(conn, tmp_path)
        assert not verify.verify(conn, tmp_path).problems
        assert item_store.get(conn, items[0]["id"]) == items[0]
    lines = dayfiles.items_path(tmp_path, DAY).read_text(encoding="utf-8").splitlines()
    assert lines == [item_store.dumps(item) for item in items]


def as_written_before(conn, out, items: list[dict], form) -> tuple[bytes, int, int]:
    """Store ``items`` with their rows as an older newsmon wrote them (``form(item)``, text), the third one
    damaged, and export their day: (the day file, the rows' bytes, the change feed's length)."""
    with state.transaction(conn):
        for item in items:
            item_store.insert(conn, item, DAY)
        conn.executemany("UPDATE items SET json = ? WHERE id = ?", [(form(i), i["id"]) for i in items])
        conn.execute("UPDATE items SET json = '{not json' WHERE id = ?", (items[2]["id"],))
    dayfiles.export_changed(conn, out)
    size = conn.execute("SELECT sum(length(CAST(json AS BLOB))) FROM items").fetchone()[0]
    feed = conn.execute("SELECT count(*) FROM item_changes").fetchone()[0]
    return dayfiles.items_path(out, DAY).read_bytes(), size, feed


def upgrade(conn, step: str) -> None:
    with state.transaction(conn):
        importlib.import_module(f"crawler.store.schema.{step}").migrate(conn)


def test_the_upgrade_step_stores_rows_written_whole_in_the_short_form_and_exports_nothing_new(tmp_path):
    items = [translated(make_item(n, lang, DAY)) for n, lang in enumerate(("zh", "ru", "en"))]
    with closing(state.connect(tmp_path)) as conn:
        day_file, size, feed = as_written_before(conn, tmp_path, items, item_store.dumps)  # its text twice
        upgrade(conn, "0030_items_text_once")

        assert conn.execute("SELECT sum(length(json)) FROM items").fetchone()[0] < size
        for item in items[:2]:
            row = conn.execute("SELECT json FROM items WHERE id = ?", (item["id"],)).fetchone()[0]
            assert json.loads(row)[item_store.DERIVED] == ["text", "text_en"]
        assert item_store.get(conn, items[0]["id"]) == items[0] and item_store.get(conn, items[1]["id"]) == items[1]
        assert conn.execute("SELECT json FROM items WHERE id = ?", (items[2]["id"],)).fetchone()[0] == "{not json"
        assert conn.execute("SELECT count(*) FROM item_changes").fetchone()[0] == feed  # nothing to export again
        assert dayfiles.render_day(conn, DAY).split(b"\n")[:2] == day_file.split(b"\n")[:2]


def test_a_sqlite_row_is_compressed_and_sql_reads_it_through_nm_item(tmp_path):
    item = translated(make_item(4, "ru", DAY))
    with closing(state.connect(tmp_path)) as conn:
        with state.transaction(conn):
            item_store.insert(conn, item, DAY)
        row = conn.execute("SELECT json FROM items").fetchone()[0]
        assert isinstance(row, bytes) and len(row) < len(item_store.row_json(item).encode()) / 1.5
        assert item_store.loads(row) == item and item_store.line(row) == item_store.dumps(item)
        title = conn.execute(f"SELECT {item_store.sql_json()} ->> '$.title' FROM items").fetchone()[0]
        assert title == item["title"]


def test_a_compressed_row_that_cannot_be_read_back_is_named_and_the_others_export(tmp_path):
    items = [translated(make_item(n, lang, DAY)) for n, lang in enumerate(("zh", "ru", "en"))]
    with closing(state.connect(tmp_path)) as conn:
        with state.transaction(conn):
            for item in items:
                item_store.insert(conn, item, DAY)
            conn.execute("UPDATE items SET json = ? WHERE id = ?", (b"\x28\xb5\x2f\xfd damaged", items[1]["id"]))
        assert item_store.get(conn, items[1]["id"]) is None
        dayfiles.export_changed(conn, tmp_path)
        problems = verify.verify(conn, tmp_path).problems
    assert any(f"item {items[1]['id']}: its state DB row holds no valid JSON" in p for p in problems)
    lines = dayfiles.items_path(tmp_path, DAY).read_text(encoding="utf-8").splitlines()
    assert lines == [item_store.dumps(items[0]), item_store.dumps(items[2])]


def test_the_compression_step_compresses_text_rows_keeps_a_damaged_one_and_exports_nothing_new(tmp_path):
    items = [translated(make_item(n, lang, DAY)) for n, lang in enumerate(("zh", "ru", "en"))]
    with closing(state.connect(tmp_path)) as conn:
        day_file, size, feed = as_written_before(conn, tmp_path, items, item_store.row_json)  # as text
        upgrade(conn, "0031_items_compressed")

        assert {r[0] for r in conn.execute("SELECT typeof(json) FROM items")} == {"blob"}
        assert conn.execute("SELECT sum(length(json)) FROM items").fetchone()[0] < size / 1.5
        assert [item_store.get(conn, i["id"]) for i in items] == [items[0], items[1], None]
        damaged = conn.execute("SELECT json FROM items WHERE id = ?", (items[2]["id"],)).fetchone()[0]
        assert item_store.row_text(damaged) == "{not json"  # kept as it was, for whoever repairs it
        assert conn.execute("SELECT count(*) FROM item_changes").fetchone()[0] == feed  # nothing to export again
        assert dayfiles.render_day(conn, DAY) == day_file
