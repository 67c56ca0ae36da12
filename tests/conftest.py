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


def run_newsmon(
    *args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 180, check: bool = False
) -> subprocess.CompletedProcess:
    """Run the real CLI (``python -m crawler``) as a separate process, as a user would."""
    # A developer's own NEWSMON_CONFIG must not leak into the tests' runs.
    inherited = {k: v for k, v in os.environ.items() if k != "NEWSMON_CONFIG"}
    full_env = dict(inherited, PYTHONUNBUFFERED="1", **(env or {}))
    proc = subprocess.run(
        [sys.executable, "-m", "crawler", *args],
        cwd=cwd or ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"newsmon {' '.join(args)} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


@pytest.fixture
def newsmon():
    return run_newsmon


@pytest.fixture(scope="session")
def pg_server():
    """One PostgreSQL server for the session (tests/pgserver.py); skipped where it cannot be started."""
    from tests.pgserver import PgServer, unavailable

    reason = unavailable()
    if reason:
        pytest.skip(reason)
    server = PgServer().start()
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server):
    """The URL of a new empty PostgreSQL database of this test's own, dropped after it."""
    url = pg_server.database()
    yield url
    pg_server.drop(url)


@pytest.fixture(autouse=True)
def _state_on_postgresql(request, monkeypatch):
    """NEWSMON_TEST_STATE=postgresql runs every test on PostgreSQL (a database of its own for each test)."""
    if os.environ.get("NEWSMON_TEST_STATE") == "postgresql" and "state_backend" not in request.fixturenames:
        monkeypatch.setenv("NEWSMON_DATABASE_URL", request.getfixturevalue("pg_url"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.e2e)])
def state_backend(request, monkeypatch):
    """Run the test once per state backend: the embedded SQLite file, then PostgreSQL (its own database, set
    through NEWSMON_DATABASE_URL for this process and the newsmon processes it starts; end-to-end tier, as it
    starts a server). The backend's name. A module says ``pytestmark = pytest.mark.usefixtures("state_backend")``
    to run all its tests on both."""
    monkeypatch.delenv("NEWSMON_DATABASE_URL", raising=False)
    if request.param == "postgresql":
        monkeypatch.setenv("NEWSMON_DATABASE_URL", request.getfixturevalue("pg_url"))
    return request.param


@pytest.fixture
def smtp():
    """A real SMTP server on loopback (aiosmtpd) collecting the alert mails."""
    from tests.alerting import SmtpServer

    server = SmtpServer()
    server.controller.start()
    yield server
    server.controller.stop()


# ── The end-to-end tier ─────────────────────────────────────────────────────────────────────────────
# A test is end-to-end (marker e2e; `make test-fast` leaves it out) when it starts a loopback site, a real
# newsmon process, an SMTP server, a browser or a crawl — directly, through a fixture, or through a helper of
# tests/ it calls. Found by reading the names the test's code (and that of its fixtures and tests/ helpers)
# refers to, so a new test is sorted without being marked by hand; `pytestmark = pytest.mark.e2e` in a module
# marks all of its tests too.
E2E_NAMES = frozenset(
    {
        "subprocess",
        "Popen",
        "SiteServer",
        "site_server",
        "run_newsmon",
        "newsmon",
        "smtp",
        "SmtpServer",
        "sitesrv",
        "crawlsite",
        "faultsite",
        "schedsite",
        "localsite",
        "cdp",
        "run_cycle",
        "CrawlerProcess",
        "demo_site",
        "HTTPServer",
        "ThreadingHTTPServer",
        "TCPServer",
        "socketserver",
        "free_port",
        "WebhookReceiver",
        "pg_server",
        "pg_url",
        "PgServer",  # a PostgreSQL server of the tests' own
    }
)


def _refers_to_e2e(func, seen: set) -> bool:
    if isinstance(func, type):  # a helper class of tests/: its bases and its methods
        return bool({c.__name__ for c in func.__mro__} & E2E_NAMES) or any(
            _refers_to_e2e(m, seen) for m in vars(func).values() if callable(m)
        )
    code = getattr(func, "__code__", None)
    if code is None or code in seen:
        return False
    seen.add(code)
    codes = [code]
    while codes:
        current = codes.pop()
        names = set(current.co_names) | set(current.co_freevars)
        if {part for name in names for part in name.split(".")} & E2E_NAMES:  # "tests.cdp" too
            return True
        codes += [c for c in current.co_consts if hasattr(c, "co_names")]  # nested functions, lambdas
        for name in current.co_names:
            value = getattr(func, "__globals__", {}).get(name)
            if (
                callable(value)
                and getattr(value, "__module__", "").startswith("tests")
                and _refers_to_e2e(getattr(value, "__wrapped__", value), seen)
            ):
                return True
    return False


def _is_e2e(item) -> bool:
    if item.get_closest_marker("e2e") or E2E_NAMES & set(getattr(item, "fixturenames", ())):
        return True
    seen: set = set()
    funcs = [getattr(item, "function", None)]
    for defs in getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {}).values():
        funcs += [d.func for d in defs if getattr(d.func, "__module__", "").startswith("tests")]
    return any(_refers_to_e2e(f, seen) for f in funcs if f is not None)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _is_e2e(item) and not item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.e2e)
