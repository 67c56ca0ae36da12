"""The items row keeps each article's text once: ``text`` (and ``text_en``) left out when the paragraphs joined
rebuild it exactly, put back where it was by the store's reader, so the day file's line and every reader see
the item whole. Real SQLite state DBs, the real export and ``verify``; the upgrade step on rows written whole."""

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
        assert all(item_store.DERIVED in json.loads(row) for row in rows.values())
        dayfiles.export_changed(conn, tmp_path)
        assert not verify.verify(conn, tmp_path).problems
        assert item_store.get(conn, items[0]["id"]) == items[0]
    lines = dayfiles.items_path(tmp_path, DAY).read_text(encoding="utf-8").splitlines()
    assert lines == [item_store.dumps(item) for item in items]


def test_the_upgrade_step_stores_rows_written_whole_in_the_short_form_and_exports_nothing_new(tmp_path):
    items = [translated(make_item(n, lang, DAY)) for n, lang in enumerate(("zh", "ru", "en"))]
    with closing(state.connect(tmp_path)) as conn:
        with state.transaction(conn):
            for item in items:
                item_store.insert(conn, item, DAY)
            # as a newsmon before this form wrote them: the whole item, its text twice
            conn.executemany("UPDATE items SET json = ? WHERE id = ?", [(item_store.dumps(i), i["id"]) for i in items])
            conn.execute("UPDATE items SET json = '{not json' WHERE id = ?", (items[2]["id"],))
        dayfiles.export_changed(conn, tmp_path)
        day_file = dayfiles.items_path(tmp_path, DAY).read_bytes()
        size = conn.execute("SELECT sum(length(json)) FROM items").fetchone()[0]
        feed = conn.execute("SELECT count(*) FROM item_changes").fetchone()[0]

        step = importlib.import_module("crawler.store.schema.0030_items_text_once")
        with state.transaction(conn):
            step.migrate(conn)

        assert conn.execute("SELECT sum(length(json)) FROM items").fetchone()[0] < size
        for item in items[:2]:
            row = conn.execute("SELECT json FROM items WHERE id = ?", (item["id"],)).fetchone()[0]
            assert json.loads(row)[item_store.DERIVED] == ["text", "text_en"]
        assert item_store.get(conn, items[0]["id"]) == items[0] and item_store.get(conn, items[1]["id"]) == items[1]
        assert conn.execute("SELECT json FROM items WHERE id = ?", (items[2]["id"],)).fetchone()[0] == "{not json"
        assert conn.execute("SELECT count(*) FROM item_changes").fetchone()[0] == feed  # nothing to export again
        assert dayfiles.render_day(conn, DAY).split(b"\n")[:2] == day_file.split(b"\n")[:2]
