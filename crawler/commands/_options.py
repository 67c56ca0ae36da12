"""Options most commands share, spelled once: ``--config``, ``--output`` and date flags (``add_day``).

``--config`` defaults to ``$NEWSMON_CONFIG``, so a user with their own sources file sets it once (in the
shell profile, the systemd unit or the crontab) instead of passing it to every command.
"""

from __future__ import annotations

import argparse
import os
from datetime import date

CONFIG_ENV = "NEWSMON_CONFIG"


def add_config(
    parser: argparse.ArgumentParser, help: str = "user config file (overrides/extends the defaults)"
) -> None:
    parser.add_argument(
        "--config", metavar="PATH", default=os.environ.get(CONFIG_ENV) or None, help=f"{help}; default: ${CONFIG_ENV}"
    )


def add_output(parser: argparse.ArgumentParser, help: str = "output directory (default: [crawler] output_dir)") -> None:
    parser.add_argument("--output", metavar="DIR", help=help)


def load(args: argparse.Namespace):
    """The merged config of ``--config``, with ``--output`` applied when the command has it."""
    from crawler.config import load_config

    return load_config(args.config, output_dir=getattr(args, "output", None))


def parse_day(text: str, flag: str = "date") -> str:
    """``text`` if it is a real calendar day written YYYY-MM-DD (``2026-13-01`` is not), else ``ValueError``
    with one line naming the flag: every date flag of every command reads its value here."""
    try:
        if len(text) == 10 and date.fromisoformat(text):
            return text
    except ValueError:
        pass
    raise ValueError(f"{flag} {text!r}: not a calendar date (expected YYYY-MM-DD, such as 2026-11-01)")


def add_day(parser: argparse.ArgumentParser, flag: str, help: str) -> None:
    """A date flag (``--since``, ``--until``, ``--date``): a bad date is argparse's one-line error, exit 2."""

    def day(text: str) -> str:
        try:
            return parse_day(text, flag)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)[len(flag) + 1 :]) from None

    parser.add_argument(flag, metavar="YYYY-MM-DD", type=day, help=help)
