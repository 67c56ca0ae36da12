"""The feature registry: what each feature of newsmon brings to the core, declared once.

A feature is a package under ``crawler/`` that may own tables (its ``schema/`` migration steps, applied by
``crawler.store.migrate``), a config table with its settings spec (each key's type, default and minimum: the
one place a default is stated; ``crawler/defaults.toml`` repeats the values for the reader and a test holds the
two equal) and its validator (run by ``newsmon sources check``), a post-crawl stage (run by ``crawler.runner``
in this order) and the part of it that may run while the crawl lands items (``crawler.crawl.beside``),
consumers of the item change feed (``crawler.store.items``) and CLI commands (modules of
``crawler/commands/``, next to the core commands of ``crawler.cli``). The runner, the migrator,
``sources check``, the CLI, ``newsmon run``'s help and the change-feed pruning read this list; nothing else
keeps a list of features.

This module imports nothing of the features themselves (everything is named by dotted path), so reading the
registry stays instant (``newsmon --help``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Feature:
    name: str
    package: str  # owns crawler/<package>/schema/NNNN_*.sql|py when has_schema
    has_schema: bool = False
    table: str | None = None  # its config table ([name] or [[name]])
    spec: str | None = None  # "module.NAME" of the table's crawler.tables.Spec (its defaults)
    validator: str | None = None  # "module.function" taking the Config; raises ConfigError
    stage: str | None = None  # "module.function" taking the CycleContext, run after the crawl
    stage_words: str | None = None  # the stage in words, for `newsmon run --help`
    # "module.function(output_dir, config)": the stage's work on the items landed so far, run in an extraction
    # worker during the crawl (crawler.crawl.beside); the stage after the crawl does what is left
    beside_crawl: str | None = None
    feed_consumers: tuple[str, ...] = ()  # names under which it reads the item change feed
    commands: tuple[str, ...] = ()  # its modules in crawler/commands/ ("import_" is `newsmon import`)


FEATURES: list[Feature] = [
    Feature(
        "store", "crawler.store", has_schema=True, feed_consumers=("export",), commands=("verify", "import_", "export")
    ),
    Feature(
        "crawl",
        "crawler.crawl",
        table="crawler",
        spec="crawler.crawl.settings.SPEC",
        validator="crawler.crawl.settings.crawler_table",
    ),
    Feature(
        "translation",
        "crawler.translation",
        has_schema=True,
        table="translation",
        spec="crawler.translation.settings.SPEC",
        validator="crawler.translation.settings.settings_of",
        stage="crawler.translation.stage.run_stage",
        stage_words="translation",
        commands=("models", "translate"),
    ),
    Feature(
        "watch",
        "crawler.watch",
        has_schema=True,
        table="watch",
        validator="crawler.watch.settings.watches_of",
        stage="crawler.watch.stage.run_stage",
        stage_words="watch phrases",
        feed_consumers=("watch",),
        commands=("watch",),
    ),
    Feature("quotes", "crawler.extract", commands=("quotes",)),  # transcript turns: crawler.extract.speakers
    Feature(
        "stories",
        "crawler.stories",
        has_schema=True,
        table="stories",
        spec="crawler.stories.index.SPEC",
        validator="crawler.stories.stage.settings_of",
        stage="crawler.stories.stage.run_stage",
        stage_words="stories",
        beside_crawl="crawler.stories.stage.run_beside_crawl",
        feed_consumers=("stories",),
    ),
    Feature(
        "lifecycle",
        "crawler.lifecycle",
        has_schema=True,
        table="lifecycle",
        spec="crawler.lifecycle.settings.SPEC",
        validator="crawler.lifecycle.stage.settings_of",
        stage="crawler.lifecycle.stage.run_stage",
        stage_words="section lifecycle and re-checks",
        commands=("diff",),
    ),
    Feature(
        "analysis",
        "crawler.analysis",
        table="analysis",
        spec="crawler.analysis.settings.SPEC",
        validator="crawler.analysis.settings.settings_of",
        stage="crawler.analysis.stage.run_stage",
        stage_words="item flags",
        feed_consumers=("analysis",),
        commands=("trend", "brief"),
    ),
    Feature(
        "alerts",
        "crawler.alerts",
        table="alerts",
        spec="crawler.alerts.stage.ALERTS_SPEC",
        validator="crawler.alerts.stage.settings_of",
        stage="crawler.alerts.stage.run_stage",
        stage_words="alerts",
        commands=("alerts",),
    ),
    Feature(
        "feeds",
        "crawler.feeds",
        has_schema=True,
        table="feeds",
        spec="crawler.feeds.settings.SPEC",
        validator="crawler.feeds.settings.settings_of",
        stage="crawler.feeds.stage.run_stage",
        stage_words="Atom feeds",
    ),
    Feature(
        "digest",
        "crawler.digest",
        has_schema=True,
        table="digest",
        spec="crawler.digest.settings.SPEC",
        validator="crawler.digest.settings.settings",
        stage="crawler.digest.stage.run_stage",
        stage_words="digest",
        beside_crawl="crawler.digest.search.index_beside_crawl",
        feed_consumers=("search",),
        commands=("digest", "search"),
    ),
    Feature(
        "ops",
        "crawler.ops",
        has_schema=True,
        table="schedule",
        spec="crawler.ops.plan.SPEC",
        validator="crawler.ops.plan.check",
        commands=("schedule",),
    ),
    Feature("jobs", "crawler.jobs", has_schema=True, commands=("worker",)),  # distributed cycles
    Feature(
        "logging",
        "crawler.ops",
        table="logging",
        spec="crawler.ops.logfile.SPEC",
        validator="crawler.ops.logfile.settings",
    ),
    Feature(
        "state",
        "crawler.state",
        table="state",
        spec="crawler.state.SPEC",
        validator="crawler.state.settings_of",
        commands=("state",),
    ),
]


def schema_packages() -> list[str]:
    return list(dict.fromkeys(f.package for f in FEATURES if f.has_schema))


def post_crawl_stages() -> list[str]:
    return [f.stage for f in FEATURES if f.stage]


def beside_crawl() -> list[str]:
    """The stages' work that may run while the crawl lands items, in stage order."""
    return [f.beside_crawl for f in FEATURES if f.beside_crawl]


def stage_words() -> list[str]:
    """The post-crawl stages in words, in the order they run."""
    return [f.stage_words or f.name for f in FEATURES if f.stage]


def validators() -> list[tuple[str, str]]:
    """(table, dotted path of its validator), in the order a cycle meets them."""
    return [(f.table, f.validator) for f in FEATURES if f.table and f.validator]


def specs() -> list[tuple[str, str]]:
    """(table, dotted path of its ``crawler.tables.Spec``) of every feature whose table has one."""
    return [(f.table, f.spec) for f in FEATURES if f.table and f.spec]


def feed_consumers() -> list[str]:
    return [name for f in FEATURES for name in f.feed_consumers]


def commands() -> list[str]:
    """The command modules (in ``crawler/commands/``) the features bring; ``crawler.cli`` adds the core ones."""
    return [module for f in FEATURES for module in f.commands]
