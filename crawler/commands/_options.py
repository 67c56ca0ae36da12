"""Options most commands share, spelled once: ``--config`` and ``--output``.

``--config`` defaults to ``$NEWSMON_CONFIG``, so a user with their own sources file sets it once (in the
shell profile, the systemd unit or the crontab) instead of passing it to every command.
"""

from __future__ import annotations

import argparse
import os

CONFIG_ENV = "NEWSMON_CONFIG"


def add_config(parser: argparse.ArgumentParser,
               help: str = "user config file (overrides/extends the defaults)") -> None:
    parser.add_argument("--config", metavar="PATH", default=os.environ.get(CONFIG_ENV) or None,
                        help=f"{help}; default: ${CONFIG_ENV}")


def add_output(parser: argparse.ArgumentParser,
               help: str = "output directory (default: [crawler] output_dir)") -> None:
    parser.add_argument("--output", metavar="DIR", help=help)


def load(args: argparse.Namespace):
    """The merged config of ``--config``, with ``--output`` applied when the command has it."""
    from crawler.config import load_config

    return load_config(args.config, output_dir=getattr(args, "output", None))
