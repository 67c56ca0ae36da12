"""`newsmon status` over real runs against the loopback site: all well → 0; a broken section → 1."""

from __future__ import annotations

import json

from tests.schedsite import LISTING, make_config, serve_site
from tests.sitesrv import Route

# A small log file, to see it rotate; a section judged on one run (the default waits two: hysteresis).
EXTRA = "\n[logging]\nmax_bytes = 2000\nbackup_count = 2\n[lifecycle]\nhysteresis_runs = 1\n"


def test_status_reports_a_broken_section_and_exits_non_zero(tmp_path, site_server, newsmon):
    serve_site(site_server)
    cfg = make_config(tmp_path, site_server, extra=EXTRA)
    out = tmp_path / "out"
    args = ("--config", str(cfg), "--output", str(out))
    assert newsmon("run", *args).returncode == 0
    healthy = newsmon("status", *args)
    assert healthy.returncode == 0, healthy.stdout
    assert "kremlin/news" in healthy.stdout and "nothing needs attention" in healthy.stdout
    healthy_run = json.loads(newsmon("status", "--json", *args).stdout)
    (succeeded,) = [s["last_success"] for s in healthy_run["sections"] if s["section"] == "kremlin/news"]

    # The layout changes: a sizeable page where the link rule finds nothing.
    site_server.routes[LISTING] = Route(b"<html><body>" + b"<p>redesigned</p>" * 2000 + b"</body></html>")
    newsmon("run", *args)
    broken = newsmon("status", *args)
    assert broken.returncode == 1, broken.stdout
    assert "section kremlin/news is broken" in broken.stdout and "link rule" in broken.stdout
    report = json.loads(newsmon("status", "--json", *args).stdout)
    section = next(s for s in report["sections"] if s["section"] == "kremlin/news")
    assert section["state"] == "broken"
    # the healthy run's time (runs a second apart or less have equal times: compared with its own report)
    assert succeeded and section["last_success"] == succeeded <= section["since"]
    assert any("kremlin/news" in a for a in report["attention"])

    logs = out / "logs"  # the rotating log file: rotated at 2000 bytes, two backups kept
    assert (logs / "newsmon.log").exists() and (logs / "newsmon.log.1").exists()
    assert not (logs / "newsmon.log.3").exists()


def test_status_of_an_empty_output_dir_needs_attention(tmp_path, newsmon):
    proc = newsmon("status", "--output", str(tmp_path / "nothing"), "--json")
    assert proc.returncode == 1
    assert "no cycle has run" in json.loads(proc.stdout)["attention"][0]
    assert not (tmp_path / "nothing").exists()  # status never creates anything
