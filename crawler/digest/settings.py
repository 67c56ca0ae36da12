"""The ``[digest]`` table of the config, validated (an error names the exact key)."""

from __future__ import annotations

from dataclasses import dataclass

from crawler.config import Config
from crawler.tables import Spec, config_table, defaults

# The [digest] table: key → (types, default, minimum); DigestSettings takes its defaults from here.
SPEC: Spec = {"paragraphs": ((int,), 3, 1), "html": ((bool,), True, None), "search_index": ((bool,), True, None)}
DEFAULTS = defaults(SPEC)


@dataclass(frozen=True)
class DigestSettings:
    paragraphs: int = DEFAULTS["paragraphs"]  # first paragraphs shown per item (the HTML folds the rest away)
    html: bool = DEFAULTS["html"]  # also write digest.html
    search_index: bool = DEFAULTS["search_index"]  # keep the archive search index up to date after each run


def settings(config: Config | None) -> DigestSettings:
    """The ``[digest]`` table, validated (a bad key or type is a ConfigError naming its line)."""
    return DigestSettings(**config_table(config, "digest", SPEC)) if config else DigestSettings()
