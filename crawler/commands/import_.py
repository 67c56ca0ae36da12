"""newsmon import FILE.jsonl… — load items in newsmon's schema into the state DB and the day files."""

from __future__ import annotations

import argparse
import sys

from crawler.commands._options import add_config, add_output, load

HELP = "load items from JSONL files in newsmon's schema (a backup, a colleague's archive); idempotent"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Examples:\n  newsmon import backup/2026-11-*/items.jsonl*\n"
        "  newsmon import --output /srv/newsmon/output colleague.jsonl\n\n"
        "Restoring a lost state.sqlite: newsmon import output/*/items.jsonl*  (earlier days are gzipped)\n"
        "Exit status: 0 every line imported or already stored, 1 some lines rejected."
    )
    add_config(parser)
    add_output(parser)
    parser.add_argument(
        "files", metavar="FILE", nargs="+", help="JSONL files, one item per line (gzipped when the name ends in .gz)"
    )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from crawler.exceptions import NewsmonError
    from crawler.ops.lock import CycleLock
    from crawler.store.importer import import_files

    config = load(args)
    files = [Path(f) for f in args.files]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise NewsmonError(f"import: no such file: {', '.join(missing)}")
    with CycleLock(config.output_dir, wait=True, what="cycle"):
        report = import_files(config.output_dir, files)
    for line in report.rejected:
        print(line, file=sys.stderr)
    print(report.as_line())
    return 1 if report.rejected else 0
