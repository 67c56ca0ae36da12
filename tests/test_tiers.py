"""The end-to-end tier is found by what a test uses (tests/conftest.py): `make test-fast` must leave out every
test that starts a site, a process or a browser, and keep the rest."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT, _refers_to_e2e, run_newsmon
from tests.sitesrv import SiteServer


def _pure():
    return sorted({3, 1, 2})


def _helper_starting_a_site():
    return SiteServer()


def _calls_the_helper():
    return _helper_starting_a_site()


class _Served(SiteServer):
    pass


def test_a_pure_function_is_a_unit_test():
    assert not _refers_to_e2e(_pure, set())


def test_a_site_a_process_or_a_browser_makes_a_test_end_to_end_even_through_helpers():
    assert _refers_to_e2e(lambda: run_newsmon("status"), set())
    assert _refers_to_e2e(_calls_the_helper, set())  # through a helper of tests/
    assert _refers_to_e2e(lambda: _Served(), set())  # a tests/ subclass of the site server

    def browser():
        from tests.cdp import Browser

        return Browser

    assert _refers_to_e2e(browser, set())  # an import inside the function
    assert _refers_to_e2e(lambda: subprocess.run(["true"]), set())


def test_the_fast_tier_leaves_out_the_end_to_end_tests_and_keeps_the_rest():
    def collected(*args: str) -> set[str]:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-p",
                "no:cacheprovider",
                "--collect-only",
                "-q",
                *args,
                "tests/test_tiers.py",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
        return {line.split("::")[1] for line in out.splitlines() if "::" in line}

    fast, e2e = collected("-m", "not e2e"), collected("-m", "e2e")
    assert "test_a_pure_function_is_a_unit_test" in fast
    assert "test_the_fast_tier_leaves_out_the_end_to_end_tests_and_keeps_the_rest" in e2e  # it runs pytest
    # It names run_newsmon and subprocess in its lambdas: counted as end-to-end, erring on the safe side.
    assert "test_a_site_a_process_or_a_browser_makes_a_test_end_to_end_even_through_helpers" in e2e
    assert not fast & e2e
