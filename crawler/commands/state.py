"""newsmon state copy --to URL — move the archive's state from its SQLite file into PostgreSQL;
newsmon state compact — rewrite the SQLite file without its free pages."""

from __future__ import annotations

import argparse

from crawler.commands._options import add_config, add_output, load

HELP = "copy the state DB from state.sqlite into PostgreSQL, or compact state.sqlite"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Examples:\n"
        "  newsmon state copy --to postgresql://newsmon@db.example/newsmon\n"
        "  newsmon state copy --to 'postgresql:///newsmon?host=/run/postgresql' --output /srv/newsmon/output\n\n"
        "The database must be empty of items and runs; state.sqlite is only read. Then set [state] url (or\n"
        "NEWSMON_DATABASE_URL) to the same URL. The day files and raw pages stay where they are.\n\n"
        "  newsmon state compact --output /srv/newsmon/output\n\n"
        "compact rewrites state.sqlite without its free pages (those of deleted rows, which SQLite keeps for\n"
        "reuse) and from then on gives them back after each run, as a file newsmon creates does. It needs\n"
        "free space for a copy of the file and waits for a running cycle to end."
    )
    parser.add_argument(
        "action",
        choices=["copy", "compact"],
        help="copy: the SQLite state into the database at --to; compact: state.sqlite without its free pages",
    )
    parser.add_argument(
        "--to", metavar="URL", help="the PostgreSQL database (default: NEWSMON_DATABASE_URL, else [state] url)"
    )
    add_config(parser)
    add_output(parser, "the output directory holding state.sqlite (default: [crawler] output_dir)")


def run(args: argparse.Namespace) -> int:
    from crawler import state
    from crawler.exceptions import NewsmonError
    from crawler.ops.lock import CycleLock
    from crawler.store.copy import copy_archive
    from crawler.store.dialect import redact_url
    from crawler.translation.settings import settings_of as translation_settings

    config = load(args)
    if args.action == "compact":
        with CycleLock(config.output_dir, wait=True, what="cycle"):  # no run writes the file meanwhile
            before, after = state.compact(config.output_dir)
        print(f"{state.db_path(config.output_dir)}: {before / 1e6:.1f} MB → {after / 1e6:.1f} MB")
        return 0
    url = args.to or state.database_url()
    if not url:
        raise NewsmonError("state copy: give --to postgresql://… (or set NEWSMON_DATABASE_URL or [state] url)")
    if not url.startswith(state.URL_SCHEMES):
        raise NewsmonError(f"state copy: --to {url}: not a PostgreSQL URL (postgresql://user@host/dbname)")
    out = config.output_dir
    memory = translation_settings(config).memory_path(out)
    with CycleLock(out, wait=True, what="cycle"):  # no run writes the file while it is read
        copied = copy_archive(out, url, memory)
    print(
        f"copied {sum(copied.rows.values())} rows of {len(copied.rows)} tables into {redact_url(url)} "
        f"({copied.rows.get('items', 0)} items; search index built: {copied.indexed} items)"
    )
    return 0
