"""A stored Russian article edited once, both versions translated, and its article_edited event, in the real
store format (articles and items rows, article_versions through crawler.lifecycle.versions, the event through
crawler.lifecycle.events): what the digest's edit block, the diff page and `newsmon diff` read.

The Russian text and its English are ours (synthetic); the edit changes a date in one paragraph and adds one.
"""

from __future__ import annotations

from pathlib import Path

from crawler import state
from crawler.lifecycle import events
from crawler.lifecycle.textdiff import paragraph_diff, summarize
from crawler.lifecycle.versions import keep_version, next_version
from crawler.store import dayfiles
from crawler.store import items as item_store
from tests.alerting import new_run, store_article

DAY = "2026-11-01"
AT = "2026-11-01T02:00:00+00:00"
EDITED_AT = "2026-11-01T08:00:00+00:00"
SECTION = "mid/news"
URL = "https://mid.ru/ru/foreign_policy/news/2026-11-01-talks/"
TITLE = "Сергей Лавров проведёт переговоры с министром иностранных дел Китая"
TITLE_EN = "Sergei Lavrov will hold talks with the Chinese foreign minister"
OLD = [
    "Переговоры состоятся в среду в Москве.",
    "Стороны обсудят подготовку к саммиту и вопросы энергетического сотрудничества, а также ситуацию в регионе, "
    "где в последние месяцы обострились противоречия между соседями.",
    "Министры также подпишут план консультаций на следующий год.",
]
OLD_EN = [
    "The talks will take place on Wednesday in Moscow.",
    "The sides will discuss preparations for the summit and energy cooperation, as well as the situation in "
    "the region, where tensions between neighbours have sharpened in recent months.",
    "The ministers will also sign a plan of consultations for next year.",
]
NEW = ["Переговоры состоятся в четверг в Москве.", OLD[1], OLD[2], "По итогам встречи планируется пресс-конференция."]
NEW_EN = [
    "The talks will take place on Thursday in Moscow.",
    OLD_EN[1],
    OLD_EN[2],
    "A press conference is planned after the meeting.",
]


def translated(conn, ident: str, title_en: str, paragraphs_en: list[str]) -> None:
    """The translation stage's fields on the item, as it sets them."""
    item_store.update(
        conn,
        ident,
        {
            "title_en": title_en,
            "paragraphs_en": paragraphs_en,
            "text_en": "\n\n".join(paragraphs_en),
            "translation": {"engine": "test", "model": "test", "status": "done", "error": None, "translated_at": AT},
        },
    )


def edited_article(out: Path) -> tuple[str, dict]:
    """Store the article, translate it, keep its edit as version 2 (translated too), record the event.
    Returns (item id, the event as alerts.jsonl holds it)."""
    run_id = new_run(out)
    ident = store_article(out, run_id, SECTION, URL, TITLE, OLD, at=AT, title_en=TITLE_EN, lang="ru")
    conn = state.connect(out)
    try:
        translated(conn, ident, TITLE_EN, OLD_EN)
        row = conn.execute("SELECT * FROM articles WHERE id = ?", (ident,)).fetchone()
        item = item_store.get(conn, ident)
        new = dict(next_version(item, TITLE, NEW), fetched_at=EDITED_AT, edited_at=EDITED_AT)
        ops = paragraph_diff(OLD, NEW)
        with state.transaction(conn):
            keep_version(
                conn, row, item, new, EDITED_AT, {"title_before": TITLE, "title_after": TITLE, "paragraphs": ops}
            )
        translated(conn, ident, TITLE_EN, NEW_EN)
        details = {
            "url": URL,
            "title": TITLE,
            "title_en": TITLE_EN,
            "version": 2,
            "previous_version": 1,
            "title_before": TITLE,
            "title_after": TITLE,
            "paragraphs": ops,
            "changed_chars": 60,
        }
        event = events.Event(
            "article_edited", SECTION, EDITED_AT, run_id, summarize(ops, False), details, article_id=ident
        )
        events.record(conn, [event])
        dayfiles.export_changed(conn, out)
    finally:
        conn.close()
    return ident, event.to_json()
