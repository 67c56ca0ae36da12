"""What runs when: the ``[schedule]`` table and the sections' ``cron`` overrides → scheduler jobs.

A section without ``cron`` runs in the nightly cycle (``[schedule] cron``, 02:00 by default); a section
with ``cron`` runs by it instead. Sections sharing a schedule share one job, so they run in one cycle.
A cron is five crontab fields, optionally followed by an IANA time zone that overrides
``[schedule] timezone`` for it: ``"0 16 * * * Asia/Shanghai"`` (16:00 Beijing time), ``"0 */2 * * *"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.config import Config
from crawler.exceptions import ConfigError
from crawler.tables import Spec, config_table

LOCK_MODES = ("wait", "skip")
# The [schedule] table: key → (types, default, minimum), where its defaults are stated (defaults.toml repeats them).
SPEC: Spec = {
    "timezone": ((str,), "local", None),
    "cron": ((str,), "0 2 * * *", None),
    "misfire_grace_seconds": ((int,), 3600, 1),
    "lock": ((str,), "wait", None),
    "stop_timeout_seconds": ((int, float), 300, 1),
    "stale_after_hours": ((int, float), 26, 0),
    "min_free_mb": ((int, float), 500, 0),
}


@dataclass(frozen=True)
class ScheduleSettings:
    timezone: tzinfo
    cron: str
    misfire_grace_seconds: int
    lock: str  # "wait" for a manual run holding the lock, or "skip" this run
    stop_timeout_seconds: float
    stale_after_hours: float  # `newsmon status`: no finished cycle for this long needs attention
    min_free_mb: float  # `newsmon status`: less free disk than this needs attention


@dataclass(frozen=True)
class PlannedJob:
    job_id: str
    trigger: BaseTrigger
    sections: tuple[str, ...]
    start_now: bool = False  # first run at start (``--every``), not at the trigger's next time


def load_settings(config: Config) -> ScheduleSettings:
    """Validate ``[schedule]``; a bad key or value raises ``ConfigError`` naming it."""
    table = config_table(config, "schedule", SPEC, choices={"lock": LOCK_MODES})
    tz = zone(table["timezone"], "[schedule] timezone")
    parse_cron(table["cron"], tz, "[schedule] cron")
    return ScheduleSettings(
        tz,
        table["cron"],
        table["misfire_grace_seconds"],
        table["lock"],
        float(table["stop_timeout_seconds"]),
        float(table["stale_after_hours"]),
        float(table["min_free_mb"]),
    )


def check(config: Config) -> None:
    """Validate ``[schedule]`` and every section's ``cron`` (for ``newsmon sources check``)."""
    plan_jobs(config, load_settings(config))


def zone(name: str, where: str) -> tzinfo:
    """An IANA zone; ``"local"`` is this machine's zone."""
    if name == "local":
        from tzlocal import get_localzone

        return get_localzone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{where}: unknown time zone {name!r} (an IANA name such as "
            f"'Europe/Moscow', 'Asia/Shanghai', 'UTC', or 'local')"
        ) from None


def zone_name(tz: tzinfo) -> str:
    return getattr(tz, "key", None) or str(tz)


def parse_cron(text: str, default_tz: tzinfo, where: str) -> tuple[str, CronTrigger]:
    """``"m h dom mon dow [Zone/Name]"`` → (normalised spec, trigger)."""
    fields = text.split()
    tz = default_tz
    if len(fields) == 6:
        tz = zone(fields[5], where)
        fields = fields[:5]
    if len(fields) != 5:
        raise ConfigError(
            f"{where}: expected a crontab 'minute hour day month weekday' "
            f"optionally followed by a time zone, got {text!r}"
        )
    spec = " ".join(fields)
    try:
        trigger = CronTrigger.from_crontab(spec, timezone=tz)
    except ValueError as exc:
        raise ConfigError(f"{where}: invalid cron {text!r}: {exc}") from None
    return f"{spec} {zone_name(tz)}", trigger


def plan_jobs(config: Config, settings: ScheduleSettings, every: float | None = None) -> list[PlannedJob]:
    """One job per distinct schedule; ``every`` (seconds, for tests) runs every section now, then every N s."""
    sections = [s.key for s in config.sections]
    if not sections:
        raise ConfigError("no sections configured: nothing to schedule")
    if every is not None:
        return [
            PlannedJob(
                f"every {every:g}s",
                IntervalTrigger(seconds=every, timezone=settings.timezone),
                tuple(sections),
                start_now=True,
            )
        ]
    groups: dict[str, tuple[CronTrigger, list[str]]] = {}
    for sec in config.sections:
        where = f"section {sec.key}: cron" if sec.cron else "[schedule] cron"
        spec, trigger = parse_cron(sec.cron or settings.cron, settings.timezone, where)
        groups.setdefault(spec, (trigger, []))[1].append(sec.key)
    return [PlannedJob(f"cron {spec}", trigger, tuple(keys)) for spec, (trigger, keys) in groups.items()]


def describe(job: PlannedJob) -> dict[str, Any]:
    return {"job": job.job_id, "sections": list(job.sections)}
