"""newsmon status: last runs, section states, pending work; exit 1 when something needs attention."""

from __future__ import annotations

import argparse

HELP = "show last runs, section states, pending translations and alerts; exit 1 if something needs attention"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = ("Examples:\n"
                     "  newsmon status\n"
                     "  newsmon status --output /srv/newsmon/output --json   # for monitoring\n"
                     "Exit status: 0 all well, 1 something needs attention (listed), 2 bad usage or config.")
    parser.add_argument("--config", metavar="PATH", help="user config file (to know the configured sections)")
    parser.add_argument("--output", metavar="DIR", help="output directory (default: [crawler] output_dir)")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")


def run(args: argparse.Namespace) -> int:
    import json

    from crawler.config import load_config
    from crawler.ops.status import collect, render

    report = collect(load_config(args.config, output_dir=args.output))
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else render(report))
    return 1 if report["attention"] else 0
