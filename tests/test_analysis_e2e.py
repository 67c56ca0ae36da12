"""End to end: one real `newsmon run` (a subprocess) against a loopback site of wire pages with datelines and
a People's Daily Russia list with one article that never mentions Russia; then alerts.jsonl, the digest and
`newsmon search --flag`.

Pages: the recorded Xinhua world article (a real capture, 新华社巴黎12月9日电, published the next morning: one day,
not held) and the recorded People's Daily politics article (a Xinhua wire story on space cooperation with Latin
America: no word of Russia); SYNTHETIC (tests/resources/synthetic, marked so): a Xinhua story datelined
Vladivostok 8 September and published on the 11th, a TASS story filed in Moscow on 30 December and published on
2 January, a TASS English story published on its dateline's day, and a People's Daily Russia story.
"""

from __future__ import annotations

import json

import pytest
from lxml import etree

from crawler.localsite import Route, page, write_loopback_config
from crawler.store import items as item_store
from tests.alerting import rows
from tests.crawlsite import REC, SYN

SUBJECT = ["俄罗斯", "俄", "普京", "Russia*", "Росси*"]
HELD_XINHUA = "/world/2026-09/11/c_1130900001.htm"
PAGES = {
    "/people/russia/": SYN / "peoples-daily-russia-analysis.SYNTHETIC.html",
    "/n1/2026/0909/c1002-40900001.html": SYN / "peoples-daily-russia-dateline.SYNTHETIC.html",
    "/n1/2024/0424/c1001-40223222.html": REC / "peoples-daily/politics-2024-0424-c1001-40223222.html",
    HELD_XINHUA: SYN / "xinhua-dateline-vladivostok.SYNTHETIC.html",
    "/world/2019-12/10/c_1125327450.htm": REC / "xinhua/world-2019-12-10-c_1125327450.html",
    "/tassru/ekonomika/2900002": SYN / "tass-ru-dateline.SYNTHETIC.html",
    "/economy/1900002": SYN / "tass-en-dateline.SYNTHETIC.html",
}
LISTS = {
    "/xinhua/world/": [HELD_XINHUA, "/world/2019-12/10/c_1125327450.htm"],
    "/tassru/all/": ["/tassru/ekonomika/2900002"],
    "/tass/all/": ["/economy/1900002"],
}


def listing(links: list[str]) -> Route:
    return Route(
        (
            "<html><body><ul>"
            + "".join(f'<li class="item"><a href="{h}">story</a></li>' for h in links)
            + "</ul></body></html>"
        ).encode("utf-8")
    )


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    from crawler.localsite import SiteServer
    from tests.conftest import run_newsmon

    server = SiteServer().start()
    for path, file in PAGES.items():
        server.routes[path] = page(file)
    for path, links in LISTS.items():
        server.routes[path] = listing(links)
    tmp = tmp_path_factory.mktemp("analysis")
    base = server.url

    def listed(ident, name, path, css="li.item a", **keys):
        return {"id": ident, "name": name, "kind": "listing", "url": f"{base}{path}", "link_css": css, **keys}

    cfg = write_loopback_config(
        tmp / "newsmon.toml",
        [
            {
                "id": "people",
                "name": "People's Daily",
                "sections": [listed("russia", "Russia", "/people/russia/", css="div.ej_bor a", subject=SUBJECT)],
            },
            {"id": "xinhua", "name": "Xinhua", "sections": [listed("world", "World", "/xinhua/world/")]},
            {"id": "tass-ru", "name": "TASS (Russian)", "sections": [listed("all", "All", "/tassru/all/")]},
            {"id": "tass-en", "name": "TASS", "sections": [listed("all", "All", "/tass/all/")]},
        ],
        crawler={"output_dir": str(tmp / "output"), "timeout": 5},
    )
    proc = run_newsmon("run", "--config", str(cfg), cwd=tmp)
    yield cfg, tmp / "output", proc
    server.stop()


def items_by_path(out) -> dict[str, dict]:
    got = rows(out, "SELECT json FROM items")
    return {
        path: item
        for item in (item_store.loads(r["json"]) for r in got)
        for path in PAGES
        if item["url"].endswith(path)
    }


def test_the_run_lands_every_page_and_no_stage_fails(crawled):
    _cfg, out, proc = crawled
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "stage crawler.analysis.stage failed" not in proc.stdout + proc.stderr
    assert len(items_by_path(out)) == 6


def test_datelines_are_read_and_held_items_flagged(crawled):
    _cfg, out, _proc = crawled
    items = items_by_path(out)
    seen = {path: (i["extras"].get("dateline") or {}) for path, i in items.items()}
    assert {p: (d.get("place"), d.get("date"), d.get("lag_days")) for p, d in seen.items()} == {
        "/n1/2026/0909/c1002-40900001.html": ("莫斯科", "2026-09-08", 1),
        "/n1/2024/0424/c1001-40223222.html": ("北京", "2024-04-24", 0),
        HELD_XINHUA: ("符拉迪沃斯托克", "2026-09-08", 3),
        "/world/2019-12/10/c_1125327450.htm": ("巴黎", "2019-12-09", 1),
        "/tassru/ekonomika/2900002": ("Москва", "2025-12-30", 3),  # December, published in January
        "/economy/1900002": ("Vladivostok", "2026-09-05", 0),
    }
    flags = {path: i.get("flags", []) for path, i in items.items()}
    assert flags == {
        "/n1/2026/0909/c1002-40900001.html": [],
        "/n1/2024/0424/c1001-40223222.html": ["off_subject"],
        HELD_XINHUA: ["dateline_lag"],
        "/world/2019-12/10/c_1125327450.htm": [],
        "/tassru/ekonomika/2900002": ["dateline_lag"],
        "/economy/1900002": [],
    }
    # The day file says the same as the DB.
    lines = [json.loads(line) for f in out.glob("*/items.jsonl") for line in f.read_text().splitlines()]
    assert {i["id"]: i.get("flags", []) for i in lines} == {i["id"]: flags[p] for p, i in items.items()}


def test_held_items_are_article_held_events_in_alerts_jsonl(crawled):
    _cfg, out, _proc = crawled
    items = items_by_path(out)
    held = [e for e in map(json.loads, (out / "alerts.jsonl").read_text().splitlines()) if e["type"] == "article_held"]
    assert sorted((e["article_id"], e["section"]) for e in held) == sorted(
        [(items[HELD_XINHUA]["id"], "xinhua/world"), (items["/tassru/ekonomika/2900002"]["id"], "tass-ru/all")]
    )
    tass = next(e for e in held if e["section"] == "tass-ru/all")
    assert tass["cause"] == "published 3 days after its dateline МОСКВА, 30 декабря. /ТАСС/ (2025-12-30 → 2026-01-02)"
    assert tass["details"]["lag_days"] == 3 and tass["details"]["url"].endswith("/tassru/ekonomika/2900002")


def test_the_digest_says_held_and_off_subject_beside_the_titles(crawled):
    _cfg, out, _proc = crawled
    items = items_by_path(out)
    digest = next(out.glob("*/digest.txt")).read_text(encoding="utf-8")
    lines = digest.splitlines()
    xinhua = items[HELD_XINHUA]["id"][:8]
    assert "HELD 3 DAYS" in next(line for line in lines if f"#{xinhua} |" in line)
    assert (
        f"    #{xinhua} NOTE HELD 3 DAYS: datelined 符拉迪沃斯托克 2026-09-08 (新华社符拉迪沃斯托克9月8日电), "
        "published 2026-09-11"
    ) in lines
    space = items["/n1/2024/0424/c1001-40223222.html"]["id"][:8]
    assert next(line for line in lines if f"#{space} |" in line).endswith("OFF-SUBJECT")
    assert f"    #{space} NOTE in Russia section, no mention of 俄罗斯, 俄, 普京, …" in lines
    on_subject = items["/n1/2026/0909/c1002-40900001.html"]["id"][:8]
    assert f"#{on_subject} NOTE" not in digest
    html = etree.HTML(next(out.glob("*/digest.html")).read_text(encoding="utf-8"))
    notes = html.xpath("//p[@class='note']/text()")
    assert "in Russia section, no mention of 俄罗斯, 俄, 普京, …" in notes and len(notes) == 3


def test_search_finds_the_off_subject_item_by_its_flag(crawled, newsmon):
    cfg, out, _proc = crawled
    proc = newsmon("search", "--flag", "off_subject", "--json", "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    hits = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [h["url"] for h in hits] == [items_by_path(out)["/n1/2024/0424/c1001-40223222.html"]["url"]]
