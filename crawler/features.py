"""The feature registry: what each feature of newsmon brings to the core, declared once.

A feature is a package under ``crawler/`` that may own tables (its ``schema/`` migration steps, applied by
``crawler.store.migrate``), a config table with its validator (run by ``newsmon sources check``), a
post-crawl stage (run by ``crawler.runner`` in this order) and consumers of the item change feed
(``crawler.store.items``). The runner, the migrator, ``sources check`` and the change-feed pruning read this
list; nothing else keeps a list of features.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Feature:
    name: str
    package: str                          # owns crawler/<package>/schema/NNNN_*.sql|py when has_schema
    has_schema: bool = False
    table: str | None = None              # its config table ([name] or [[name]])
    validator: str | None = None          # "module.function" taking the Config; raises ConfigError
    stage: str | None = None              # "module.function" taking the CycleContext, run after the crawl
    feed_consumers: tuple[str, ...] = ()  # names under which it reads the item change feed


FEATURES: list[Feature] = [
    Feature("store", "crawler.store", has_schema=True, feed_consumers=("export",)),
    Feature("crawl", "crawler.crawl", table="crawler", validator="crawler.crawl.settings.crawler_table"),
    Feature("translation", "crawler.translation", table="translation",
            validator="crawler.translation.settings.settings_of", stage="crawler.translation.stage.run_stage"),
    Feature("watch", "crawler.watch", has_schema=True, table="watch", validator="crawler.watch.settings.watches_of",
            stage="crawler.watch.stage.run_stage", feed_consumers=("watch",)),
    Feature("stories", "crawler.stories", has_schema=True, table="stories",
            validator="crawler.stories.stage.settings_of", stage="crawler.stories.stage.run_stage",
            feed_consumers=("stories",)),
    Feature("lifecycle", "crawler.lifecycle", has_schema=True, table="lifecycle",
            validator="crawler.lifecycle.stage.settings_of", stage="crawler.lifecycle.stage.run_stage"),
    Feature("alerts", "crawler.alerts", table="alerts", validator="crawler.alerts.stage.settings_of",
            stage="crawler.alerts.stage.run_stage"),
    Feature("digest", "crawler.digest", has_schema=True, table="digest", validator="crawler.digest.stage.settings",
            stage="crawler.digest.stage.run_stage", feed_consumers=("search",)),
    Feature("ops", "crawler.ops", has_schema=True, table="schedule", validator="crawler.ops.plan.check"),
    Feature("logging", "crawler.ops", table="logging", validator="crawler.ops.logfile.settings"),
]


def schema_packages() -> list[str]:
    return list(dict.fromkeys(f.package for f in FEATURES if f.has_schema))


def post_crawl_stages() -> list[str]:
    return [f.stage for f in FEATURES if f.stage]


def validators() -> list[tuple[str, str]]:
    return [(f.table, f.validator) for f in FEATURES if f.table and f.validator]


def feed_consumers() -> list[str]:
    return [name for f in FEATURES for name in f.feed_consumers]
