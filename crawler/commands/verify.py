"""newsmon verify [--repair] — is the output directory what the state DB says?"""

from __future__ import annotations

import argparse

from crawler.commands._options import add_config, add_output, load

HELP = "check the day files and raw pages against the state DB (one line per problem); --repair restores"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Examples:\n  newsmon verify\n  newsmon verify --repair --output /srv/newsmon/output\n\n"
        "Exit status: 0 consistent, 1 problems found (after --repair: problems left)."
    )
    add_config(parser)
    add_output(parser)
    parser.add_argument(
        "--repair",
        action="store_true",
        help="write every day file from the state DB and remove temp files of killed processes",
    )


def run(args: argparse.Namespace) -> int:
    from crawler import state
    from crawler.exceptions import NewsmonError
    from crawler.ops.lock import CycleLock
    from crawler.store.verify import repair, verify

    config = load(args)
    out = config.output_dir
    if not state.exists(out):
        raise NewsmonError(f"{out}: no state DB here (nothing crawled yet, or a wrong --output)")
    with CycleLock(out, wait=True, what="cycle"):  # never beside a run writing the same files
        conn = state.connect(out)
        try:
            found = verify(conn, out)
            for line in found.problems:
                print(line)
            if args.repair and found.problems:
                written, removed = repair(conn, out)
                print(
                    f"repaired: {len(written)} day file(s) written from the state DB, "
                    f"{len(removed)} temp file(s) removed"
                )
                found = verify(conn, out)
                for line in found.problems:
                    print(f"left: {line}")
        finally:
            conn.close()
    print(
        f"{found.days} day(s), {found.items} item(s): "
        + ("consistent" if not found.problems else f"{len(found.problems)} problem(s)")
    )
    return 1 if found.problems else 0
