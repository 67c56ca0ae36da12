"""Each default is stated once: in its feature's settings spec (``crawler.features``: ``Feature.spec``; for
``[crawler]``, the module values of ``crawler.crawl.settings``). The shipped ``crawler/defaults.toml`` repeats
the values for the reader; these tests hold it equal to the specs, so that neither can drift from the other.
"""

from __future__ import annotations

import re
import tomllib

import pytest
from scrapy.utils.misc import load_object

from crawler.config import defaults_text, load_config
from crawler.features import FEATURES, specs
from crawler.tables import read_table

SHIPPED = tomllib.loads(defaults_text())


def plain(value):
    """TOML arrays are lists, spec defaults may be tuples."""
    return list(value) if isinstance(value, (list, tuple)) else value


@pytest.mark.parametrize("table, dotted", specs())
def test_the_shipped_table_repeats_the_spec_defaults(table, dotted):
    spec, shipped = load_object(dotted), SHIPPED.get(table, {})
    assert set(shipped) <= set(spec), f"[{table}] keys no spec knows: {sorted(set(shipped) - set(spec))}"
    read_table(shipped, spec, table)  # each value of the type the spec asks
    differ = {
        key: {"defaults.toml": value, "spec": spec[key][1]}
        for key, value in shipped.items()
        if plain(value) != plain(spec[key][1]) or isinstance(value, bool) != isinstance(spec[key][1], bool)
    }
    assert differ == {}, f"[{table}] defaults.toml and {dotted} disagree"


@pytest.mark.parametrize("table, dotted", specs())
def test_the_shipped_file_documents_every_key(table, dotted):
    """A key with a default is set in defaults.toml; one without (unset has a meaning) is shown commented."""
    shipped = SHIPPED.get(table, {})
    for key, (_types, default, _minimum) in load_object(dotted).items():
        if default is None:
            assert re.search(rf"^# {key} = ", defaults_text(), re.M), f"[{table}] {key}: not shown commented"
        else:
            assert key in shipped, f"[{table}] {key} (default {default!r}) missing from defaults.toml"


def test_every_shipped_table_belongs_to_a_feature():
    tables = {f.table for f in FEATURES if f.table}
    assert set(SHIPPED) - {"sources"} <= tables


def test_the_settings_dataclasses_take_the_spec_defaults():
    """A settings object built without a config (the pure modules, the tests) is what the shipped file gives."""
    from crawler.digest.settings import DigestSettings
    from crawler.digest.settings import settings as digest_settings
    from crawler.lifecycle.health import HealthSettings
    from crawler.lifecycle.machine import Settings
    from crawler.lifecycle.stage import health_settings_of, settings_of, subject_settings_of
    from crawler.lifecycle.subject import SubjectSettings
    from crawler.stories.index import StorySettings
    from crawler.stories.stage import settings_of as stories_of
    from crawler.translation.settings import TranslationSettings
    from crawler.translation.settings import settings_of as translation_of

    shipped = load_config()
    assert settings_of(shipped) == Settings()
    assert health_settings_of(shipped) == HealthSettings()
    assert subject_settings_of(shipped) == SubjectSettings()
    assert stories_of(shipped) == StorySettings()
    assert digest_settings(shipped) == DigestSettings()
    assert translation_of(shipped) == TranslationSettings()


def test_a_setting_driven_by_one_key_has_one_default():
    """``[crawler] download_delay`` drives two Scrapy settings, ``timeout`` two: each pair starts equal."""
    from crawler.crawl import settings

    for key, (_types, driven) in settings.CRAWLER_KEYS.items():
        assert len({repr(getattr(settings, name)) for name in driven}) <= 1, key
