"""A seeded week for the analysis tests: items stored through the item store (as the crawl stores them),
section events recorded as the lifecycle records them, a config naming the sections and a watch.

The week 2026-09-05 … 2026-09-11, after the newsletter's own example: a Kremlin transcript of the Eastern
Economic Forum (a moderator's question about Chinese cars, Putin's answer with "the interests of our
peoples"), TASS reporting it (one story, two outlets), a Xinhua story datelined three days before it was
published, and the People's Daily Russia section back with one story about Kazakhstan that never mentions
Russia. Text invented for the tests, except where it quotes the newsletter's example.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

from crawler import state
from crawler.items import canonicalize_url, content_hash, empty_translation, item_id
from crawler.lifecycle.events import Event, record
from crawler.localsite import write_loopback_config
from crawler.store import dayfiles
from crawler.store import items as item_store

SINCE, UNTIL = "2026-09-05", "2026-09-11"
SUBJECT = ["俄罗斯", "俄", "普京", "Russia*", "Росси*"]
PHRASES = ["interests of our peoples", "两国人民"]
QUESTION = "I would like to ask about Chinese cars."
ANSWER = "No, we are working on this project together. It serves the interests of our peoples."


def item(
    source: str, section: str, n: int, lang: str, published: str, title: str, paragraphs: list[str], **extra
) -> dict:
    url = canonicalize_url(f"http://{source}.example.test/{section}/{n}")
    out = {
        "id": item_id(url),
        "source": source,
        "section": section,
        "section_key": f"{source}/{section}",
        "url": url,
        "canonical_url": url,
        "fetched_at": f"{published}T12:00:00+00:00",
        "published_at": f"{published}T10:00:00+03:00",
        "title": title,
        "text": "\n\n".join(paragraphs),
        "paragraphs": paragraphs,
        "lang": lang,
        "lang_confidence": 0.99,
        "paragraph_langs": None,
        "authors": [],
        "content_hash": content_hash(title, paragraphs),
        "version": 1,
        "extras": {},
    }
    out.update(empty_translation(lang))
    out.update(extra)
    return out


def translated(title_en: str, paragraphs_en: list[str]) -> dict:
    return {
        "title_en": title_en,
        "text_en": "\n\n".join(paragraphs_en),
        "paragraphs_en": paragraphs_en,
        "translation": {
            "engine": "test",
            "model": "test",
            "status": "done",
            "error": None,
            "translated_at": "2026-09-11T12:00:00+00:00",
        },
    }


def week_items() -> dict[str, dict]:
    plenary = item(
        "kremlin",
        "transcripts",
        1,
        "en",
        "2026-09-05",
        "Plenary session of the Eastern Economic Forum",
        [
            "Vladimir Putin took part in the plenary session of the forum.",
            f"Ilya Doronov: {QUESTION}",
            f"Vladimir Putin: {ANSWER}",
        ],
        extras={
            "turns": [{"speaker": "Ilya Doronov", "text": QUESTION}, {"speaker": "Vladimir Putin", "text": ANSWER}]
        },
    )
    tass = item(
        "tass-en",
        "politics",
        2,
        "en",
        "2026-09-06",
        "Putin: the project serves the interests of our peoples",
        [
            "VLADIVOSTOK, September 5. /TASS/. The president said the joint project serves the interests "
            "of our peoples.",
            "He spoke at the plenary session of the forum.",
        ],
        extras={
            "dateline": {
                "place": "Vladivostok",
                "date": "2026-09-05",
                "raw": "VLADIVOSTOK, September 5. /TASS/",
                "lag_days": 1,
            }
        },
    )
    story = {
        "id": plenary["id"],
        "size": 2,
        "items": [plenary["id"], tass["id"]],
        "sources": ["kremlin", "tass-en"],
        "langs": ["en"],
    }
    plenary["story"] = tass["story"] = story
    xinhua = item(
        "xinhua",
        "world",
        3,
        "zh",
        "2026-09-11",
        "测试稿件：两国合作",
        ["新华社符拉迪沃斯托克9月8日电 两国人民的利益是合作的基础。会议在傍晚闭幕。", "这是测试稿件的第二段。"],
        extras={
            "dateline": {
                "place": "符拉迪沃斯托克",
                "date": "2026-09-08",
                "raw": "新华社符拉迪沃斯托克9月8日电",
                "lag_days": 3,
            }
        },
        **translated(
            "Test story: cooperation of two countries",
            [
                "Xinhua, Vladivostok, September 8 — The interests of the two peoples are the basis "
                "of cooperation. The meeting closed in the evening.",
                "This is the second paragraph.",
            ],
        ),
    )
    kazakh = item(
        "people",
        "russia",
        4,
        "zh",
        "2026-09-10",
        "测试稿件：哈萨克斯坦的一次展览",
        ["哈萨克斯坦的一次展览介绍了各地的手工艺品。", "这是测试稿件的第二段。"],
    )
    russian = item(
        "people",
        "russia",
        5,
        "zh",
        "2026-09-10",
        "测试稿件：俄罗斯的一次展览",
        ["俄罗斯首都的一次展览介绍了各地的手工艺品。", "这是测试稿件的第二段。"],
    )
    earlier = item(
        "kremlin",
        "transcripts",
        6,
        "en",
        "2026-08-20",
        "Talks with the Chinese delegation",
        ["The talks served the interests of our peoples, the president said."],
    )
    return {
        "plenary": plenary,
        "tass": tass,
        "xinhua": xinhua,
        "kazakh": kazakh,
        "russian": russian,
        "earlier": earlier,
    }


def section_events() -> list[Event]:
    return [
        Event(
            "section_reappeared",
            "people/russia",
            "2026-09-09T03:00:00+00:00",
            7,
            "the entry page answers again with 2 links",
        ),
        Event(
            "section_off_subject",
            "people/russia",
            "2026-09-10T03:00:00+00:00",
            8,
            "1 of 2 new items mention the section's subject (俄罗斯, 俄, 普京, …)",
        ),
    ]


def seed(output: Path) -> dict[str, dict]:
    """Store the week's items (each on its publication day) and events; returns the items by name."""
    items = week_items()
    with closing(state.connect(output)) as conn:
        with state.transaction(conn):
            for one in items.values():
                assert item_store.insert(conn, one, one["published_at"][:10])
            record(conn, section_events())
        dayfiles.export_changed(conn, output)
    return items


def write_config(tmp: Path) -> Path:
    def listed(ident: str, name: str, **keys) -> dict:
        return {
            "id": ident,
            "name": name,
            "kind": "listing",
            "url": f"http://127.0.0.1:9/{ident}/",
            "link_css": "li a",
            **keys,
        }

    return write_loopback_config(
        tmp / "newsmon.toml",
        [
            {"id": "kremlin", "name": "Kremlin", "sections": [listed("transcripts", "Transcripts")]},
            {"id": "tass-en", "name": "TASS", "sections": [listed("politics", "Politics")]},
            {"id": "xinhua", "name": "Xinhua", "sections": [listed("world", "World")]},
            {"id": "people", "name": "People's Daily", "sections": [listed("russia", "Russia", subject=SUBJECT)]},
        ],
        crawler={"output_dir": str(tmp / "output")},
        extra='\n[[watch]]\nname = "Peoples"\nphrases = ["interests of our peoples", "两国人民"]\n',
    )
