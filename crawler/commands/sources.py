"""newsmon sources list|check"""

from __future__ import annotations

import argparse
import sys

from crawler.commands._options import add_config, load

HELP = "list the configured sources and sections, or validate a sources file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = ("Examples:\n  newsmon sources list\n  newsmon sources check --config my-sources.toml")
    parser.add_argument("action", choices=["list", "check"], help="list: show sections; check: validate")
    add_config(parser)


def run(args: argparse.Namespace) -> int:

    config = load(args)
    if args.action == "check":
        from crawler.checks import check_config

        problems = check_config(config)     # feature tables and section cron lines, not only sources
        for problem in problems:
            print(f"newsmon: error: {problem}", file=sys.stderr)
        if problems:
            return 2
        print(f"ok: {len(config.sources)} sources, {len(config.sections)} sections "
              f"({' + '.join(config.files)})")
        return 0
    for source in config.sources:
        print(f"{source.id}  {source.name}")
        for sec in source.sections:
            langs = ",".join(sec.languages) or "?"
            print(f"  {sec.key:<36} {sec.kind:<8} {langs:<6} {sec.url}")
    return 0
