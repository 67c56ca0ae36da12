"""Shared fixtures: the loopback site server and running the real CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sitesrv import SiteServer

ROOT = Path(__file__).resolve().parent.parent
RESOURCES = Path(__file__).resolve().parent / "resources"


@pytest.fixture
def site_server():
    server = SiteServer().start()
    yield server
    server.stop()


def run_newsmon(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 180,
                check: bool = False) -> subprocess.CompletedProcess:
    """Run the real CLI (``python -m crawler``) as a separate process, as a user would."""
    # A developer's own NEWSMON_CONFIG must not leak into the tests' runs.
    inherited = {k: v for k, v in os.environ.items() if k != "NEWSMON_CONFIG"}
    full_env = dict(inherited, PYTHONUNBUFFERED="1", **(env or {}))
    proc = subprocess.run([sys.executable, "-m", "crawler", *args], cwd=cwd or ROOT, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"newsmon {' '.join(args)} exited {proc.returncode}\n"
                             f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


@pytest.fixture
def newsmon():
    return run_newsmon


@pytest.fixture
def smtp():
    """A real SMTP server on loopback (aiosmtpd) collecting the alert mails."""
    from tests.alerting import SmtpServer

    server = SmtpServer()
    server.controller.start()
    yield server
    server.controller.stop()
