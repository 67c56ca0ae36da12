"""Speakers and quotes end to end: `newsmon run` over Kremlin transcripts on loopback (the synthetic Eastern
Economic Forum pages in English and Russian, a recorded interview), a [[watch]] limited to Putin's turns, then
`newsmon quotes` — real CLI subprocesses, a real state DB."""

from __future__ import annotations

import json
from pathlib import Path

from crawler import state
from crawler.items import TRANSLATION_FIELDS
from crawler.store import items as item_store
from crawler.store.dayfiles import export_now
from crawler.translation import store as translation_store
from tests import digestkit
from tests.recorded import recorded
from tests.sitesrv import Route, page, write_loopback_config

SYN = Path(__file__).resolve().parent / "resources" / "synthetic"
EN_PATH = "/events/president/transcripts/77777"
RU_PATH = "/ru/events/president/transcripts/77777"
INTERVIEW_PATH = "/events/president/news/62861"
WATCHES = """
[[watch]]
name = "PutinCars"
phrases = ["Chinese car*"]
speakers = ["Vladimir Putin"]

[[watch]]
name = "Cars"
phrases = ["Chinese car*"]

[[watch]]
name = "PutinPriority"
phrases = ["Far East", "приоритет*"]
speakers = ["Putin"]
"""


def listing(links: list[str]) -> Route:
    items = "".join(f'<li class="item"><a href="{href}">story</a></li>' for href in links)
    return Route(f"<html><body><ul>{items}</ul></body></html>".encode())


def stored_items(out: Path) -> dict[str, dict]:
    conn = state.connect(out)
    try:
        return {
            item_store.loads(r["json"])["url"].split("/", 3)[3]: item_store.loads(r["json"])
            for r in conn.execute("SELECT json FROM items")
        }
    finally:
        conn.close()


def crawl(tmp_path: Path, site_server, newsmon) -> tuple[Path, Path]:
    site_server.routes.update(
        {
            "/transcripts/": listing([EN_PATH, RU_PATH, INTERVIEW_PATH]),
            EN_PATH: page(SYN / "kremlin-en-eef-plenary.SYNTHETIC.html"),
            RU_PATH: page(SYN / "kremlin-ru-eef-plenary.SYNTHETIC.html"),
            INTERVIEW_PATH: page(recorded("kremlin-en/news-62861.html")),
        }
    )
    cfg = write_loopback_config(
        tmp_path / "newsmon.toml",
        [
            {
                "id": "kremlin",
                "name": "Kremlin",
                "sections": [
                    {
                        "id": "transcripts",
                        "kind": "listing",
                        "url": f"{site_server.url}/transcripts/",
                        "link_css": "li.item a",
                    }
                ],
            },
        ],
        crawler={"output_dir": str(tmp_path / "output"), "timeout": 5},
        extra=WATCHES,
    )
    env = {"ARGOS_PACKAGES_DIR": str(tmp_path / "no-models")}  # no model: the Russian page stays pending
    proc = newsmon("run", "--config", str(cfg), env=env, timeout=90)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stdout + proc.stderr
    return cfg, tmp_path / "output"


def translate_later(out: Path, item: dict) -> dict:
    """Translate the Russian transcript as the translation stage writes it (one English paragraph each)."""
    english = [
        f"[English of paragraph {n + 1}] " + ("Speaker: " if n else "") + f"text {n + 1}"
        for n in range(len(item["paragraphs"]))
    ]
    translated = digestkit.translate(dict(item), "Plenary session (English)", english)
    conn = state.connect(out)
    try:
        translation_store.save(
            conn, {item["id"]: (item["content_hash"], {k: translated[k] for k in TRANSLATION_FIELDS})}
        )
    finally:
        conn.close()
    export_now(out)
    return translated


def test_run_names_speakers_watches_their_turns_and_quotes_print_question_and_answer(tmp_path, site_server, newsmon):
    cfg, out = crawl(tmp_path, site_server, newsmon)
    items = stored_items(out)
    en, ru, interview = items[EN_PATH[1:]], items[RU_PATH[1:]], items[INTERVIEW_PATH[1:]]

    # Stored (and exported) with named turns; the pull quote kept aside, once.
    assert [t["speaker"] for t in en["extras"]["turns"]].count("Vladimir Putin") == 4
    assert {t["speaker_label"] for t in en["extras"]["turns"] if t["speaker"] == "Fyodor Lukyanov"} == {
        "Moderator of the plenary session, Research Director of the Valdai Discussion Club Fyodor Lukyanov",
        "Fyodor Lukyanov",
        "Fydor Lukyanov",
    }
    assert en["extras"]["pull_quotes"] == ["The Far East remains our priority."]
    assert en["text"].count("The Far East remains our priority.") == 1
    assert en["extractor"]["parser"] == "kremlin" and en["extractor"]["parser_version"] == 2
    day_lines = [
        json.loads(line) for path in out.glob("*/items.jsonl") for line in path.read_text(encoding="utf-8").splitlines()
    ]
    assert next(i for i in day_lines if i["id"] == en["id"])["extras"]["turns"] == en["extras"]["turns"]

    # The watch limited to Putin: "Chinese cars" is said only by others, "Far East" / "приоритетом" by him.
    watched = {
        key: sorted(h["name"] for h in item.get("watch", []))
        for key, item in (("en", en), ("ru", ru), ("interview", interview))
    }
    assert watched == {"en": ["Cars", "PutinPriority"], "ru": ["PutinPriority"], "interview": []}
    priority = next(h for h in ru["watch"] if h["name"] == "PutinPriority")
    assert priority["found"] == ["приоритетом"] and priority["in"] == ["text"]

    # quotes: the answer, the question it answers, the link; exit 0.
    proc = newsmon("quotes", "project together", "--speaker", "Vladimir Putin", "--config", str(cfg), check=True)
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("2025-09-05  kremlin/transcripts  Vladimir Putin  'project together' in text")
    assert "  Plenary session of the Eastern Economic Forum" in lines
    assert f"  {site_server.url}{EN_PATH}  #{en['id'][:8]}" in lines
    question = lines.index("  Q Ilya Doronov:")
    assert lines[question + 1].startswith("    EN: I would like to ask about Chinese cars.")
    assert lines[question + 2 : question + 5] == [
        "  A Vladimir Putin:",
        "    EN: No, we are working on this project together.",
        "    […]",
    ]
    assert lines[-1] == "1 quote"

    # A speaker who never says it: no quote, exit 1 (as grep); the typo'd label shown beside the name.
    none = newsmon("quotes", "Chinese car*", "--speaker", "Putin", "--config", str(cfg))
    assert none.returncode == 1 and none.stdout.splitlines()[-1] == "0 quotes"
    cars = newsmon("quotes", "Chinese car*", "--config", str(cfg), check=True).stdout
    assert "  A Fyodor Lukyanov [Fydor Lukyanov]:" in cars and cars.count("  A Ilya Doronov:") == 2
    assert cars.splitlines()[-1] == "3 quotes"

    # The Russian transcript: the original now, its English once translated.
    pending = newsmon("quotes", "проект*", "--config", str(cfg), check=True).stdout.splitlines()
    assert "  A Vladimir Putin [В.Путин]:" in pending and "    EN: (translation pending)" in pending
    assert "    RU: Нет, мы работаем над этим проектом вместе." in pending
    assert "  Q И.Доронов [И.Доронов]:" not in pending and "  Q И.Доронов:" in pending
    translated = translate_later(out, ru)
    rows = [
        json.loads(line)
        for line in newsmon("quotes", "проект*", "--json", "--config", str(cfg), check=True).stdout.splitlines()
    ]
    assert len(rows) == 1
    quote = rows[0]
    assert (quote["speaker"], quote["speaker_label"], quote["url"]) == (
        "Vladimir Putin",
        "В.Путин",
        f"{site_server.url}{RU_PATH}",
    )
    start = translated["paragraphs"].index("В.Путин: Нет, мы работаем над этим проектом вместе.")
    assert quote["text_en"] == "\n\n".join(
        [translated["paragraphs_en"][start].split(": ", 1)[1], translated["paragraphs_en"][start + 1]]
    )
    assert quote["question"]["speaker"] == "И.Доронов"
    assert quote["question"]["text_en"] == translated["paragraphs_en"][start - 1].split(": ", 1)[1]
    assert quote["title_en"] == "Plenary session (English)" and quote["in"] == ["text"]

    # An English phrase finds the Russian turn through its English; --since leaves out older transcripts.
    english = newsmon("quotes", f"text {start + 1}", "--config", str(cfg), check=True).stdout
    assert f"'text {start + 1}' in text_en" in english
    judges = newsmon("quotes", "call judges", "--speaker", "Putin", "--config", str(cfg), check=True).stdout
    assert judges.startswith(f"{interview['published_at'][:10]}  kremlin/transcripts  Vladimir Putin")
    assert "  Q Andrei Vandenko:\n    EN: When was the last time you called a judge?" in judges
    assert "    EN: I never call judges. At all." in judges
    later = newsmon("quotes", "call judges", "--since", "2025-01-01", "--config", str(cfg))
    assert later.returncode == 1 and later.stdout == "0 quotes\n"


def test_quotes_refuses_a_bad_phrase_or_date_in_one_line(tmp_path, newsmon):
    bad = newsmon("quotes", "Put*in", "--output", str(tmp_path / "out"))
    assert bad.returncode == 2 and "only one trailing *" in bad.stderr and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    date = newsmon("quotes", "Putin", "--since", "2025-13-01", "--output", str(tmp_path / "out"))
    assert date.returncode == 2 and "not a calendar date" in date.stderr
    empty = newsmon("quotes", "Putin", "--output", str(tmp_path / "out"))
    assert empty.returncode == 1 and "nothing stored yet" in empty.stdout
