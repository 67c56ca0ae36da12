"""newsmon state copy --to URL — move the archive's state from its SQLite file into PostgreSQL."""

from __future__ import annotations

import argparse

from crawler.commands._options import add_config, add_output, load

HELP = "copy the state DB (items, sections, search, translation memory) from state.sqlite into PostgreSQL"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Examples:\n"
        "  newsmon state copy --to postgresql://newsmon@db.example/newsmon\n"
        "  newsmon state copy --to 'postgresql:///newsmon?host=/run/postgresql' --output /srv/newsmon/output\n\n"
        "The database must be empty of items and runs; state.sqlite is only read. Then set [state] url (or\n"
        "NEWSMON_DATABASE_URL) to the same URL. The day files and raw pages stay where they are."
    )
    parser.add_argument("action", choices=["copy"], help="copy: the SQLite state into the database at --to")
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
