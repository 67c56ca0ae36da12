"""newsmon export [--since D] [--until D] [--source S] --format csv|jsonl|parquet FILE"""

from __future__ import annotations

import argparse
import sys

from crawler.commands._options import add_config, add_day, add_output, load

HELP = (
    "write every stored item as one row (original and English, dates, flags, watches, story) to CSV, JSONL or Parquet"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Examples:\n"
        "  newsmon export --format csv items.csv\n"
        "  newsmon export --since 2026-11-01 --source kremlin-ru --format parquet kremlin.parquet\n"
        "  newsmon export --format jsonl - | jq .title_en\n\n"
        "One row per item: id, source, section, url, published_at (YYYY-MM-DDTHH:MM:SS with the\n"
        "site's UTC offset), published_date, published_precision (date: only the day was known),\n"
        "fetched_at, crawl_day, lang, title, title_en, text, text_en, translation_status, version,\n"
        "edited, deleted, flags, watch, story_id, story_size, authors (docs/output.md).\n"
        "pandas: pd.to_datetime(df.published_at, utc=True). Parquet needs pyarrow:\n"
        "pip install 'newsmon[parquet]'."
    )
    parser.add_argument("file", metavar="FILE", help="where to write (- : standard output, csv and jsonl)")
    parser.add_argument(
        "--format",
        choices=["csv", "jsonl", "parquet"],
        default=None,
        help="default: from FILE's extension (.csv, .jsonl, .parquet)",
    )
    add_day(parser, "--since", "published (else crawled) on or after this day")
    add_day(parser, "--until", "published (else crawled) on or before this day")
    parser.add_argument("--source", metavar="S", help="a source id (mid) or a section key (mid/news)")
    add_output(parser, "output directory holding state.sqlite")
    add_config(parser)


def run(args: argparse.Namespace) -> int:
    from crawler.digest.search import open_archive
    from crawler.exceptions import NewsmonError
    from crawler.store import rows

    fmt = args.format or _format_of(args.file)
    if fmt is None:
        raise NewsmonError(f"{args.file}: give --format csv, jsonl or parquet (the name has no such extension)")
    if fmt == "parquet":
        rows._pyarrow()  # missing pyarrow: said before any work
    config = load(args)
    conn = open_archive(config.output_dir)
    try:
        count = rows.write(rows.rows(conn, args.since, args.until, args.source), fmt, args.file)
    finally:
        conn.close()
    if args.file != "-":
        print(f"{count} item{'s' if count != 1 else ''} written to {args.file} ({fmt})", file=sys.stderr)
    return 0


def _format_of(name: str) -> str | None:
    for ext in ("csv", "jsonl", "parquet"):
        if name.lower().endswith(f".{ext}"):
            return ext
    return None
