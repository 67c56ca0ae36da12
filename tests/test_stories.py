"""Stories: syndicated copies across outlets and languages are grouped, the digest shows a story once.

Items are built and stored the way the digest tests build them (tests/digestkit.py: the real store format,
real SQLite); the texts are the recorded pages', extracted by the real extractor. Copies are made here by
changing a page's dateline, boilerplate and a few sentences. The Russian text of the cross-language test and
its English (in the style of a machine translation) are ours, written for the tests.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from crawler import jsonl, state
from crawler.alerts.message import compose
from crawler.checks import check_config
from crawler.config import load_config
from crawler.digest import stage as digest
from crawler.exceptions import ConfigError
from crawler.extract.extraction import extract_article
from crawler.lifecycle.versions import next_version
from crawler.store import dayfiles, migrate
from crawler.store import items as item_store
from crawler.stories import fingerprint as fp
from crawler.stories import shingles
from crawler.stories.index import StoryIndex, StorySettings, entries_of, epoch
from crawler.stories.stage import settings_of, update_stories
from crawler.translation import store as translation_store
from tests import digestkit
from tests.conftest import ROOT
from tests.digestkit import DAY, STARTED
from tests.recorded import recorded
from tests.sitesrv import Route, page, write_loopback_config

NOW = epoch(STARTED, 0)
DEFAULTS = StorySettings()
SYNTHETIC_XINHUA = Path(__file__).parent / "resources" / "synthetic" / "xinhua-politics-c_1130000424.SYNTHETIC.html"

# Every recorded article page with its URL (pages.json), and the source it stands for.
RECORDED = {
    **{
        f"kremlin-en/news-{n}.html": ("kremlin-en", f"http://en.kremlin.ru/events/president/news/{n}", "en")
        for n in (11287, 17109, 34018, 52988, 56514, 57246, 62299, 62861, 63440, 63953, 8043)
    },
    "peoples-daily/politics-2024-0424-c1001-40223222.html": (
        "peoples-daily",
        "http://politics.people.com.cn/n1/2024/0424/c1001-40223222.html",
        "zh",
    ),
    "peoples-daily/culture-2019-0615-c1013-31153719.html": (
        "peoples-daily",
        "http://culture.people.com.cn/n1/2019/0615/c1013-31153719.html",
        "zh",
    ),
    "xinhua/local-2020-02-19-c_1125597921.html": (
        "xinhua",
        "http://www.xinhuanet.com/local/2020-02/19/c_1125597921.htm",
        "zh",
    ),
    "xinhua/world-2019-12-10-c_1125327450.html": (
        "xinhua",
        "http://www.xinhuanet.com/world/2019-12/10/c_1125327450.htm",
        "zh",
    ),
    "kommersant/doc-7715044.html": ("kommersant", "https://www.kommersant.ru/doc/7715044", "ru"),
}

# Ours: the recorded Kremlin article news-63953 in Russian, and an English rendering of that Russian in the
# manner of a machine translation (other words, other order), as the translation stage would store it.
RU_PARAGRAPHS = [
    "В ходе рабочей поездки в Республику Крым Владимир Путин принял участие в открытии автомобильного движения "
    "по завершённым участкам трассы «Таврида».",
    "Президент проехал на автомобиле Aurus по новому участку трассы «Таврида» вместе с Министром транспорта "
    "Евгением Дитрихом, генеральным директором ВАД Валерием Абрамовым и главным инженером производства ВАД "
    "Андреем Волковым.",
    "Глава государства осмотрел информационные стенды об этапах строительства трассы и пообщался с работниками "
    "ВАД. В беседе с рабочими Президент отметил, что эта дорога даст импульс развитию всего полуострова. Она так "
    "же важна, как энергетика и водоснабжение. Будут решены и проблемы нехватки воды в регионе. Всё это позволяет "
    "Крыму развиваться нужными темпами. Владимир Путин также сообщил, что программа развития Крыма продлена до "
    "2024 года и предусматривает строительство ещё 200 километров дорог.",
    "Затем Владимир Путин дал команду начать движение транспорта по новым участкам.",
    "Четырёхполосная трасса «Таврида» имеет первую техническую категорию и проходит по территории двух субъектов "
    "России – Республики Крым и города федерального значения Севастополя. Завершение строительства трассы "
    "запланировано на конец 2023 года. Участок длиной 250,7 км от Керчи до Севастополя будет открыт до конца года.",
    "В рамках проекта строительства дороги будут возведены 95 искусственных сооружений, в том числе мосты и "
    "путепроводы, а также 18 транспортных развязок и 30 пешеходных переходов с лифтами для маломобильных граждан.",
]
RU_ENGLISH = [
    "During a working visit to Crimea, Vladimir Putin participated in the opening of automobile traffic on the "
    "completed parts of the Tavrida highway.",
    "The President drove an Aurus car along a new part of the Tavrida highway together with Transport Minister "
    "Evgeny Dietrich, the general director of VAD Valery Abramov and the chief engineer of production of VAD "
    "Andrey Volkov.",
    "The head of state looked at the information stands about the stages of the construction of the highway and "
    "talked with the workers of VAD. In the conversation with the workers the President said that this road will "
    "give an impulse to the development of the whole peninsula. It is as important as energy and water supply. "
    "The problems of water shortage in the region will also be solved. All this lets Crimea develop at the needed "
    "pace. Vladimir Putin also said that the programme of development of Crimea was extended to 2024 and that it "
    "provides for the construction of 200 more kilometres of roads.",
    "Then Vladimir Putin gave the command to start the movement of vehicles along the new sections.",
    "The Tavrida highway with four lanes has the first technical category and passes across the territory of two "
    "subjects of Russia, the Republic of Crimea and the city of federal significance Sevastopol. Completion of the "
    "highway is planned for the end of 2023. The 250.7 km section from Kerch to Sevastopol will be opened before "
    "the end of the year.",
    "Within the project of the road construction 95 artificial structures, including bridges and overpasses, and "
    "also 18 transport junctions and 30 pedestrian crossings with lifts for disabled people will be built.",
]


@cache
def extracted(name: str) -> tuple[str | None, tuple[str, ...]]:
    _source, url, _lang = RECORDED[name]
    raw = recorded(name).read_bytes()
    ext = extract_article(raw.decode("utf-8", errors="replace"), url)
    return ext.title, tuple(ext.paragraphs)


def item_of(
    name: str,
    *,
    source: str | None = None,
    section: str = "news",
    url: str | None = None,
    paragraphs: list[str] | None = None,
    fetched_at: str = STARTED,
) -> dict:
    """A stored-format item of a recorded page (or of ``paragraphs``: a copy of it) as ``source``'s."""
    own_source, own_url, lang = RECORDED[name]
    title, original = extracted(name)
    item = digestkit.base_item(
        source or own_source, section, url or own_url, lang, title, list(paragraphs or original), None
    )
    item["fetched_at"] = fetched_at
    return item


def syndicated_copy(paragraphs: tuple[str, ...]) -> list[str]:
    """What an outlet reprinting a wire story does to it: its own dateline and credit lines, two sentences
    reworded, a reader-facing footer."""
    out = list(paragraphs)
    out[0] = "MOSCOW, August 27. /TASS/. " + out[0]
    out[1] = out[1].replace("drove an Aurus limousine", "was behind the wheel of an Aurus car")
    out[2] = out[2].replace(
        "would spur the development of the entire peninsula", "would give a boost to the whole peninsula's development"
    )
    return out + [
        "Read more: the full text of the statement is published on the Kremlin website.",
        "Follow TASS on Telegram. All rights reserved. Reproduction without permission is prohibited.",
    ]


def group(out: Path, items: list[dict], settings: StorySettings = DEFAULTS, now: float = NOW) -> dict[str, dict]:
    """Store ``items`` (if any), run the grouping and the day-file export that follows it in a run, return
    each item's ``story`` as stored in its items row."""
    if items:
        digestkit.store(out, items)
    with closing(state.connect(out)) as conn:
        update_stories(conn, out, settings, now=now)
        dayfiles.export_changed(conn, out)
        stored = {r["id"]: item_store.loads(r["json"]) for r in conn.execute("SELECT id, json FROM items")}
    return {ident: item.get("story") for ident, item in stored.items() if item is not None}


def lines(out: Path, day: str = DAY) -> list[dict]:
    return dayfiles.read_items(out, day)


# ---------------------------------------------------------------- fingerprints


def test_a_copy_with_other_boilerplate_and_edited_sentences_is_one_story(tmp_path):
    name = "kremlin-en/news-63953.html"
    original = item_of(name)
    copy = item_of(
        name,
        source="tass-en",
        url="https://tass.com/politics/1194507",
        paragraphs=syndicated_copy(extracted(name)[1]),
        fetched_at="2026-11-28T12:30:00+00:00",
    )
    estimate = fp.similarity(
        fp.minhash(shingles.original_hashes(original["text"]), fp.ORIGINAL),
        fp.minhash(shingles.original_hashes(copy["text"]), fp.ORIGINAL),
    )
    assert DEFAULTS.threshold <= estimate < 1

    stories = group(tmp_path, [original, copy])
    assert stories[original["id"]] == stories[copy["id"]]
    story = stories[copy["id"]]
    assert story["id"] == original["id"]  # the first fetched names the story
    assert story["size"] == 2 and story["items"] == [original["id"], copy["id"]]
    assert story["sources"] == ["kremlin-en", "tass-en"] and story["langs"] == ["en"]


def test_different_articles_are_never_grouped(tmp_path):
    """Eleven Kremlin articles, four People's Daily / Xinhua pages and a Kommersant one: no pair is a copy,
    neither in the original nor (English pages) through the cross-language fingerprint."""
    items = [item_of(name) for name in RECORDED]
    english = [fp.minhash(shingles.english_hashes(i["text"]), fp.ENGLISH) for i in items if i["lang"] == "en"]
    originals = [(i["lang"], fp.minhash(shingles.original_hashes(i["text"]), fp.ORIGINAL)) for i in items]
    same_language = [
        fp.similarity(a, b) for n, (la, a) in enumerate(originals) for lb, b in originals[n + 1 :] if la == lb
    ]
    across = [fp.similarity(a, b) for n, a in enumerate(english) for b in english[n + 1 :]]
    assert len(same_language) == 55 + 6 and len(across) == 55
    assert max(same_language) < DEFAULTS.threshold and max(across) < DEFAULTS.cross_threshold

    stories = group(tmp_path, items)
    assert len(stories) == len(RECORDED)
    assert all(story is None for story in stories.values())  # no copies: no story, lines as first written
    assert all("story" not in line for line in lines(tmp_path))


def test_chinese_copies_are_grouped_on_character_shingles(tmp_path):
    """People's Daily reprints a Xinhua wire story: another dateline, the reporters' line moved, an editor
    credit added, one sentence shortened."""
    name = "peoples-daily/politics-2024-0424-c1001-40223222.html"
    paragraphs = list(extracted(name)[1])
    assert shingles.is_cjk(paragraphs[2]) and shingles.original_hashes(paragraphs[2]).tolist() == sorted(
        reference_original(paragraphs[2])
    )
    copy = [paragraphs[0].replace("新华社北京4月24日电", "本报北京4月24日电（新华社记者）")] + paragraphs[2:]
    copy[3] = copy[3].replace("，适应新时代发展的步伐", "")
    copy += ["（责编：王某、李某）", "人民网版权所有，未经书面授权禁止使用"]
    wire = item_of(name, source="xinhua", url="http://www.news.cn/politics/2024-04/24/c_1130000424.htm")
    reprint = item_of(
        name,
        source="regional-daily",
        url="http://www.example-daily.cn/2024/0425/123.html",
        paragraphs=copy,
        fetched_at="2026-11-28T13:00:00+00:00",
    )
    stories = group(tmp_path, [wire, reprint])
    assert stories[reprint["id"]]["id"] == wire["id"] and stories[wire["id"]]["size"] == 2


def russian_copy() -> dict:
    item = digestkit.base_item(
        "kremlin-ru",
        "news",
        "http://kremlin.ru/events/president/news/63951",
        "ru",
        "Открытие движения по завершённым участкам трассы «Таврида»",
        RU_PARAGRAPHS,
        None,
    )
    item["fetched_at"] = "2026-11-28T14:00:00+00:00"
    item["extras"] = {"synthetic": "written for the tests; not a capture"}
    return item


def test_a_russian_item_translated_later_joins_the_english_story(tmp_path):
    """Across languages through English: the Russian item has no English at first (no model installed);
    once `newsmon translate --pending` has stored its English, the next grouping compares it again."""
    english = item_of("kremlin-en/news-63953.html")
    russian = russian_copy()
    stories = group(tmp_path, [english, russian])
    assert stories[russian["id"]] is None and stories[english["id"]] is None

    fields = {
        "title_en": "Opening of traffic on the completed sections of the Tavrida highway",
        "text_en": "\n\n".join(RU_ENGLISH),
        "paragraphs_en": RU_ENGLISH,
        "translation": {
            "engine": "test",
            "model": "hand-made",
            "status": "done",
            "error": None,
            "translated_at": STARTED,
        },
    }
    with closing(state.connect(tmp_path)) as conn:  # what the translation stage does with its output
        translation_store.save(conn, {russian["id"]: (russian["content_hash"], fields)})
    stories = group(tmp_path, [])
    story = stories[russian["id"]]
    assert story == stories[english["id"]] and story["id"] == english["id"]
    assert story["size"] == 2 and story["langs"] == ["en", "ru"]
    assert [line["story"] for line in lines(tmp_path)] == [story, story]  # rewritten in place: 2 lines


def test_the_cross_language_threshold_decides_and_one_language_compares_originals(tmp_path):
    english = item_of("kremlin-en/news-63953.html")
    russian = digestkit.translate(russian_copy(), "Opening of traffic", RU_ENGLISH)
    stories = group(tmp_path / "strict", [english, russian], StorySettings(cross_threshold=0.4))
    assert stories[russian["id"]] is None
    assert group(tmp_path / "default", [english, russian])[russian["id"]]["size"] == 2
    # the same English as an English outlet's own wording: one language, so their originals are compared
    rewrite = digestkit.base_item(
        "tass-en", "news", "https://tass.com/politics/1194508", "en", "Tavrida", RU_ENGLISH, None
    )
    stories = group(tmp_path / "english", [english, rewrite])
    assert stories[rewrite["id"]] is None


def test_the_look_back_window(tmp_path):
    name = "kremlin-en/news-56514.html"
    first = item_of(name)
    late = item_of(
        name,
        source="tass-en",
        url="https://tass.com/politics/1",
        paragraphs=syndicated_copy(extracted(name)[1]),
        fetched_at="2026-12-03T12:00:00+00:00",
    )  # five days later
    stories = group(tmp_path, [first, late], now=epoch("2026-12-03T12:00:00+00:00", 0))
    assert stories[late["id"]] is None
    wider = tmp_path / "wider"
    stories = group(wider, [first, late], StorySettings(window_days=7), now=epoch("2026-12-03T12:00:00+00:00", 0))
    assert stories[late["id"]]["size"] == 2


def test_an_item_copying_two_stories_merges_them_under_the_older(tmp_path):
    name = "kremlin-en/news-8043.html"
    paragraphs = extracted(name)[1]
    half = len(paragraphs) // 2
    head = item_of(name, url="https://a.example/head", paragraphs=paragraphs[:half])
    tail = item_of(
        name, url="https://b.example/tail", paragraphs=paragraphs[half:], fetched_at="2026-11-28T12:10:00+00:00"
    )
    whole = item_of(name, url="https://c.example/whole", fetched_at="2026-11-28T12:20:00+00:00")
    settings = StorySettings(threshold=0.3)
    stories = group(tmp_path, [head, tail], settings)
    assert stories[head["id"]] is None and stories[tail["id"]] is None
    stories = group(tmp_path, [whole], settings)
    assert {s["id"] for s in stories.values()} == {head["id"]}
    assert stories[tail["id"]]["items"] == [head["id"], tail["id"], whole["id"]]


def test_a_bad_item_is_left_out_and_the_others_are_grouped(tmp_path, caplog):
    name = "kremlin-en/news-63953.html"
    original = item_of(name)
    copy = item_of(name, source="tass-en", url="https://tass.com/x", paragraphs=syndicated_copy(extracted(name)[1]))
    odd = digestkit.base_item("odd", "news", "https://odd.example/1", "en", "Odd", ["A paragraph."], None)
    odd["text"] = 42  # valid JSON, but not an item the grouping can read
    broken = digestkit.base_item("broken", "news", "https://broken.example/1", "en", "Broken", ["Soon."], None)
    digestkit.store(tmp_path, [original, odd, copy, broken])
    with closing(state.connect(tmp_path)) as conn:
        # damage: a row that holds no JSON (written behind the item store's back)
        conn.execute("UPDATE items SET json = '{\"id\": ' WHERE id = ?", (broken["id"],))
        with caplog.at_level(logging.WARNING, logger="crawler.stories"):
            summary = update_stories(conn, tmp_path, DEFAULTS, now=NOW)
    assert summary["failed"] == 1 and summary["items"] == 2 and summary["copies"] == 1
    warnings = [r.getMessage() for r in caplog.records]
    assert any(odd["id"] in w and "text is a int" in w for w in warnings), warnings
    assert any(broken["id"] in w and "no valid JSON" in w for w in warnings), warnings
    assert group(tmp_path, [])[copy["id"]]["size"] == 2


def test_a_second_run_changes_nothing_and_a_new_version_is_fingerprinted_again_and_keeps_its_story(tmp_path):
    name = "kremlin-en/news-63953.html"
    items = [
        item_of(name),
        item_of(name, source="tass-en", url="https://tass.com/y", paragraphs=syndicated_copy(extracted(name)[1])),
    ]
    story = group(tmp_path, items)[items[1]["id"]]
    assert story["size"] == 2
    before = (tmp_path / DAY / "items.jsonl").read_bytes()
    with closing(state.connect(tmp_path)) as conn:
        summary = update_stories(conn, tmp_path, DEFAULTS, now=NOW)
        assert (summary["items"], summary["synced"]) == (0, 0)  # the change feed shows nothing new
        assert dayfiles.export_changed(conn, tmp_path).written == []
    assert (tmp_path / DAY / "items.jsonl").read_bytes() == before

    # An edit found by a re-check stores a new version through the item store (crawler.lifecycle.versions):
    # its text changed, so it is fingerprinted again; still a copy, it stays in its story.
    with closing(state.connect(tmp_path)) as conn:
        stored = item_store.get(conn, items[1]["id"])
        edited = next_version(stored, stored["title"], stored["paragraphs"] + ["Updated with a correction."])
        with state.transaction(conn):
            item_store.replace(conn, edited)
        summary = update_stories(conn, tmp_path, DEFAULTS, now=NOW)
        dayfiles.export_changed(conn, tmp_path)
    assert (summary["items"], summary["copies"], summary["synced"]) == (1, 1, 0)
    assert group(tmp_path, [])[items[1]["id"]] == story
    line = {obj["id"]: obj for obj in lines(tmp_path)}[items[1]["id"]]
    assert line["version"] == 2 and line["story"] == story  # the day file holds the latest version
    assert len(lines(tmp_path)) == 2


def test_the_rehashing_upgrade_fingerprints_the_indexed_items_again_and_they_keep_their_stories(tmp_path):
    """A DB of schema 28 (signatures hashed the old way, in story_items) upgraded: its signatures and bands
    go, the next stage fingerprints again the items within index_days, each keeps its story, and a later
    copy still finds them."""
    name = "kremlin-en/news-63953.html"
    text = extracted(name)[1]
    items = [item_of(name), item_of(name, source="tass-en", url="https://tass.com/a", paragraphs=syndicated_copy(text))]
    conn = sqlite3.connect(state.db_path(tmp_path), isolation_level=None)
    conn.row_factory = sqlite3.Row
    for step in migrate.steps():
        if step.number <= 28:
            step.run(conn)
    conn.execute("PRAGMA user_version = 28")
    for item in items:
        item_store.insert(conn, item, DAY)
    old = b"\x01" * 4 * fp.ORIGINAL.size
    conn.executemany(
        "INSERT INTO story_items(no, item_id, day, at, source, section, lang, content_hash, english, signature, "
        "story_id) VALUES (?, ?, ?, ?, ?, ?, 'en', ?, 0, ?, ?)",
        [
            (n, i["id"], DAY, NOW, i["source"], i["section_key"], i["content_hash"], old, items[0]["id"])
            for n, i in enumerate(items, 1)
        ],
    )
    conn.executemany("INSERT INTO story_bands(key, item) VALUES (?, ?)", [(7, 1), (7, 2)])
    conn.close()

    with closing(state.connect(tmp_path)) as conn:  # upgraded
        columns = {r["name"] for r in conn.execute("PRAGMA table_info(story_items)")}
        assert "signature" not in columns and "signature_en" not in columns
        assert conn.execute("SELECT count(*) FROM story_bands").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM story_items WHERE indexed = 1").fetchone()[0] == 0
        summary = update_stories(conn, tmp_path, DEFAULTS, now=NOW)
        assert summary["items"] == 2
        assert conn.execute("SELECT count(*) FROM story_signatures").fetchone()[0] == 2
        assert conn.execute("SELECT count(*) FROM story_bands").fetchone()[0] > 0
        assert {r[0] for r in conn.execute("SELECT story_id FROM story_items")} == {items[0]["id"]}
        assert update_stories(conn, tmp_path, DEFAULTS, now=NOW)["items"] == 0  # once
    late = item_of(name, source="rt", url="https://rt.example/b", paragraphs=list(text) + ["Reprinted."])
    stories = group(tmp_path, [late])
    assert stories[late["id"]]["id"] == items[0]["id"] and stories[late["id"]]["size"] == 3


def test_items_older_than_index_days_leave_the_index_and_keep_their_story(tmp_path):
    name = "kremlin-en/news-63953.html"
    items = [
        item_of(name),
        item_of(name, source="tass-en", url="https://tass.com/z", paragraphs=syndicated_copy(extracted(name)[1])),
    ]
    group(tmp_path, items)
    with closing(state.connect(tmp_path)) as conn:
        assert conn.execute("SELECT count(*) FROM story_bands").fetchone()[0] > 0
        later = NOW + 15 * 86400  # index_days = 14 have passed
        assert update_stories(conn, tmp_path, DEFAULTS, now=later)["pruned"] == 2
        assert conn.execute("SELECT count(*) FROM story_bands").fetchone()[0] == 0
        # out of the index, an item keeps no signature: only its story
        assert conn.execute("SELECT count(*) FROM story_signatures").fetchone()[0] == 0
        assert update_stories(conn, tmp_path, DEFAULTS, now=later)["pruned"] == 0
    assert group(tmp_path, [])[items[0]["id"]]["size"] == 2


def test_signatures_do_not_depend_on_the_process():
    """Seeded hashing: the same band keys in processes with different Python hash seeds."""
    code = (
        "from crawler.stories import fingerprint as fp, shingles; import sys; "
        "print(fp.band_keys(fp.minhash(shingles.original_hashes(sys.argv[1]), fp.ORIGINAL), fp.ORIGINAL, 'en')[:5])"
    )
    text = " ".join(RU_ENGLISH)
    runs = {
        subprocess.run(
            [sys.executable, "-c", code, text],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(runs) == 1
    assert runs.pop().strip() == str(
        fp.band_keys(fp.minhash(shingles.original_hashes(text), fp.ORIGINAL), fp.ORIGINAL, "en")[:5]
    )


# ---------------------------------------------------------------- config


# ---------------------------------------------------------------- fingerprints in batches

ZH_TEXT = (
    "中方愿同各方一道，推动航天技术更好惠及各国人民。"  # ours, written for the tests
    "双方同意在卫星遥感、月球探测和人才培养等领域深化务实合作，共同维护外空的和平与安全。"
)

# Every state DB stores these fingerprints: a change of the hashing would leave stored items unable to match
# new ones (unless a migration takes them out of the index to be fingerprinted again). Digests of the
# signatures and band keys of fixed texts.
PINNED = {
    ("ru", "original"): "982e6519bd37d34a",
    ("en", "original"): "8815902a8a2a1b53",
    ("en", "english"): "e194498f2e595f3a",
    ("zh", "original"): "d5cc7339ffa005f0",
}


def pinned_texts() -> dict[tuple[str, str], tuple[str, fp.Scheme]]:
    ru, en = "\n\n".join(RU_PARAGRAPHS), "\n\n".join(RU_ENGLISH)
    return {
        ("ru", "original"): (ru, fp.ORIGINAL),
        ("en", "original"): (en, fp.ORIGINAL),
        ("en", "english"): (en, fp.ENGLISH),
        ("zh", "original"): (ZH_TEXT, fp.ORIGINAL),
    }


def fingerprint_digest(signature, scheme: fp.Scheme, space: str) -> str:
    keys = fp.band_keys(signature, scheme, space)
    return hashlib.sha256(
        signature.astype("<u4").tobytes() + b"".join(k.to_bytes(8, "little", signed=True) for k in keys)
    ).hexdigest()[:16]


# ---- the definition, in plain Python: which shingles a text has, each one's hash, and the MinHash over them

MASK = (1 << 64) - 1
BASE, K1, K2, K3 = (int(k) for k in (shingles._BASE, shingles._K1, shingles._K2, shingles._K3))


def reference_mix(z: int) -> int:
    """SplitMix64's finaliser."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def reference_word(word: str) -> int:
    """mix(Σ code point_j · BASE^j mod 2^64)."""
    return reference_mix(sum(ord(ch) * pow(BASE, j, 1 << 64) for j, ch in enumerate(word)) & MASK)


def reference_original(text: str) -> set[int]:
    """CJK: character 4-grams of the letters and digits; other text: word 3-grams."""
    text = shingles.normalize(text)
    if shingles.is_cjk(text):
        chars = [ord(ch) for ch in "".join(re.findall(r"\w+", text))]
        return {
            reference_mix((a * K1 + b * K2 + c * K3 + d) & MASK) for a, b, c, d in zip(*(chars[i:] for i in range(4)))
        }
    words = [reference_word(word) for word in re.findall(r"\w+", text)]
    return {reference_mix((a * K1 + b * K2 + c) & MASK) for a, b, c in zip(words, words[1:], words[2:])}


def reference_english(text: str) -> set[int]:
    """Content-word stems (5 characters; stop words and one-character words out), each paired with the next two."""
    words = re.findall(r"[^\W\d_]+|\d+(?:[.,]\d+)?", shingles.normalize(text))
    stems = [reference_word(w[:5]) for w in words if len(w) > 1 and w not in shingles.STOP_WORDS]
    pairs = list(zip(stems, stems[1:])) + list(zip(stems, stems[2:]))
    return {reference_mix((min(a, b) * K1 + max(a, b)) & MASK) for a, b in pairs}


def reference_minhash(hashes: set[int], scheme: fp.Scheme) -> list[int]:
    """Hash function i = top 32 bits of mix(shingle hash XOR seed_i); the signature is each one's minimum."""
    seeds = [int(s) for s in fp._seeds(scheme)]
    return [min(reference_mix(h ^ seed) for h in hashes) >> 32 for seed in seeds]


# Texts where the tokenising is easy to get wrong: numbers with marks ("1.2.3" is "1.2" and "3"), a mark at
# the end, letters and digits run together, stop words and one-letter words, underscores, characters outside
# the BMP, full-width forms (NFKC), ё, a lone surrogate, and short texts.
EDGE_TEXTS = [
    "In 2024 the 1.2.3 plan cost 3,5 and 1,200.50 roubles, 7. then 8,, 9.x and 10.",
    "abc123def 4th_of_July x y z a an the Crimea's Ｔａｕｒｉｄａ motorway ＡＢＣ１２３ Ёлка ёлка",
    "Emoji \U0001f600 and 𝐁𝐨𝐥𝐝 𝟏𝟐𝟑 letters, \U00020000\U00020001\U00020002\U00020003 and \ud800 lone",
    "一二三四五六七八九十，２０２４年１２月",
    "",
    "word",
    "two words",
]


def test_shingle_hashes_are_the_definition_s():
    texts = [text for text, _scheme in pinned_texts().values()] + EDGE_TEXTS
    texts += ["\n\n".join(extracted(name)[1]) for name in RECORDED]
    for text in texts:
        assert shingles.original_hashes(text).tolist() == sorted(reference_original(text)), text[:40]
        assert shingles.english_hashes(text).tolist() == sorted(reference_english(text)), text[:40]


def test_signatures_and_band_keys_are_the_pinned_ones_and_the_definition():
    for (lang, scheme_name), (text, scheme) in pinned_texts().items():
        hashes = shingles.original_hashes(text) if scheme is fp.ORIGINAL else shingles.english_hashes(text)
        signature = fp.minhash(hashes, scheme)
        assert signature.tolist() == reference_minhash(set(hashes.tolist()), scheme), (lang, scheme_name)
        assert fingerprint_digest(signature, scheme, lang) == PINNED[lang, scheme_name], (lang, scheme_name)


def test_a_batch_of_signatures_is_each_item_s_own(monkeypatch):
    """``minhash_many`` (shingles hashed together, deduplicated, mixed once) gives each item the signature it
    gets alone, whatever the grouping: in one group, in groups of a few items, in groups split for memory."""
    sets = {scheme.name: [] for scheme in (fp.ORIGINAL, fp.ENGLISH)}
    for name in RECORDED:
        text = "\n\n".join(extracted(name)[1])
        sets["original"].append(shingles.original_hashes(text))
        sets["english"].append(shingles.english_hashes(text))
        sets["original"].append(shingles.original_hashes(extracted(name)[1][0]))  # a paragraph: short
    for scheme in (fp.ORIGINAL, fp.ENGLISH):
        items = sets[scheme.name] + [shingles.original_hashes(""), shingles.original_hashes("too few words")]
        alone = [fp.minhash(shingles, scheme) for shingles in items]
        assert alone[-2:] == [None, None] and sum(s is None for s in alone) < len(alone) // 2
        for occurrences, mixed_bytes in ((10**9, 1 << 40), (2000, 1 << 40), (10**9, 600 * scheme.size * 4)):
            monkeypatch.setattr(fp, "_OCCURRENCES", occurrences)
            monkeypatch.setattr(fp, "_MIXED_BYTES", mixed_bytes)
            together = fp.minhash_many(items, scheme)
            assert [None if s is None else s.tolist() for s in together] == [
                None if s is None else s.tolist() for s in alone
            ], (scheme.name, occurrences, mixed_bytes)
        signatures = np.stack([s for s in alone if s is not None])
        spaces = ["ru", "en", "zh"] * len(signatures)
        keys = fp.band_keys_many(signatures, scheme, spaces[: len(signatures)])
        assert keys.tolist() == [fp.band_keys(s, scheme, space) for s, space in zip(signatures, spaces)]


def test_a_batch_joins_stories_as_its_items_one_after_another_would(tmp_path):
    """``add_many`` reads and writes a batch at once; the stories, rows and bands must be those of adding
    its entries one by one. The second batch holds what makes that hard: an item merging two stories, a
    stored item fingerprinted again (with another's text) between a copy of its old text and another one,
    a translation across languages, and an item twice."""
    p1, p2 = "kremlin-en/news-63953.html", "kremlin-en/news-62861.html"
    text1, text2 = extracted(p1)[1], extracted(p2)[1]

    def at(minutes: int) -> str:
        return f"2026-11-28T{12 + minutes // 60:02d}:{minutes % 60:02d}:00+00:00"

    first = [
        item_of(p1),
        item_of(p1, source="tass-en", url="https://tass.com/1", paragraphs=syndicated_copy(text1), fetched_at=at(5)),
        item_of(p2, fetched_at=at(10)),
        item_of("xinhua/world-2019-12-10-c_1125327450.html", fetched_at=at(15)),
    ]
    edited = dict(first[2], text="\n\n".join(syndicated_copy(text1)), content_hash="edited")
    twice = dict(first[3], content_hash="again")
    second = [
        item_of(
            p2, source="a", url="https://a.example/old-copy", paragraphs=list(text2) + ["Reprinted."], fetched_at=at(20)
        ),  # a copy of p2 as stored
        item_of(
            p1, source="b", url="https://b.example/both", paragraphs=list(text1) + list(text2), fetched_at=at(25)
        ),  # both stories: merges them
        edited,  # p2 again, now p1's text
        item_of(
            p2, source="c", url="https://c.example/late-copy", paragraphs=list(text2) + ["Late."], fetched_at=at(30)
        ),  # p2's old text, after its edit
        digestkit.translate(russian_copy(), "Tavrida", RU_ENGLISH),  # p1 across languages
        twice,
        dict(twice, content_hash="and again"),
    ]
    settings = StorySettings(threshold=0.3)
    tables, results = [], []
    for one_by_one in (True, False):
        with closing(state.connect(tmp_path / str(one_by_one))) as conn:
            index = StoryIndex(conn, settings)
            out = []
            for batch in (first, second):
                entries, failed = entries_of([(DAY, item) for item in batch], NOW)
                assert not failed
                with state.transaction(conn):
                    out += [index.add(e) for e in entries] if one_by_one else index.add_many(entries)
            results.append([(story, sorted(copies)) for story, copies in out])
            tables.append(
                (
                    conn.execute("SELECT * FROM story_items ORDER BY no").fetchall(),
                    conn.execute("SELECT * FROM story_bands ORDER BY key, item").fetchall(),
                )
            )
    assert results[0] == results[1]
    assert [tuple(r) for r in tables[0][0]] == [tuple(r) for r in tables[1][0]]
    assert [tuple(r) for r in tables[0][1]] == [tuple(r) for r in tables[1][1]]
    story = {r["item_id"]: r["story_id"] for r in tables[1][0]}
    p1_id, p2_id = first[0]["id"], first[2]["id"]
    assert story[p2_id] == story[second[0]["id"]] == story[second[1]["id"]] == story[second[4]["id"]] == p1_id
    late_copies = results[1][len(first) + 3][1]  # p2's old fingerprint was gone when its late copy came
    assert second[0]["id"] in late_copies and p2_id not in late_copies
    assert p2_id in results[1][len(first)][1]  # and there for the copy before the edit


@pytest.mark.parametrize(
    "line, message",
    [
        ("threshold = 1.5", "[stories] threshold: a Jaccard similarity: must be ≤ 1, got 1.5"),
        ("windw_days = 2", "[stories] windw_days: unknown key"),
        ("index_days = 1", "[stories] index_days: must be ≥ window_days (3), got 1"),
        ('cross_threshold = "low"', "[stories] cross_threshold: expected int or float, got str 'low'"),
    ],
)
def test_the_stories_table_is_validated_at_its_line(tmp_path, line, message):
    path = tmp_path / "my.toml"
    path.write_text(f"[stories]\nenabled = true\n{line}\n", encoding="utf-8")
    config = load_config(path)
    with pytest.raises(ConfigError) as err:
        settings_of(config)
    assert str(err.value).startswith(f"{path}:3: {message}")
    assert [p for p in check_config(config) if "[stories]" in p] == [str(err.value)]


# ---------------------------------------------------------------- digest and alerts


def test_the_digest_shows_a_story_once_with_an_also_line_per_copy(tmp_path):
    name = "kremlin-en/news-63953.html"
    original = item_of(name)
    copy = item_of(
        name,
        source="tass-en",
        section="politics",
        url="https://tass.com/politics/1194507",
        paragraphs=syndicated_copy(extracted(name)[1]),
        fetched_at="2026-11-28T12:30:00+00:00",
    )
    other = digestkit.synthetic_item("mid")
    group(tmp_path, [copy, original, other])
    digest.build(tmp_path, DAY)
    text = (tmp_path / DAY / "digest.txt").read_text(encoding="utf-8")
    rows = text.splitlines()
    assert rows[0].startswith("# newsmon digest 2026-11-28: 3 items")
    headers = [r for r in rows if "Launching motor traffic" in r and not r.startswith(" ")]
    assert len(headers) == 1 and original["url"] in headers[0]  # shown once, from the first fetched
    also = [r for r in rows if r.startswith("  also: ")]
    assert also == [f"  also: tass-en/politics en {copy['title']} {copy['url']} #{copy['id'][:8]}"]
    assert [r for r in rows if copy["url"] in r] == also  # grep for the copy's URL lands here
    assert not any(r.startswith(f"    #{copy['id'][:8]}") for r in rows)  # its paragraphs are not repeated
    assert rows.index(also[0]) > rows.index(headers[0])
    assert not any(r.startswith("### tass-en/politics") for r in rows)
    assert any(r.startswith("### mid/news") for r in rows)  # other items as before

    html = (tmp_path / DAY / "digest.html").read_text(encoding="utf-8")
    assert html.count('<article class="item"') == 2
    assert f'<li id="i-{copy["id"]}">also: <a href="{copy["url"]}">' in html


def test_the_new_items_alert_says_how_many_other_outlets_carry_the_story():
    event = {
        "type": "section_changed",
        "section": "tass-en/politics",
        "run_id": 1,
        "details": {
            "count": 2,
            "items": [{"id": "a1", "title": "Launching motor traffic"}, {"id": "b2", "title": "Other"}],
        },
    }
    titles = {
        "a1": {"source": "tass-en", "story": {"id": "z9", "size": 3, "sources": ["kremlin-en", "rt", "tass-en"]}},
        "b2": {"source": "tass-en", "story": {"id": "b2", "size": 1, "sources": ["tass-en"]}},
    }
    _title, body = compose([event], titles, "newsmon", 50)
    assert "    – Launching motor traffic (also in 2 other outlets)" in body.splitlines()
    assert "    – Other" in body.splitlines()


# ---------------------------------------------------------------- end to end

PD_PATH = "/n1/2024/0424/c1001-40223222.html"
XINHUA_PATH = "/politics/2024-04/24/c_1130000424.htm"


def listing(href: str) -> Route:
    return Route(f'<html><body><ul><li class="item"><a href="{href}">story</a></li></ul></body></html>'.encode())


def test_a_run_groups_a_wire_story_and_its_reprint_and_the_digest_shows_it_once(tmp_path, site_server, newsmon):
    """Xinhua's wire story (SYNTHETIC page in Xinhua's template) and People's Daily's reprint of it (recorded),
    two sources, two sections: both land, one story of two, the digest shows the wire story and an "also:"
    line for the reprint."""
    site_server.routes.update(
        {
            "/people-politics/": listing(PD_PATH),
            PD_PATH: page(recorded(digestkit.PAGES["pd"][2])),
            "/xinhua-politics/": listing(XINHUA_PATH),
            XINHUA_PATH: page(SYNTHETIC_XINHUA),
        }
    )
    base = site_server.url
    cfg = write_loopback_config(
        tmp_path / "newsmon.toml",
        [
            {
                "id": "people",
                "name": "People's Daily",
                "sections": [
                    {"id": "politics", "kind": "listing", "url": f"{base}/people-politics/", "link_css": "li.item a"}
                ],
            },
            {
                "id": "xinhua",
                "name": "Xinhua",
                "sections": [
                    {"id": "politics", "kind": "listing", "url": f"{base}/xinhua-politics/", "link_css": "li.item a"}
                ],
            },
        ],
        crawler={"output_dir": str(tmp_path / "output"), "timeout": 5},
    )
    proc = newsmon("run", "--config", str(cfg), timeout=90)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stdout + proc.stderr
    assert "stage crawler.stories.stage failed" not in proc.stdout + proc.stderr

    day_dir = next((tmp_path / "output").glob("*/items.jsonl")).parent
    landed = {line["url"]: line for line in jsonl.read(day_dir / "items.jsonl")}
    reprint, wire = landed[base + PD_PATH], landed[base + XINHUA_PATH]
    assert len(landed) == 2 and reprint["story"] == wire["story"]
    assert wire["story"]["size"] == 2 and wire["story"]["id"] in (wire["id"], reprint["id"])
    assert wire["story"]["sources"] == ["people", "xinhua"]

    rows = (day_dir / "digest.txt").read_text(encoding="utf-8").splitlines()
    headers = [r for r in rows if "促进航天技术更好惠及人民" in r and not r.startswith(" ")]
    assert len(headers) == 1 and headers[0].startswith("2024-04-24 | xinhua | politics | zh | ")  # wire first
    also = [r for r in rows if r.startswith("  also: ")]
    assert len(also) == 1
    assert also[0].startswith(f"  also: people/politics zh {reprint['title']} {base + PD_PATH} #{reprint['id'][:8]} ")
    assert "TRANSLATION-PENDING" in also[0]  # the copy's flags come along
    assert any(r.startswith("   OK          | people/politics | 1 link, 1 new") for r in rows)
