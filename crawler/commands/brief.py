"""newsmon brief [--since D] [--until D] [--output FILE.md]"""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta
from pathlib import Path

from crawler.commands._options import add_config, add_day

HELP = "a Markdown draft of the week's brief: sections back or off subject, watch hits, quotes, held datelines, stories"
DAYS = 7


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Examples:\n"
        "  newsmon brief --output brief.md                 # the last 7 days, up to today\n"
        "  newsmon brief --since 2026-09-05 --until 2026-09-11 --output brief-37.md\n\n"
        "Each entry carries its link and dates; quotes are in English and the original.\n"
        "The window is the items' publication day (else crawl day), both ends included.\n"
        "Without --output the draft goes to standard output; --archive DIR names the output\n"
        "directory of the archive (what --output is to the other commands)."
    )
    add_day(parser, "--since", f"first day (default: {DAYS - 1} days before --until)")
    add_day(parser, "--until", "last day (default: today)")
    parser.add_argument("--output", dest="file", metavar="FILE.md", help="write the draft here (default: stdout)")
    parser.add_argument(
        "--archive", metavar="DIR", help="output directory holding state.sqlite (default: [crawler] output_dir)"
    )
    add_config(parser, "user config file")


def run(args: argparse.Namespace) -> int:
    from crawler.analysis import brief
    from crawler.config import load_config
    from crawler.digest.search import open_archive
    from crawler.exceptions import NewsmonError
    from crawler.items import utc_now
    from crawler.store.diskspace import write_atomic

    until = args.until or date.today().isoformat()
    since = args.since or (date.fromisoformat(until) - timedelta(days=DAYS - 1)).isoformat()
    if since > until:
        raise NewsmonError(f"--since {since} is after --until {until}")
    config = load_config(args.config, output_dir=args.archive)
    conn = open_archive(config.output_dir)
    try:
        window = brief.load_window(conn, since, until)
    finally:
        conn.close()
    text = brief.render(window, brief.watches_of(config), brief.names_of(config), utc_now())
    if args.file:
        write_atomic(Path(args.file), text.encode("utf-8"))
        print(f"brief: {args.file} ({len(window.items)} items, {since} – {until})", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
