"""Every problem of a config found in one pass (``newsmon sources check``), each with its ``file:line``: the
sources and sections (``crawler.config``, which collects them all), every section's CSS selectors and XPath
compiled (a run only meets them when it reads the page), every section's ``cron``, and every feature table by
its own validator: those of the feature registry (``crawler.features.validators()``), in the order a cycle
meets them.

Loading the config already checks the sources and sections; the feature tables are otherwise checked only
when their stage runs, which is too late to learn of a typo in ``[alerts]`` or a section's ``cron``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from scrapy.utils.misc import load_object

from crawler.config import RULE_KEYS, Config, SectionRules, key_location, section_key_location
from crawler.crawl.links import SELECTOR_KEYS, selector_problem
from crawler.exceptions import ConfigError
from crawler.features import validators
from crawler.ops.plan import parse_cron, zone

# Validators name the key as "[table] key: …" (crawler.tables); most already prefix its file:line.
TABLE_KEY = re.compile(r"^\[(?P<table>[a-z_]+)\] (?P<key>[a-z_]+):")
# The schedule's validator names a section's cron as "section source/id: cron: …" (crawler.ops.plan).
SECTION_CRON = re.compile(r"^section (?P<key>\S+): cron: ")


def check_config(config: Config, unloaded: Sequence[SectionRules] = ()) -> list[str]:
    """One message per problem (empty: all good), each naming file:line when known: every section's
    selectors (those of ``unloaded`` too: sections left out of ``config`` for another problem), every
    section's cron, then each feature table that fails its validator."""
    crons = cron_problems(config)
    problems = selector_problems(config, unloaded) + crons
    for _table, dotted in validators():
        try:
            load_object(dotted)(config)
        except ConfigError as exc:
            if crons and SECTION_CRON.match(str(exc)):
                continue  # the first bad section cron: named above with the others, each with its line
            problems.append(_located(config, str(exc)))
    return problems


def selector_problems(config: Config, unloaded: Sequence[SectionRules] = ()) -> list[str]:
    """``file:line: source/section: key: invalid CSS selector '…': why`` for each selector parsel cannot
    evaluate (``link_css``, ``link_xpath``, ``next_css``, ``body_css``)."""
    problems = []
    sections = [
        *(
            SectionRules(s.source_id, s.id, {k: getattr(s, k) for k in RULE_KEYS if getattr(s, k)})
            for s in config.sections
        ),
        *unloaded,
    ]
    for section in sections:
        for key, rule in section.rules.items():
            why = selector_problem(SELECTOR_KEYS[key], rule)
            if why:
                problems.append(f"{section_key_location(config, section, key)}: {section.key}: {key}: {why}")
    return problems


def cron_problems(config: Config) -> list[str]:
    """Each section's ``cron`` that cannot be read, with its line (the schedule's validator stops at the first)."""
    try:
        default_tz = zone(config.table("schedule").get("timezone", "local"), "[schedule] timezone")
    except ConfigError:
        return []  # the schedule's validator names the zone
    problems = []
    for section in config.sections:
        if not isinstance(section.cron, str):
            continue
        try:
            parse_cron(section.cron, default_tz, f"section {section.key}: cron")
        except ConfigError as exc:
            problems.append(f"{section_key_location(config, section, 'cron')}: {exc}")
    return problems


def _located(config: Config, message: str) -> str:
    """Prefix ``file:line`` to messages of the form ``[table] key: …`` that do not carry one yet."""
    match = TABLE_KEY.match(message)
    if not match:
        return message
    return f"{key_location(config, match['table'], match['key'])}: {message}"
