"""newsmon trend PHRASE… [--by day|week|month] [--source S] [--since D] [--until D] [--chart FILE]"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from crawler.commands._options import add_config, add_day, add_output, load

HELP = "how a phrase travels: matching items per period and outlet, its first use, a chart (SVG)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Examples:\n"
        '  newsmon trend "interests of our peoples" "两国人民" "интересах наших народов"\n'
        '  newsmon trend "Eastern Economic Forum" --by day --since 2026-09-01 --source tass-en\n\n'
        "Phrases are matched as watch phrases are (docs/watch.md): in the original and the English\n"
        "title and text; an item matching any of them counts once, on its publication day.\n"
        "Prints a table (a row per period, a column per outlet), the first use and the spread\n"
        "from one outlet to the next, and writes the chart (default: OUTPUT/trends/<phrase>.svg).\n"
        "Exit status: 0 with matching items, 1 without, 2 on an error."
    )
    parser.add_argument("phrases", nargs="+", metavar="PHRASE", help="a phrase in any language (any of them)")
    parser.add_argument("--by", choices=["day", "week", "month"], default="week", help="period (default week)")
    parser.add_argument(
        "--source",
        action="append",
        metavar="S",
        help="a source id (tass-en) or a section key (tass-en/politics); repeatable",
    )
    add_day(parser, "--since", "published (else crawled) on or after this day")
    add_day(parser, "--until", "published (else crawled) on or before this day")
    parser.add_argument("--chart", metavar="FILE", help="where to write the SVG chart")
    add_output(parser, "output directory holding state.sqlite")
    add_config(parser, "user config file")


def run(args: argparse.Namespace) -> int:
    from crawler.analysis import chart, trend
    from crawler.digest.search import open_archive
    from crawler.store.diskspace import write_atomic
    from crawler.wording import plural

    config = load(args)
    conn = open_archive(config.output_dir)
    try:
        found = trend.count(conn, args.phrases, args.by, args.source, args.since, args.until)
    finally:
        conn.close()
    words = " | ".join(found.phrases)
    print(f"{words}: {plural(len(found.uses), 'item')} in {plural(len(found.sources), 'outlet')}, by {args.by}")
    if not found.uses:
        return 1
    print()
    print("\n".join(trend.table(found)))
    print()
    print("\n".join(trend.spread(found)))
    path = Path(args.chart) if args.chart else Path(config.output_dir) / "trends" / f"{slug(found.phrases)}.svg"
    svg = chart.line_chart(f"{words} — items per {args.by}", found.periods, found.series())
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, svg.encode("utf-8"))
    print(f"\nchart: {path}")
    return 0


def slug(phrases: list[str]) -> str:
    """A file name from the phrases: letters and digits of any script kept, the rest one dash."""
    words = re.sub(r"[^\w]+", "-", "-".join(phrases).casefold()).strip("-_")
    return words[:80] or "trend"
