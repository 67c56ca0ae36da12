"""The ``[analysis]`` table: its keys and defaults (``SPEC``, the one place they are stated)."""

from __future__ import annotations

from dataclasses import dataclass

from crawler.config import Config
from crawler.tables import Spec, config_table, defaults

SPEC: Spec = {
    # An item published this many days or more after its dateline is flagged "dateline_lag" (held).
    "dateline_lag_days": ((int,), 2, 0),
    # Weeks of each watch's hits drawn in the digest's inline chart.
    "chart_weeks": ((int,), 8, 1),
}
DEFAULTS = defaults(SPEC)


@dataclass(frozen=True)
class AnalysisSettings:
    dateline_lag_days: int = DEFAULTS["dateline_lag_days"]
    chart_weeks: int = DEFAULTS["chart_weeks"]


def settings_of(config: Config) -> AnalysisSettings:
    """``[analysis]``, validated; errors read ``file:line: [analysis] key: problem``."""
    return AnalysisSettings(**config_table(config, "analysis", SPEC))
