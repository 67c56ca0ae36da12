"""End to end: four real `newsmon run` nights against a loopback site whose sections keep answering with
articles that extract fine — but two of them, for a while, with articles that are not about their subject.
Then `newsmon status`, the digest, alerts.jsonl and a webhook; and `newsmon sources check` on a bad subject.

The articles are the recorded Kremlin pages (crawler/demo/kremlin-en/), each night under new URLs so that every
night brings three new items per section. The subject is the regions: ON pages mention a region, a governor or
Crimea (the Taurida motorway, the governors' meeting, Aeroflot's regional routes); OFF pages none of them (an
executive order on law enforcement, Zhirinovsky, Patrushev).

  night  regions   blip   plain (no subject)
  1      ON        ON     OFF
  2      OFF       OFF    OFF
  3      OFF       ON     OFF     → regions off subject (2 nights in a row)
  4      ON        ON     OFF     → regions on subject again; blip never alerted; plain never judged
"""

import json

from crawler.demo_site import demo_files
from crawler.store import items as item_store
from tests.alerting import WebhookReceiver, kremlin_nights_config, rows, serve_kremlin_night

SUBJECT = ["region*", "governor*", "Crimea*", "Sevastopol*"]
PAGES = {"ON": ["63953", "56514", "52988"], "OFF": ["11287", "62299", "8043"]}
PLAN = {
    1: {"regions": "ON", "blip": "ON", "plain": "OFF"},
    2: {"regions": "OFF", "blip": "OFF", "plain": "OFF"},
    3: {"regions": "OFF", "blip": "ON", "plain": "OFF"},
    4: {"regions": "ON", "blip": "ON", "plain": "OFF"},
}
OFF, ON = "section_off_subject", "section_on_subject"


def serve_night(server, night: int) -> None:
    files = demo_files()
    for name, kind in PLAN[night].items():
        serve_kremlin_night(server, name, night, {ident: files[f"news-{ident}.html"] for ident in PAGES[kind]})


def config(tmp_path, server, hook, subject=SUBJECT):
    return kremlin_nights_config(
        tmp_path, server, {name: ({"subject": subject} if name != "plain" else {}) for name in PLAN[1]}, hook
    )


def test_four_nights_of_a_section_drifting_off_its_subject_and_back(tmp_path, site_server, newsmon):
    hook = WebhookReceiver().start()
    cfg, out = config(tmp_path, site_server, hook), tmp_path / "output"
    status = {}
    try:
        for night in PLAN:
            serve_night(site_server, night)
            proc = newsmon("run", "--config", str(cfg), timeout=90)
            assert "Traceback" not in proc.stderr and "stage crawler.lifecycle.stage failed" not in proc.stdout, (
                proc.stdout + proc.stderr
            )
            assert proc.returncode == 0, proc.stdout + proc.stderr
            status[night] = newsmon("status", "--config", str(cfg))
            if night == 3:
                digest = next(out.glob("*/digest.txt")).read_text(encoding="utf-8")
    finally:
        hook.stop()

    # Every night's items landed and extracted: the lifecycle and extraction health have nothing to say.
    landed = rows(out, "SELECT run_id, section, count(*) AS n FROM articles GROUP BY run_id, section")
    assert {(r["run_id"], r["section"]): r["n"] for r in landed} == {
        (night, f"kremlin/{name}"): 3 for night in PLAN for name in PLAN[night]
    }
    assert not rows(out, "SELECT * FROM events WHERE type LIKE 'section_extraction_%'")

    got = rows(
        out, "SELECT run_id, type, section, cause, details FROM events WHERE type IN (?, ?) ORDER BY seq", OFF, ON
    )
    assert [(e["run_id"], e["type"], e["section"]) for e in got] == [
        (3, OFF, "kremlin/regions"),
        (4, ON, "kremlin/regions"),
    ]
    off_titles = [title_of(out, f"/regions/n3/{ident}") for ident in PAGES["OFF"][:2]]  # the listing's first
    assert got[0]["cause"] == (
        "0 of 3 new items mention the section's subject (region*, governor*, Crimea*, …); usually 3 of 3 — e.g. "
        f"'{off_titles[0]}', '{off_titles[1]}' (2 consecutive runs, since {checked_at(out, 2)})"
    ), got[0]["cause"]
    assert json.loads(got[0]["details"])["measured"] == {"items": 3, "on_subject": 0, "share": 0.0}
    assert got[1]["cause"].startswith(
        "3 of 3 new items mention the section's subject (region*, governor*, "
        "Crimea*, …); usually 3 of 3 (off subject since "
    )

    # Judged: the sections with a subject, every night; the one without never.
    judged = rows(
        out, "SELECT run_id, section, on_subject, verdict, state FROM section_subject ORDER BY run_id, section"
    )
    assert [(r["run_id"], r["section"], r["on_subject"], r["verdict"], r["state"]) for r in judged] == [
        (1, "kremlin/blip", 3, "on", "on"),
        (1, "kremlin/regions", 3, "on", "on"),
        (2, "kremlin/blip", 0, "off", "on"),
        (2, "kremlin/regions", 0, "off", "on"),
        (3, "kremlin/blip", 3, "on", "on"),
        (3, "kremlin/regions", 0, "off", "off"),
        (4, "kremlin/blip", 3, "on", "on"),
        (4, "kremlin/regions", 3, "on", "on"),
    ]

    # Status names the off-subject section and exits 1 while it is; all well before and after.
    assert status[3].returncode == 1, status[3].stdout
    assert f"section kremlin/regions: off subject since {checked_at(out, 2)}: 0 of 3 new items" in status[3].stdout
    assert "off subject" not in "".join(line for line in status[3].stdout.splitlines() if "blip" in line)
    for night in (1, 2, 4):
        assert status[night].returncode == 0 and "off subject" not in status[night].stdout, status[night].stdout

    # Night 3's digest says why the section's items are not what it is followed for.
    statuses = [line for line in digest.splitlines() if line.startswith(("!! ", "   ")) and " | kremlin/" in line]
    line = next(line for line in statuses if "| kremlin/regions |" in line)
    assert line.startswith("!! OFF-SUBJECT") and "off subject: 0 of 3 new items mention" in line, line
    assert next(line for line in statuses if "| kremlin/blip |" in line).startswith("   OK"), statuses

    # alerts.jsonl and the webhook carry them like any event.
    in_file = [json.loads(line)["type"] for line in (out / "alerts.jsonl").read_text().splitlines()]
    assert in_file.count(OFF) == 1 and in_file.count(ON) == 1
    messages = [post["message"] for post in hook.posts]
    assert any("Sections off subject (1)" in m and "kremlin/regions" in m for m in messages), messages
    assert any("Sections on subject again (1)" in m for m in messages), messages


def test_sources_check_names_a_bad_subject_at_its_line(tmp_path, site_server, newsmon):
    cfg = config(tmp_path, site_server, None, subject=["Crimea*", "Sevasto*pol"])
    proc = newsmon("sources", "check", "--config", str(cfg))
    line = next(n for n, text in enumerate(cfg.read_text().splitlines(), 1) if "Sevasto*pol" in text)
    assert proc.returncode != 0
    assert (
        f"{cfg}:{line}: sources[kremlin].sections[regions].subject: 'Sevasto*pol': only one trailing *" in proc.stderr
    ), proc.stderr


def title_of(out, path: str) -> str:
    items = rows(out, "SELECT i.json FROM items i JOIN articles a ON a.id = i.id WHERE a.url LIKE ?", f"%{path}")
    return item_store.loads(items[0]["json"])["title"]


def checked_at(out, run_id: int) -> str:
    return rows(
        out, "SELECT checked_at FROM section_snapshots WHERE run_id = ? AND section = 'kremlin/regions'", run_id
    )[0]["checked_at"]
