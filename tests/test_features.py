"""The feature registry (``crawler.features``) is what the core reads: every path it names resolves, and
``newsmon sources check`` validates every feature's table through it."""

from __future__ import annotations

import importlib

import pytest
from scrapy.utils.misc import load_object

from crawler.checks import check_config
from crawler.config import load_config
from crawler.features import FEATURES, specs


@pytest.mark.parametrize("feature", FEATURES, ids=lambda f: f.name)
def test_every_path_the_registry_names_resolves(feature):
    importlib.import_module(feature.package)
    for dotted in (feature.spec, feature.validator, feature.stage):
        if dotted:
            load_object(dotted)
    for module in feature.commands:
        command = importlib.import_module(f"crawler.commands.{module}")
        assert command.HELP and callable(command.run) and callable(command.add_arguments)
    assert feature.stage or not feature.stage_words  # words only for a stage


def test_the_shipped_config_passes_every_check():
    assert check_config(load_config()) == []


@pytest.mark.parametrize("table", [table for table, _spec in specs()])
def test_sources_check_validates_every_feature_table(tmp_path, table):
    path = tmp_path / "newsmon.toml"
    path.write_text(f"[{table}]\nno_such_key = 1\n", encoding="utf-8")
    problems = check_config(load_config(path))
    assert any(f"{path}:2: [{table}] no_such_key: unknown key" in p for p in problems), problems
