"""The quick-start path to the translation models: a real ``newsmon run`` ends with one line saying exactly how to
install the missing zh/ru models — also when no item landed — and says nothing once both are installed."""

from __future__ import annotations

import re

import pytest

from crawler.localsite import Route, SiteServer, write_loopback_config
from tests.alerting import listing_page
from tests.conftest import run_newsmon
from tests.tinymodel import build_package

HINT = "install with: newsmon models install"


@pytest.fixture
def empty_site():
    """A listing that links no article: the run lands nothing."""
    server = SiteServer().start()
    server.routes["/news/"] = Route(listing_page([]))
    yield server
    server.stop()


def run_against(site: SiteServer, tmp_path, packages_dir) -> str:
    config = write_loopback_config(
        tmp_path / "user.toml",
        [
            {
                "id": "site",
                "sections": [{"id": "news", "kind": "listing", "url": f"{site.url}/news/", "link_css": "div.item a"}],
            }
        ],
    )
    proc = run_newsmon(
        "run", "--config", str(config), "--output", str(tmp_path / "out"), env={"ARGOS_PACKAGES_DIR": str(packages_dir)}
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"\b0 new item", proc.stdout), proc.stdout
    return proc.stdout


def test_a_run_that_landed_nothing_ends_saying_how_to_install_the_missing_models(tmp_path, empty_site):
    out = run_against(empty_site, tmp_path, tmp_path / "no-packages")
    last = out.strip().splitlines()[-1]
    assert last.startswith("translation: no zh→en, ru→en model installed"), out
    assert f"{HINT} zh ru " in last, last


def test_only_the_missing_model_is_named(tmp_path, empty_site):
    from crawler.translation import models

    packages = tmp_path / "packages"
    models.install_file(build_package(tmp_path, lang="zh", seed=0), packages)
    last = run_against(empty_site, tmp_path, packages).strip().splitlines()[-1]
    assert last.startswith("translation: no ru→en model installed") and f"{HINT} ru " in last, last


def test_no_line_once_both_models_are_installed(tmp_path, empty_site):
    from crawler.translation import models

    packages = tmp_path / "packages"
    for seed, lang in enumerate(("zh", "ru")):
        models.install_file(build_package(tmp_path, lang=lang, seed=seed), packages)
    assert HINT not in run_against(empty_site, tmp_path, packages)
