"""newsmon digest [--date D] [--reextract] [--output DIR]"""

from __future__ import annotations

import argparse
import re
import sys

from crawler.commands._options import add_config, add_day, add_output, load

HELP = "rebuild a day's digest.txt and digest.html from the stored data (optionally re-extracting first)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Examples:\n"
        "  newsmon digest                         # the latest day with items, from what is stored\n"
        "  newsmon digest --date 2026-11-28 --reextract\n"
        '  grep -i "interests of our peoples" output/*/digest.txt'
    )
    add_day(parser, "--date", "the day (default: the latest day with items)")
    parser.add_argument(
        "--reextract", action="store_true", help="re-extract the day's items from their stored raw pages first"
    )
    add_output(parser)
    add_config(parser, "user config file (section names and settings)")


def run(args: argparse.Namespace) -> int:
    from crawler.digest import search
    from crawler.digest import stage as digest
    from crawler.exceptions import NewsmonError

    config = load(args)
    digest.settings(config)  # a bad [digest] table fails before any work
    day = args.date or latest_day(config.output_dir)
    if not re.match(r"^\d{4}-\d{2}-\d{2}$", day or ""):
        raise NewsmonError(f"--date {day!r}: expected YYYY-MM-DD")
    check_day(config.output_dir, day)
    if args.reextract:
        from crawler.digest.reextract import reextract_day
        from crawler.ops.lock import CycleLock

        # rewriting items.jsonl beside a cycle appending to it could drop a line: wait for the cycle
        with CycleLock(config.output_dir, wait=True, what="cycle"):
            report = reextract_day(config.output_dir, day, config)
        print(
            f"re-extracted {day}: {report['items']} items, {report['changed']} changed, {len(report['failed'])} failed",
            file=sys.stderr,
        )
        for failure in report["failed"]:
            print(f"  failed: {failure}", file=sys.stderr)
    conn = search.open_archive(config.output_dir)
    try:
        search.update_index(conn, progress=True)
        summary = digest.build(config.output_dir, day, config, conn=conn)
    finally:
        conn.close()
    for path in summary["paths"]:
        print(path)
    return 0


def latest_day(output_dir) -> str:
    from crawler.digest.search import open_archive
    from crawler.exceptions import NewsmonError

    conn = open_archive(output_dir)
    try:
        row = conn.execute("SELECT max(day) FROM items").fetchone()
    finally:
        conn.close()
    if not row or not row[0]:
        raise NewsmonError(f"no stored items in {output_dir}: run `newsmon run` first, or give --output")
    return row[0]


def check_day(output_dir, day: str) -> None:
    """A day with neither items nor runs is a typo, not an empty digest."""
    from pathlib import Path

    from crawler.digest.data import runs_of_day
    from crawler.digest.search import open_archive
    from crawler.exceptions import NewsmonError
    from crawler.store import dayfiles

    conn = open_archive(output_dir)
    try:
        has_items = conn.execute("SELECT 1 FROM items WHERE day = ? LIMIT 1", (day,)).fetchone()
        days = [r[0] for r in conn.execute("SELECT DISTINCT day FROM items ORDER BY day DESC LIMIT 5")]
        has_runs = runs_of_day(conn, day)
    finally:
        conn.close()
    if not (has_items or has_runs or dayfiles.day_files(Path(output_dir), day)):
        known = ", ".join(days) if days else "none"
        raise NewsmonError(f"nothing stored for {day} in {output_dir} (latest days with items: {known})")
