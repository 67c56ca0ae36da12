"""`newsmon demo` lands the bundled Kremlin pages without network, from any directory, once."""

from __future__ import annotations

import json

from tests.conftest import run_newsmon
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
