"""SIGTERM at any moment of `newsmon run` leaves the run recorded as interrupted, never as 'running'.

Before the crawl starts (imports, recovery) and after it (the stages) newsmon's own handler serves; during
the crawl Scrapy's graceful shutdown does. Both must end with the same record and no traceback.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from crawler.localsite import Route, write_loopback_config
from tests.conftest import ROOT


def run_rows(db) -> list[tuple[int, str]]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT id, status FROM runs").fetchall()
    except sqlite3.OperationalError:  # schema not created yet
        return []


def test_sigterm_as_soon_as_the_run_opens_records_it_as_interrupted(site_server, tmp_path):
    """The window before Scrapy installs its handlers (imports, recovery). Mid-crawl SIGTERM is covered by
    the scheduler's stop tests (tests/test_scheduler.py)."""
    site_server.routes["/news/"] = Route(b'<html><body><a href="/a/1">one</a></body></html>', delay=4)
    cfg = write_loopback_config(
        tmp_path / "c.toml",
        [
            {
                "id": "slow",
                "sections": [{"id": "news", "kind": "listing", "url": f"{site_server.url}/news/", "link_css": "a"}],
            }
        ],
        crawler={"timeout": 20},
    )
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler", "run", "--config", str(cfg), "--output", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    deadline = time.monotonic() + 60
    while not run_rows(out / "state.sqlite"):
        assert proc.poll() is None and time.monotonic() < deadline, "the run never opened"
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode != 0, stdout + stderr
    assert "Traceback" not in stderr, stderr
    assert run_rows(out / "state.sqlite") == [(1, "interrupted")]


def test_sigterm_while_the_run_row_is_written_is_held_and_recorded_as_interrupted(monkeypatch, tmp_path):
    """The instant between the run's row being committed and the handler that records an interruption:
    a SIGTERM then (sent here by the row's writer itself, deterministically) is held, not fatal."""
    from crawler import runner
    from crawler.config import load_config

    cfg = write_loopback_config(tmp_path / "c.toml", [], crawler={"output_dir": str(tmp_path / "out")})
    opened = runner.start_run

    def start_run_then_sigterm(output_dir):
        run_id = opened(output_dir)
        os.kill(os.getpid(), signal.SIGTERM)
        return run_id

    monkeypatch.setattr(runner, "start_run", start_run_then_sigterm)
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(runner.CycleInterrupted):
        runner.run_cycle(load_config(cfg))
    assert run_rows(tmp_path / "out" / "state.sqlite") == [(1, "interrupted")]
    assert signal.getsignal(signal.SIGTERM) == before
