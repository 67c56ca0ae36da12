"""The state on SQLite and on PostgreSQL side by side: storing items, indexing them for search, queries.

    .venv/bin/python benchmarks/bench_state_backends.py [--items 3000] [--url postgresql://…]

Without ``--url`` a PostgreSQL server of its own is started as the tests start one (tests/pgserver.py:
Debian's binaries, a temp cluster on a unix socket, fsync off, so the writes measure the server and not the
disk). The items are bench_search.py's (a third each Chinese, Russian and English, ~6–10 KB of original and
English text each); for each backend: the items stored through the item store (one transaction), the first
search indexing, and each query of bench_search.py (count + newest 20 hits with context, median of 5), with
the hit counts, which must agree between the backends.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_search import QUERIES, corpus, make_items, median_seconds, store_rows  # noqa: E402

from crawler import state  # noqa: E402
from crawler.digest import search  # noqa: E402
from tests import digestkit  # noqa: E402


def measure(out: Path, items: list[dict]) -> dict:
    started = time.perf_counter()
    store_rows(out, items, [digestkit.DAY])
    stored = time.perf_counter() - started
    with closing(state.connect(out)) as conn:
        started = time.perf_counter()
        indexed = search.update_index(conn)
        index_s = time.perf_counter() - started
        queries = {term: median_seconds(lambda t=term: search.search(conn, t, limit=20)) for _lang, term in QUERIES}
    return {
        "stored": stored,
        "indexed": indexed,
        "index_s": index_s,
        "queries": {t: (s, r.total) for t, (s, r) in queries.items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=3000)
    parser.add_argument("--url", help="an empty PostgreSQL database (default: a server of its own)")
    args = parser.parse_args()
    items = make_items(args.items, corpus(), random.Random(7))
    server = None
    url = args.url
    if url is None:
        from tests.pgserver import PgServer

        server = PgServer().start()
        url = server.database()
    try:
        results = {}
        for backend in ("sqlite", "postgresql"):
            os.environ.pop(state.ENV_URL, None)
            if backend == "postgresql":
                os.environ[state.ENV_URL] = url
            with tempfile.TemporaryDirectory() as tmp:
                results[backend] = measure(Path(tmp), [dict(i) for i in items])
    finally:
        os.environ.pop(state.ENV_URL, None)
        if server is not None:
            server.stop()
    lite, pg = results["sqlite"], results["postgresql"]
    print(f"{args.items} items        {'SQLite':>10} {'PostgreSQL':>11} {'ratio':>7}")
    print(f"{'store':<20} {lite['stored']:9.2f}s {pg['stored']:10.2f}s {pg['stored'] / lite['stored']:6.2f}x")
    print(
        f"{'search index':<20} {lite['index_s']:9.2f}s {pg['index_s']:10.2f}s {pg['index_s'] / lite['index_s']:6.2f}x"
    )
    for _lang, term in QUERIES:
        (ls, lh), (ps, ph) = lite["queries"][term], pg["queries"][term]
        print(
            f"{term:<20} {ls * 1000:8.1f}ms {ps * 1000:9.1f}ms {ps / ls:6.2f}x  hits {lh} / {ph}"
            + ("" if lh == ph else "  DIFFER")
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
