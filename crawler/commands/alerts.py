"""newsmon alerts [--since DATE] [--type T] [--output DIR] [--json] [--deliver]"""

from __future__ import annotations

import argparse

from crawler.commands._options import add_config, add_output, load
from crawler.lifecycle.events import EVENT_TYPES as TYPES

HELP = "list section lifecycle and article events (alerts), or deliver the undelivered ones"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Examples:\n  newsmon alerts --since 2026-11-01\n  newsmon alerts --type section_gone "
        "--type section_reappeared\n  newsmon alerts --json > events.jsonl\n"
        "  newsmon alerts --deliver            # retry undelivered events now"
    )
    parser.add_argument("--since", metavar="DATE", help="only events at or after DATE (YYYY-MM-DD or ISO time, UTC)")
    parser.add_argument(
        "--type",
        metavar="T",
        action="append",
        choices=TYPES,
        help=f"only this event type (repeatable): {', '.join(TYPES)}",
    )
    parser.add_argument("--section", metavar="KEY", action="append", help="only this section (source/section)")
    parser.add_argument("--json", action="store_true", help="print the alerts.jsonl objects instead of a table")
    parser.add_argument(
        "--deliver", action="store_true", help="send pending and undelivered events to the configured channels now"
    )
    add_config(parser)
    add_output(parser)


def run(args: argparse.Namespace) -> int:
    from crawler.alerts import listing as alertlist

    config = load(args)
    if args.deliver:
        return alertlist.deliver_now(config)
    since = alertlist.parse_since(args.since)
    found = alertlist.query(config.output_dir, since=since, types=args.type, sections=args.section)
    alertlist.show(found, as_json=args.json)
    return 0
