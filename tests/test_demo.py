"""`newsmon demo` lands the bundled Kremlin pages without network, from any directory, once; those pages are
the tests' Kremlin fixtures too, kept once, with their origin and licence in pages.json."""

from __future__ import annotations

import json

from crawler.demo_site import demo_files
from tests.conftest import run_newsmon
from tests.recorded import RECORDED, recorded
from tests.test_crawl_bad_input import closed_port as free_port


def test_demo_lands_every_bundled_article_once(tmp_path):
    out = tmp_path / "demo-out"
    env = {"NEWSMON_DEMO_PORT": str(free_port())}       # not the default port: suites may run side by side
    first = run_newsmon("demo", "--output", str(out), cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    items = [json.loads(line) for f in out.glob("*/items.jsonl") for line in f.read_text("utf-8").splitlines()]
    assert len(items) == len({i["id"] for i in items}) == 11
    assert all(i["lang"] == "en" and i["title"] and i["paragraphs"] for i in items)
    assert "Launching motor traffic on completed sections of Taurida motorway" in first.stdout
    second = run_newsmon("demo", "--output", str(out), cwd=tmp_path, env=env)
    assert second.returncode == 0 and "nothing new" in second.stdout, second.stdout + second.stderr


def test_bundled_pages_are_kept_once_with_their_origin_and_licence():
    pages = {p["file"]: p for p in json.loads((RECORDED / "pages.json").read_text("utf-8"))["pages"]}
    bundled = [f"kremlin-en/{name}" for name in demo_files()]
    assert bundled
    for name in bundled:
        assert pages[name]["license"].startswith("CC BY 4.0") and pages[name]["commit"], name
        assert not (RECORDED / name).exists(), f"{name}: a second copy under tests/resources/recorded"
    missing = [name for name in pages if not recorded(name).is_file()]
    assert not missing, missing
