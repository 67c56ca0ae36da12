"""End to end: four real `newsmon run` nights against a loopback site whose article pages change under three
sections, then `newsmon status`, the digest, alerts.jsonl and a webhook.

The articles are the recorded Kremlin pages (crawler/demo/kremlin-en/), each night under new URLs so that
every night brings three new items per section. Their "new template" is made here from each recorded page
(its og:title kept; the text moved behind a client-side reader, the date gone): it extracts to one short
line and no date — the silent degradation this feature is for. The bot wall is the SYNTHETIC
tests/resources/synthetic/bot-wall-challenge.html.

  night  drift           blip            walled
  1      recorded        recorded        recorded
  2      new template    new template    bot walls
  3      new template    recorded        bot walls     → drift and walled degraded (2 nights in a row)
  4      recorded        recorded        recorded      → both recovered; blip never alerted
"""

import html
import json
import re
import statistics

from crawler.demo_site import demo_files
from crawler.store import items as item_store
from tests.alerting import WebhookReceiver, kremlin_nights_config, rows, serve_kremlin_night
from tests.recorded import RECORDED

WALL = (RECORDED.parent / "synthetic" / "bot-wall-challenge.html").read_bytes()
IDS = {"drift": ["63953", "56514", "8043"], "blip": ["62861", "52988", "17109"], "walled": ["63440", "57246", "62299"]}
PLAN = {
    1: {"drift": "recorded", "blip": "recorded", "walled": "recorded"},
    2: {"drift": "new template", "blip": "new template", "walled": "wall"},
    3: {"drift": "new template", "blip": "recorded", "walled": "wall"},
    4: {"drift": "recorded", "blip": "recorded", "walled": "recorded"},
}
DEGRADED, RECOVERED = "section_extraction_degraded", "section_extraction_recovered"


def new_template(recorded: bytes) -> bytes:
    """The recorded article in a redesigned template: title kept, text loaded by script, no date."""
    title = html.unescape(re.search(rb'<meta property="og:title" content="([^"]*)"', recorded).group(1).decode())
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'</head><body><header><a href="/">President of Russia</a></header><main><h1>{html.escape(title)}</h1>'
        '<p class="teaser">The full text opens in the reader once the page has loaded.</p>'
        '<div id="reader" data-src="/api/reader"></div></main>'
        "<footer><p>Content licensed under CC BY 4.0.</p></footer></body></html>"
    ).encode()


def serve_night(server, night: int) -> None:
    files = demo_files()
    for name, template in PLAN[night].items():
        pages = {ident: files[f"news-{ident}.html"] for ident in IDS[name]}
        serve_kremlin_night(
            server,
            name,
            night,
            {
                ident: {"recorded": page, "new template": new_template(page), "wall": WALL}[template]
                for ident, page in pages.items()
            },
        )


def config(tmp_path, server, hook):
    return kremlin_nights_config(tmp_path, server, {name: {} for name in IDS}, hook)


def test_four_nights_of_article_pages_changing_under_their_sections(tmp_path, site_server, newsmon):
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
            assert proc.returncode == (1 if "wall" in PLAN[night].values() else 0), proc.stdout + proc.stderr
            if night >= 3:
                status[night] = newsmon("status", "--config", str(cfg))
            if night == 3:
                digest = next(out.glob("*/digest.txt")).read_text(encoding="utf-8")
    finally:
        hook.stop()

    got = rows(
        out, "SELECT run_id, type, section, cause FROM events WHERE type IN (?, ?) ORDER BY seq", DEGRADED, RECOVERED
    )
    assert [(e["run_id"], e["type"], e["section"]) for e in got] == [
        (3, DEGRADED, "kremlin/drift"),
        (3, DEGRADED, "kremlin/walled"),
        (4, RECOVERED, "kremlin/drift"),
        (4, RECOVERED, "kremlin/walled"),
    ]

    # The cause in words, with the figures of the stored items: run 3 against run 1 (run 2 was no yardstick).
    usual, now = median_text(out, "kremlin/drift", 1), median_text(out, "kremlin/drift", 3)
    assert now < 100 < 1000 < usual
    assert got[0]["cause"].startswith(
        f"median text {now:,} characters (usual {usual:,}); "
        "dates on 0 of 3 items (usual 3 of 3) (2 consecutive runs, since "
    )
    assert got[1]["cause"].startswith("3 of 3 fetched pages yielded no article; first: ")
    assert "bot wall or JavaScript-only page (DDoS-Guard check" in got[1]["cause"]

    # The bot wall: failed pages with the cause in the crawl report, no item; the other sections landed theirs.
    report = json.loads(rows(out, "SELECT summary FROM runs WHERE id = 2")[0]["summary"])["sections"]
    walled = report["kremlin/walled"]
    assert (walled["failed"], walled["unextracted"], walled["landed"]) == (3, 3, 0)
    assert all("extraction failed: bot wall or JavaScript-only page (DDoS-Guard check" in e for e in walled["errors"])
    assert (report["kremlin/drift"]["landed"], report["kremlin/blip"]["landed"]) == (3, 3)
    landed = rows(out, "SELECT section, count(*) AS n FROM articles WHERE run_id = 2 GROUP BY section")
    assert {r["section"]: r["n"] for r in landed} == {"kremlin/drift": 3, "kremlin/blip": 3}

    # Status names the degraded sections and exits 1 while they are; all well again after night 4.
    assert status[3].returncode == 1, status[3].stdout
    assert "section kremlin/drift: extraction degraded since" in status[3].stdout
    assert "section kremlin/walled: extraction degraded since" in status[3].stdout
    assert "kremlin/blip" not in "".join(line for line in status[3].stdout.splitlines() if "extraction" in line)
    assert status[4].returncode == 0 and "extraction degraded" not in status[4].stdout, status[4].stdout

    # Night 3's digest says why the drift section's items are no news, instead of listing them as such.
    line = next(line for line in digest.splitlines() if line.startswith("!! DEGRADED"))
    assert "| kremlin/drift |" in line and f"extraction degraded: median text {now:,} characters" in line

    # alerts.jsonl and the webhook carry them like any event.
    in_file = [json.loads(line)["type"] for line in (out / "alerts.jsonl").read_text().splitlines()]
    assert in_file.count(DEGRADED) == 2 and in_file.count(RECOVERED) == 2
    messages = [post["message"] for post in hook.posts]
    assert any("Extraction degraded (2)" in m and "• kremlin/drift: median text" in m for m in messages), messages
    assert any("Extraction back (2)" in m for m in messages), messages


def median_text(out, section: str, run_id: int) -> int:
    items = rows(
        out,
        "SELECT i.json FROM items i JOIN articles a ON a.id = i.id WHERE a.section = ? AND a.run_id = ?",
        section,
        run_id,
    )
    return round(statistics.median(len(item_store.loads(r["json"])["text"]) for r in items))
