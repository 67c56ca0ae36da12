"""newsmon demo — a full cycle against the bundled recorded pages, served on loopback (no network)."""

from __future__ import annotations

import argparse

HELP = "run a full cycle against bundled recorded Kremlin pages served on loopback (works offline)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "Examples:\n  newsmon demo\n  newsmon demo --output /tmp/newsmon-demo"
    parser.add_argument("--output", metavar="DIR", default="output/demo",
                        help="output directory (default: output/demo)")


def run(args: argparse.Namespace) -> int:
    from crawler.commands.run import exit_status, print_summary
    from crawler.demo_site import demo_config, serve
    from crawler.runner import run_cycle

    server = serve(start_server()).start()
    try:
        print(f"serving the bundled pages (crawler/demo/, CC BY 4.0 kremlin.ru) at {server.url}")
        config = demo_config(server, args.output)
        result = run_cycle(config)
    finally:
        server.stop()
    print_summary(result)
    landed = items_of_run(result.output_dir, result.run_id)
    if landed:
        print(f"\nnew items in {result.output_dir / result.day / 'items.jsonl'}:")
        for item in landed[:12]:
            print(f"  {item.get('published_at') or '':<25} {item.get('lang') or '?':<3} {item.get('title')}")
    elif result.status == "ok":
        print("\nnothing new: every bundled article is already in this output directory "
              "(use another --output for a fresh run)")
    return exit_status(result)


# The demo's article URLs include the server's port: a fixed port keeps them (and so the item ids) the
# same from one demo run to the next, so a second run finds nothing new, as a real second run would.
# NEWSMON_DEMO_PORT picks another one.
DEMO_PORT = 47181


def start_server():
    from crawler.localsite import SiteServer

    import os

    try:
        return SiteServer(port=int(os.environ.get("NEWSMON_DEMO_PORT", DEMO_PORT)))
    except OSError:       # port taken: any free port (a rerun then sees the pages as new ones)
        return SiteServer()


def items_of_run(output_dir, run_id: int) -> list[dict]:
    import json

    from crawler import state

    conn = state.connect(output_dir)
    try:
        rows = conn.execute("SELECT i.json FROM articles a JOIN items i ON i.id = a.id WHERE a.run_id = ? "
                            "ORDER BY a.rowid", (run_id,)).fetchall()
        return [json.loads(r["json"]) for r in rows]
    finally:
        conn.close()
