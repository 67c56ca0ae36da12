"""newsmon status: last runs, section states, pending work; exit 1 when something needs attention."""

from __future__ import annotations

import argparse

from crawler.commands._options import add_config, add_output, load

HELP = "show last runs, section states, pending translations and alerts; exit 1 if something needs attention"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Examples:\n"
        "  newsmon status\n"
        "  newsmon status --output /srv/newsmon/output --json   # for monitoring\n"
        "Exit status: 0 all well, 1 something needs attention (listed), 2 bad usage or config."
    )
    add_config(parser, "user config file (to know the configured sections)")
    add_output(parser)
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")


def run(args: argparse.Namespace) -> int:
    import json

    from crawler.ops.status import collect, render

    report = collect(load(args))
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else render(report))
    return 1 if report["attention"] else 0
