"""The ``[feeds]`` table: each key's type, default and minimum, stated once."""

from __future__ import annotations

from dataclasses import dataclass

from crawler.exceptions import ConfigError
from crawler.tables import Spec, config_table, defaults

SPEC: Spec = {
    "enabled": ((bool,), True, None),
    "max_entries": ((int,), 100, 1),
    "base_url": ((str,), "", None),
}
DEFAULTS = defaults(SPEC)


@dataclass(frozen=True)
class FeedSettings:
    enabled: bool = DEFAULTS["enabled"]  # write output/feeds/*.atom after each run
    max_entries: int = DEFAULTS["max_entries"]  # newest events per feed
    base_url: str = DEFAULTS["base_url"]  # where output/ is served ("": links relative to the feed)


def settings_of(config) -> FeedSettings:
    """The ``[feeds]`` table, validated (a bad key is a ConfigError naming its line)."""
    if config is None:
        return FeedSettings()
    table = config_table(config, "feeds", SPEC)
    base = table["base_url"]
    if base and not base.lower().startswith(("http://", "https://")):
        from crawler.config import key_location

        raise ConfigError(
            f"{key_location(config, 'feeds', 'base_url')}: [feeds] base_url: expected an http(s) URL "
            f"of the served output directory, got {base!r}"
        )
    if base and not base.endswith("/"):
        table["base_url"] = base + "/"
    return FeedSettings(**table)
