"""Watch phrases end to end: `newsmon run` over recorded pages on loopback, `newsmon watch`, `--rematch`,
`newsmon sources check` — real CLI subprocesses, real state DB, the real alert delivery (a webhook)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from crawler import jsonl, state
from crawler.items import TRANSLATION_FIELDS
from crawler.store import dayfiles
from crawler.store import items as item_store
from crawler.store.dayfiles import export_now
from crawler.translation import store as translation_store
from tests import digestkit
from tests.alerting import WebhookReceiver
from tests.recorded import recorded
from tests.sitesrv import Route, page, write_loopback_config

pytestmark = pytest.mark.usefixtures("state_backend")  # every test on SQLite and on PostgreSQL

PD_PATH = "/n1/2024/0424/c1001-40223222.html"
KREMLIN_PATH = "/events/president/news/63953"
WATCHES = """
[[watch]]
name = "Crimea"
phrases = ["Crimea*", "Крым*"]

[[watch]]
name = "Xi"
phrases = ["Xi Jinping", "习近平"]

[[watch]]
name = "Space"
phrases = ["space technology"]
sections = ["people/*"]
"""


def listing(links: list[str]) -> Route:
    items = "".join(f'<li class="item"><a href="{href}">story</a></li>' for href in links)
    return Route(f"<html><body><ul>{items}</ul></body></html>".encode())


def write_config(tmp: Path, base: str, extra: str) -> Path:
    def listed(ident: str, path: str) -> dict:
        return {"id": ident, "kind": "listing", "url": f"{base}{path}", "link_css": "li.item a"}

    return write_loopback_config(
        tmp / "newsmon.toml",
        [
            {"id": "people", "name": "People's Daily", "sections": [listed("politics", "/politics/")]},
            {"id": "kremlin", "name": "Kremlin", "sections": [listed("news", "/news/")]},
        ],
        crawler={"output_dir": str(tmp / "output"), "timeout": 5},
        extra=extra,
    )


def items_by_id(out: Path) -> tuple[dict[str, dict], dict[str, dict]]:
    """(DB rows, items.jsonl lines of every day) by item id; a second line of an id fails the test."""
    conn = state.connect(out)
    try:
        rows = {r["id"]: item_store.loads(r["json"]) for r in conn.execute("SELECT id, json FROM items")}
    finally:
        conn.close()
    lines = [obj for day in sorted(dayfiles.file_days(out)) for obj in dayfiles.read_items(out, day)]
    assert len({o["id"] for o in lines}) == len(lines), "an item got a second line"
    return rows, {o["id"]: o for o in lines}


def bare(hits: list[dict]) -> list[dict]:
    """The item's hits without their keyword-in-context snippets (tested on their own)."""
    return [{k: v for k, v in hit.items() if k != "contexts"} for hit in hits]


def watch_events(out: Path) -> list[dict]:
    return [e for e in jsonl.read(out / "alerts.jsonl") if e["type"] == "watch_matched"]


def test_a_run_marks_the_items_announces_once_and_flags_the_digest(tmp_path, site_server, newsmon):
    site_server.routes.update(
        {
            "/politics/": listing([PD_PATH]),
            PD_PATH: page(recorded(digestkit.PAGES["pd"][2])),
            "/news/": listing([KREMLIN_PATH]),
            KREMLIN_PATH: page(recorded(digestkit.PAGES["kremlin"][2])),
        }
    )
    receiver = WebhookReceiver().start()
    channel = (
        f'\n[alerts]\nretries = 0\n[[alerts.channels]]\nname = "watch-desk"\n'
        f'url = "json://127.0.0.1:{receiver.port}/"\nevents = ["watch_matched"]\n'
    )
    cfg = write_config(tmp_path, site_server.url, WATCHES + channel)
    env = {"ARGOS_PACKAGES_DIR": str(tmp_path / "no-models")}  # no model: the Chinese item stays pending
    out = tmp_path / "output"
    try:
        proc = newsmon("run", "--config", str(cfg), env=env, timeout=60)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stdout + proc.stderr
        assert "stage crawler.watch.stage failed" not in proc.stderr

        rows, lines = items_by_id(out)
        pd = next(i for i in rows if rows[i]["source"] == "people")
        kremlin = next(i for i in rows if rows[i]["source"] == "kremlin")
        assert rows[pd]["translation"]["status"] == "pending"
        assert bare(rows[kremlin]["watch"]) == [
            {"name": "Crimea", "phrases": ["Crimea*"], "found": ["Crimea"], "in": ["text"]}
        ]
        assert bare(rows[pd]["watch"]) == [
            {"name": "Xi", "phrases": ["习近平"], "found": ["习近平"], "in": ["title", "text"]}
        ]
        assert lines[pd]["watch"] == rows[pd]["watch"] and lines[kremlin]["watch"] == rows[kremlin]["watch"]

        events = watch_events(out)
        assert sorted((e["article_id"], e["details"]["watch"]) for e in events) == sorted(
            [(kremlin, "Crimea"), (pd, "Xi")]
        )
        xi = next(e for e in events if e["details"]["watch"] == "Xi")
        assert xi["section"] == "people/politics" and '"习近平" in title, text' in xi["cause"]
        assert rows[pd]["title"][:10] in xi["cause"]
        assert len(receiver.posts) == 1  # one message for the run, watch hits only
        body = receiver.posts[0]["message"]
        assert receiver.posts[0]["title"] == "newsmon: 2 watch hits" and "Watch hits (2)" in body
        assert "• kremlin/news: Launching motor traffic on completed sections of Taurida motorway" in body
        assert '    watch Crimea: "Crimea*" in text — http://127.0.0.1' in body

        digest = next(out.glob("*/digest.txt"))
        grep = subprocess.run(["grep", "watch:Crimea", str(digest)], capture_output=True, text=True, check=True)
        found = grep.stdout.splitlines()
        assert len(found) == 2 and found[0].startswith("WATCH watch:Crimea | kremlin/news | ")
        assert " | kremlin | news | en | EN: Launching motor traffic" in found[1] and found[1].endswith("watch:Crimea")
        text = digest.read_text(encoding="utf-8")
        assert "2 watch hits" in text.splitlines()[0] and "== WATCHED (2) ==" in text
        # keyword in context: under its WATCH line, the sentence of the English item holding the match
        block = text.split("== WATCHED (2) ==")[1].split("== ALERTS")[0].splitlines()
        crimea = [line for line in block if line.startswith(f"    #{kremlin[:8]} ¶")]
        assert crimea and all("**Crimea" in line for line in crimea), block
        sentence = crimea[0].split(" EN  ", 1)[1].replace("**", "")
        assert sentence in rows[kremlin]["text"] and len(sentence) < len(rows[kremlin]["text"])
        assert "| watch_matched |" not in text  # listed once, under WATCHED, not as alerts
        html = (digest.parent / "digest.html").read_text(encoding="utf-8")
        assert '<h2 id="watched">Watched (2)</h2>' in html and f'href="#i-{kremlin}"' in html
        assert "<mark>Crimea</mark>" in html.split('id="watched"')[1].split('id="alerts"')[0]
        assert "<mark>习近平</mark>" in html

        # The Chinese item is translated later (as `newsmon translate --pending` writes it): the English
        # phrases now find it through text_en/title_en; `newsmon watch` matches it before listing.
        english = digestkit.translate(
            dict(rows[pd]),
            digestkit.english_for(rows[pd]["title"], -1),
            [digestkit.english_for(p, n) for n, p in enumerate(rows[pd]["paragraphs"])],
        )
        conn = state.connect(out)
        try:
            fields = {k: english[k] for k in TRANSLATION_FIELDS}
            translation_store.save(conn, {pd: (rows[pd]["content_hash"], fields)})
        finally:
            conn.close()
        export_now(out)  # as the command ends
        assert items_by_id(out)[1][pd]["title_en"] == english["title_en"]
        listed = newsmon("watch", "--config", str(cfg), env=env, check=True).stdout
        assert listed.splitlines()[-1] == "3 hits"
        assert 'people/politics  watch:Space  "space technology" in title_en, text_en' in listed
        assert "  EN: Making space technology better benefit the people" in listed
        assert f"  ZH: {rows[pd]['title']}" in listed and f"{site_server.url}{PD_PATH}  #{pd[:8]}" in listed
        # keyword in context (stdout is a pipe here: the match between **): the English sentence holding
        # the phrase, under the original paragraph it translates
        space = listed.split("watch:Space")[1]
        lines = space.splitlines()
        assert f"    title ZH: {rows[pd]['title']}" in lines
        assert "          EN: Making **space technology** better benefit the people" in space
        at = next(i for i, line in enumerate(lines) if line.startswith("    ¶"))
        n = int(lines[at].split()[0][1:]) - 1  # the paragraph, then its English sentence
        assert lines[at].split(" ZH: ", 1)[1] in rows[pd]["paragraphs"][n]
        assert "**space technology**" in lines[at + 1] and lines[at + 1].startswith("          EN: ")
        assert lines[at + 1][14:].replace("**", "") in english["paragraphs_en"][n]
        rows, lines = items_by_id(out)
        assert [h["name"] for h in rows[pd]["watch"]] == ["Xi", "Space"] and lines[pd] == rows[pd]
        assert rows[pd]["watch"][0]["in"] == ["title", "text", "text_en"]  # Xi Jinping in the English too
        events = watch_events(out)
        assert len(events) == 3 and events[-1]["details"]["watch"] == "Space"  # Xi is not announced again

        again = newsmon("run", "--config", str(cfg), env=env, timeout=60)
        assert again.returncode == 0, again.stdout + again.stderr
        assert len(watch_events(out)) == 3  # nothing new announced
        assert len(receiver.posts) == 2 and "Watch hits (1)" in receiver.posts[1]["message"]  # Space, sent now
        assert 'watch Space: "space technology" in title_en, text_en' in receiver.posts[1]["message"]
        flagged = [
            line
            for line in next(out.glob("*/digest.txt")).read_text(encoding="utf-8").splitlines()
            if " | people | politics | zh | " in line
        ]
        assert len(flagged) == 1 and flagged[0].endswith("watch:Xi watch:Space")
    finally:
        receiver.stop()


def test_rematch_after_adding_a_watch_announces_only_the_new_hits(tmp_path, newsmon):
    out = tmp_path / "output"
    items = digestkit.standard_day(out)
    cfg = tmp_path / "user.toml"
    cfg.write_text(
        f'[crawler]\noutput_dir = "{out}"\n[[watch]]\nname = "Friendship"\nphrases = ["两国人民"]\n', encoding="utf-8"
    )
    first = newsmon("watch", "--config", str(cfg), check=True).stdout  # matches what the day stored
    assert first.splitlines()[-1] == "1 hit" and "watch:Friendship" in first
    assert len(watch_events(out)) == 1

    cfg.write_text(
        cfg.read_text(encoding="utf-8") + '[[watch]]\nname = "Peoples"\nphrases = ["our peoples", "two peoples"]\n',
        encoding="utf-8",
    )
    proc = newsmon("watch", "--rematch", "--config", str(cfg), check=True)
    assert "watch: items: 0/7" in proc.stderr and "watch: items: 7/7 (100%)" in proc.stderr  # progress lines
    assert "rematched 7 items against 2 watches: 3 hits, 2 new" in proc.stdout
    events = watch_events(out)
    assert [e["details"]["watch"] for e in events] == ["Friendship", "Peoples", "Peoples"]
    rows, lines = items_by_id(out)
    assert [h["name"] for h in rows[items["mfa"]["id"]]["watch"]] == ["Friendship", "Peoples"]
    assert bare(rows[items["mid"]["id"]]["watch"]) == [
        {"name": "Peoples", "phrases": ["our peoples"], "found": ["our peoples"], "in": ["text_en"]}
    ]
    assert all(lines[i] == rows[i] for i in rows) and len(lines) == 7
    assert "0 new" in newsmon("watch", "--rematch", "--config", str(cfg), check=True).stdout

    cfg.write_text(
        f'[crawler]\noutput_dir = "{out}"\n[[watch]]\nname = "Peoples"\nphrases = ["our peoples"]\n', encoding="utf-8"
    )
    newsmon("watch", "--rematch", "--config", str(cfg), check=True)
    rows, lines = items_by_id(out)
    assert "watch" not in rows[items["mfa"]["id"]] and "watch" not in lines[items["mfa"]["id"]]
    listed = newsmon("watch", "--config", str(cfg), "--name", "Peoples", check=True).stdout
    assert listed.splitlines()[-1] == "1 hit" and len(watch_events(out)) == 3
    later = newsmon("watch", "--config", str(cfg), "--name", "Peoples", "--since", "2030-01-01")
    assert later.returncode == 1 and later.stdout == "0 hits\n"  # none: as grep
    gone = newsmon("watch", "--config", str(cfg), "--name", "Friendship", "--name", "Nope")
    assert gone.returncode == 2 and gone.stdout == "" and "Traceback" not in gone.stderr
    assert gone.stderr == "newsmon: error: no such watch: Friendship, Nope (configured watches: Peoples)\n"


def test_rematch_rewrites_the_digest_of_each_day_it_changed(tmp_path, newsmon):
    out = tmp_path / "output"
    items = digestkit.standard_day(out)
    cfg = tmp_path / "user.toml"
    cfg.write_text(f'[crawler]\noutput_dir = "{out}"\n', encoding="utf-8")
    newsmon("digest", "--config", str(cfg), "--date", digestkit.DAY, check=True)
    digest = out / digestkit.DAY / "digest.txt"
    assert "== WATCHED" not in digest.read_text(encoding="utf-8")
    cfg.write_text(
        cfg.read_text(encoding="utf-8") + '[[watch]]\nname = "Kremlin"\nphrases = ["Путин*", "Putin"]\n',
        encoding="utf-8",
    )
    proc = newsmon("watch", "--rematch", "--config", str(cfg), check=True)
    assert f"digests rewritten: {digestkit.DAY}" in proc.stdout
    text = digest.read_text(encoding="utf-8")
    watched = [line for line in text.splitlines() if line.startswith("WATCH watch:Kremlin")]
    assert len(watched) == 2 and "2 watch hits" in text.splitlines()[0]
    kommersant = items["kommersant"]["id"][:8]
    assert any(line.startswith(f"    #{kommersant} ") and "**Путин" in line for line in text.splitlines())
    assert "<mark>Putin</mark>" in (out / digestkit.DAY / "digest.html").read_text(encoding="utf-8")


def test_sources_check_names_a_malformed_watch_with_file_and_line(tmp_path, newsmon):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[watch]]\nname = "Xi"\nphrases = ["Xi Jinping"]\n\n[[watch]]\nname = "Kremlin"\nphrases = "Putin"\n',
        encoding="utf-8",
    )
    proc = newsmon("sources", "check", "--config", str(bad))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"{bad}:7: [[watch]] #2.phrases: expected list, got str 'Putin'" in proc.stderr
    proc = newsmon("watch", "--config", str(bad), "--output", str(tmp_path / "out"))
    assert proc.returncode == 2 and f"{bad}:7: [[watch]] #2.phrases" in proc.stderr
