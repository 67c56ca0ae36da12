"""The ``[lifecycle]`` table: each key's type, default and minimum, stated once.

The pure modules' settings (``machine.Settings``, ``health.HealthSettings``, ``subject.SubjectSettings``) take
their defaults from ``DEFAULTS``; ``stage`` reads the config's table with ``lifecycle_table``.
"""

from __future__ import annotations

from typing import Any

from crawler.tables import Spec, config_table, defaults

SPEC: Spec = {
    "hysteresis_runs": ((int,), 2, 1),
    "broken_min_bytes": ((int,), 10_000, 0),
    "broken_ratio": ((int, float), 0.5, 0),
    "stale_factor": ((int, float), 3.0, 1),
    "stale_min_hours": ((int, float), 6.0, 0),
    "cadence_samples": ((int,), 3, 1),
    "recheck_days": ((int, float), 3, 0),
    "recheck_max": ((int,), 100, 0),
    "recheck_interval_hours": ((int, float), 6.0, 0),
    "recheck_gone_checks": ((int,), None, 1),  # None: hysteresis_runs
    "recheck_workers": ((int,), 8, 1),
    "min_edit_chars": ((int,), 10, 0),  # characters an edit must change to be alerted (the version is kept)
    "health_runs": ((int,), 5, 1),
    "health_min_items": ((int,), 3, 1),
    "health_text_ratio": ((int, float), 0.25, 0),
    "health_failed_share": ((int, float), 0.5, 0),
    "short_text_chars": ((int,), 200, 0),
    "subject_min_share": ((int, float), 0.3, 0),
}
DEFAULTS = defaults(SPEC)
# Fractions: above 1 they would mean nothing.
SHARES = ("health_text_ratio", "health_failed_share", "subject_min_share")


def lifecycle_table(config) -> dict[str, Any]:
    """The ``[lifecycle]`` table of ``config``, defaults filled in (a bad key is a ConfigError naming its line)."""
    return config_table(config, "lifecycle", SPEC, maxima={key: 1 for key in SHARES})
