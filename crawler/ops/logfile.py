"""The rotating log file of ``newsmon run`` and ``newsmon schedule`` (``[logging]`` in the config).

One writer per file: a cycle started by the scheduler (``NEWSMON_LOG_RELAYED=1`` in its environment)
does not open the file; the scheduler relays its output lines into its own log instead, so two
processes never rotate the same file.
"""

from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path

from crawler.alerts.redact import RedactFilter
from crawler.config import Config
from crawler.tables import Spec, config_table

FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# The [logging] table: key → (types, default, minimum), where its defaults are stated (defaults.toml repeats them).
SPEC: Spec = {
    "file": ((str,), "logs/newsmon.log", None),
    "max_bytes": ((int,), 10_000_000, 0),
    "backup_count": ((int,), 5, 0),
    "level": ((str,), "INFO", None),
}


class NewsmonLogFile(RotatingFileHandler):
    """The log file handler; marked, so that a second ``enable`` in one process adds none."""

    newsmon_file = True


def log_file(config: Config) -> Path | None:
    name = settings(config)["file"]
    return config.output_dir / name if name else None


def settings(config: Config) -> dict:
    """The ``[logging]`` table, validated (a bad key or level is a ConfigError naming its line)."""
    return config_table(config, "logging", SPEC, choices={"level": LEVELS})


def enable(config: Config) -> Path | None:
    """Add the rotating file handler to the root logger (once). Returns the file, or None."""
    conf = settings(config)
    path = log_file(config)
    if path is None or os.environ.get("NEWSMON_LOG_RELAYED"):
        return None
    root = logging.getLogger()
    if any(getattr(h, "newsmon_file", False) for h in root.handlers):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = NewsmonLogFile(path, maxBytes=conf["max_bytes"], backupCount=conf["backup_count"], encoding="utf-8")
    handler.setLevel(conf["level"])
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactFilter())  # no configured secret (channel password, token) in the file
    root.addHandler(handler)
    root.setLevel(min(root.level or logging.WARNING, handler.level))
    return path
