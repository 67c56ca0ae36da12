"""Every table of a config checked at once (``newsmon sources check``), each by its feature's own validator:
those of the feature registry (``crawler.features.validators()``), in the order a cycle meets them.

Loading the config already checks the sources and sections; the feature tables are otherwise checked only
when their stage runs, which is too late to learn of a typo in ``[alerts]`` or a section's ``cron``.
"""

from __future__ import annotations

import re

from scrapy.utils.misc import load_object

from crawler.config import Config, key_location
from crawler.exceptions import ConfigError
from crawler.features import validators

# Validators name the key as "[table] key: …" (crawler.tables); most already prefix its file:line.
TABLE_KEY = re.compile(r"^\[(?P<table>[a-z_]+)\] (?P<key>[a-z_]+):")


def check_config(config: Config) -> list[str]:
    """One message per table that fails its validator (empty: all good), each naming file:line when known."""
    problems = []
    for _table, dotted in validators():
        try:
            load_object(dotted)(config)
        except ConfigError as exc:
            problems.append(_located(config, str(exc)))
    return problems


def _located(config: Config, message: str) -> str:
    """Prefix ``file:line`` to messages of the form ``[table] key: …`` that do not carry one yet."""
    match = TABLE_KEY.match(message)
    if not match:
        return message
    return f"{key_location(config, match['table'], match['key'])}: {message}"
