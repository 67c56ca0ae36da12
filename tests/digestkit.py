"""Items for the digest and search tests, in the real store format (state DB rows, day file exported).

Four items are extracted from recorded pages by the real extractor; two are written by us (the foreign
ministries' pages are not in the recorded set) and say so in their ``extras``. Translations are filled
as the translation stage fills them: ``title_en``, ``paragraphs_en`` aligned with ``paragraphs``,
``text_en`` and a ``translation`` record; the English of the recorded pages is ours (hand-made), and a
paragraph we did not translate by hand gets a marked stand-in.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from crawler import state
from crawler.extract.extraction import extract_article
from crawler.items import canonicalize_url, content_hash, empty_translation, item_id
from crawler.store import dayfiles
from crawler.store import items as item_store
from tests.recorded import recorded

DAY = "2026-11-28"
STARTED = "2026-11-28T12:00:00+00:00"  # noon UTC: the same calendar day in any time zone within ±11 h

PAGES = {
    "pd": (
        "peoples-daily",
        "politics",
        "peoples-daily/politics-2024-0424-c1001-40223222.html",
        "http://politics.people.com.cn/n1/2024/0424/c1001-40223222.html",
        "zh",
    ),
    "xinhua": (
        "xinhua",
        "world",
        "xinhua/world-2019-12-10-c_1125327450.html",
        "http://www.xinhuanet.com/world/2019-12/10/c_1125327450.htm",
        "zh",
    ),
    "kommersant": (
        "kommersant",
        "politics",
        "kommersant/doc-7715044.html",
        "https://www.kommersant.ru/doc/7715044",
        "ru",
    ),
    "kremlin": (
        "kremlin-en",
        "news",
        "kremlin-en/news-63953.html",
        "http://en.kremlin.ru/events/president/news/63953",
        "en",
    ),
}

# Hand-made English for titles and the paragraphs the tests look at, keyed by a piece of the original.
ENGLISH = {
    "新华社北京4月24日电": "Xinhua, Beijing, 24 April. Title: Making space technology better benefit the people",
    "促进航天技术更好惠及人民": "Making space technology better benefit the people: President Xi's congratulatory "
    "letter to the first China-LAC Space Cooperation Forum points the way",
    "新华社记者": "Xinhua reporters",
    "4月24日，习近平主席": "On 24 April President Xi Jinping sent a congratulatory letter to the first "
    "China-Latin America and Caribbean States Space Cooperation Forum.",
    "法国全国大罢工": "France's nationwide general strike again severely disrupts transport",
    "新华社巴黎12月9日电": "Xinhua, Paris, 9 December. France saw another nationwide cross-sector general "
    "strike on the 9th against the government's pension reform; transport in Paris "
    "was almost completely paralysed.",
    "Легкий троннинг": "Light throne-ing",
    "14 мая президент России": "On 14 May Russian President Vladimir Putin met Malaysian Prime Minister Anwar Ibrahim.",
}

SYNTHETIC = {
    "mfa": {
        "source": "mfa-cn",
        "section": "statements",
        "lang": "zh",
        "url": "https://www.mfa.gov.cn/web/fyrbt_673021/202611/t20261128_0001.shtml",
        "title": "外交部发言人就中俄关系答记者问",
        "title_en": "Foreign Ministry spokesperson answers a question on China-Russia relations",
        "paragraphs": ["中方愿同俄罗斯一道，巩固两国人民传统友谊。", "双方将继续在联合国等多边框架内密切协调。"],
        "paragraphs_en": [
            "China is ready to work with Russia to consolidate the traditional friendship between the two peoples.",
            "The two sides will keep coordinating closely at the United Nations and in other multilateral frameworks.",
        ],
    },
    "mid": {
        "source": "mid",
        "section": "news",
        "lang": "ru",
        "url": "https://mid.ru/ru/foreign_policy/news/2026-11-28-statement/",
        "title": "Заявление МИД России о российско-китайских отношениях",
        "title_en": "Statement of the Russian Foreign Ministry on Russian-Chinese relations",
        "paragraphs": [
            "Россия и Китай будут и впредь действовать в интересах наших народов.",
            "Стороны подтвердили приверженность принципам Устава ООН.",
        ],
        "paragraphs_en": [
            "Russia and China will continue to act in the interests of our peoples.",
            "The sides reaffirmed their commitment to the principles of the UN Charter.",
        ],
    },
}


def english_for(text: str, n: int) -> str:
    for key, english in ENGLISH.items():
        if key in text:
            return english
    return f"[English of paragraph {n + 1}]"


def base_item(
    source: str,
    section: str,
    url: str,
    lang: str,
    title: str,
    paragraphs: list[str],
    published_at: str | None,
    run_id: int = 1,
) -> dict:
    canonical = canonicalize_url(url)
    ident = item_id(canonical)
    item = {
        "id": ident,
        "source": source,
        "section": section,
        "section_key": f"{source}/{section}",
        "url": url,
        "canonical_url": canonical,
        "fetched_at": STARTED,
        "published_at": published_at,
        "title": title,
        "text": "\n\n".join(paragraphs),
        "paragraphs": paragraphs,
        "lang": lang,
        "lang_confidence": 0.99,
        "paragraph_langs": None,
        "authors": [],
        "content_hash": content_hash(title, paragraphs),
        "raw_path": f"raw/{source}/{ident}.html.gz",
        "version": 1,
        "run_id": run_id,
    }
    item.update(empty_translation(lang))
    return item


def translate(item: dict, title_en: str, paragraphs_en: list[str]) -> dict:
    """Fill the translation fields as the translation stage does."""
    item.update(title_en=title_en, paragraphs_en=paragraphs_en, text_en="\n\n".join(paragraphs_en))
    item["translation"] = {
        "engine": "test",
        "model": "hand-made",
        "status": "done",
        "error": None,
        "translated_at": STARTED,
    }
    return item


def recorded_item(key: str, *, translated: bool = True) -> dict:
    source, section, path, url, lang = PAGES[key]
    html = recorded(path).read_text(encoding="utf-8", errors="replace")
    ext = extract_article(html, url)
    item = base_item(source, section, url, lang, ext.title, ext.paragraphs, ext.published_at)
    if lang != "en" and translated:
        translate(item, english_for(ext.title, -1), [english_for(p, n) for n, p in enumerate(ext.paragraphs)])
    return item


def synthetic_item(key: str) -> dict:
    spec = SYNTHETIC[key]
    item = base_item(
        spec["source"],
        spec["section"],
        spec["url"],
        spec["lang"],
        spec["title"],
        spec["paragraphs"],
        "2026-11-28T09:30:00+08:00",
    )
    item["extras"] = {"synthetic": "written for the tests; not a capture"}
    return translate(item, spec["title_en"], spec["paragraphs_en"])


def store(output_dir: Path, items: list[dict], day: str = DAY, raw_from: dict[str, Path] | None = None) -> None:
    """Store new items as the crawl does: ``articles`` row and item (``crawler.store.items.insert``) in one
    transaction each, raw page; then the day file, exported from the DB (``crawler.store.dayfiles``)."""
    conn = state.connect(output_dir)
    try:
        for item in items:
            with state.transaction(conn):
                conn.execute(
                    "INSERT INTO articles(canonical_url, id, source, section, url, day, run_id, "
                    "first_seen, last_fetched, published_at, title, content_hash, raw_path) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        item["canonical_url"],
                        item["id"],
                        item["source"],
                        item["section_key"],
                        item["url"],
                        day,
                        item.get("run_id"),
                        STARTED,
                        STARTED,
                        item["published_at"],
                        item["title"],
                        item["content_hash"],
                        item["raw_path"],
                    ),
                )
                assert item_store.insert(conn, item, day), f"item {item['id']} is already stored"
            if raw_from and item["id"] in raw_from:
                raw = output_dir / item["raw_path"]
                raw.parent.mkdir(parents=True, exist_ok=True)
                raw.write_bytes(gzip.compress(raw_from[item["id"]].read_bytes()))
        dayfiles.export_changed(conn, output_dir)
    finally:
        conn.close()


def add_run(output_dir: Path, snapshots: list[dict], started_at: str = STARTED, summary: dict | None = None) -> int:
    """A finished run with its section snapshots (keys as in ``section_snapshots``)."""
    conn = state.connect(output_dir)
    try:
        with state.transaction(conn):
            run_id = conn.execute(
                "INSERT INTO runs(started_at, finished_at, status, summary) VALUES (?,?,?,?)",
                (started_at, started_at, "ok", json.dumps(summary or {})),
            ).lastrowid
            for snap in snapshots:
                row = {"run_id": run_id, "checked_at": started_at, "http_status": 200, "links_found": 10, **snap}
                cols = ", ".join(row)
                conn.execute(
                    f"INSERT INTO section_snapshots({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values())
                )
        return int(run_id)
    finally:
        conn.close()


PLANTED_SCRIPT = (
    '<script>document.title="PWNED";var d=document.createElement("div");d.id="pwned";'
    "document.body.appendChild(d)</script>"
)


def planted_item() -> dict:
    """An item whose crawled title and text carry markup that must stay text in the HTML digest."""
    item = base_item(
        "planted",
        "news",
        "https://planted.example/news/1",
        "en",
        f"Headline with {PLANTED_SCRIPT} inside",
        [
            "Body with <img src=\"x\" onerror=\"document.body.setAttribute('data-pwned','1')\"> "
            "and <b>bold</b> markup.",
            "A second paragraph.",
        ],
        "2026-11-28T08:00:00+00:00",
    )
    item["extras"] = {"synthetic": "written for the tests; not a capture"}
    return item


def standard_day(output_dir: Path) -> dict[str, dict]:
    """The day most tests read: six items, one broken and one failing section, one planted <script>."""
    items = {key: recorded_item(key) for key in PAGES}
    items.update({key: synthetic_item(key) for key in SYNTHETIC})
    items["planted"] = planted_item()
    add_run(
        output_dir,
        [
            {"section": "peoples-daily/politics", "url": "http://politics.people.com.cn/"},
            {"section": "xinhua/world", "url": "http://www.xinhuanet.com/world/"},
            {"section": "kommersant/politics", "url": "https://www.kommersant.ru/rubric/2"},
            {"section": "kremlin-en/news", "url": "http://en.kremlin.ru/events/president/news"},
            {"section": "mfa-cn/statements", "url": "https://www.mfa.gov.cn/web/fyrbt_673021/"},
            {"section": "mid/news", "url": "https://mid.ru/ru/foreign_policy/news/"},
            {"section": "tass/politics", "url": "https://tass.ru/politika", "http_status": 503, "links_found": 0},
            {
                "section": "rferl/news",
                "url": "https://www.rferl.org/news",
                "http_status": None,
                "links_found": 0,
                "error": "DNSLookupError: no such host www.rferl.org",
            },
        ],
    )
    store(output_dir, list(items.values()))
    return items
