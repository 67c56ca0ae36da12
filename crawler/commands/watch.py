"""newsmon watch [--since DATE] [--name NAME] [--json] | --rematch [--since DATE]"""

from __future__ import annotations

import argparse
import json
import re
import sys

from crawler.commands._options import add_config, add_output, load

HELP = "list the items your [[watch]] phrases matched, or match stored items again after editing the watches"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = ("Examples:\n"
                     "  newsmon watch --since 2026-11-01\n"
                     "  newsmon watch --name Sanctions --json\n"
                     "  newsmon watch --rematch --since 2026-10-01    # after adding or changing a [[watch]]\n"
                     '  grep "watch:Sanctions" output/*/digest.txt\n\n'
                     "Watches are [[watch]] entries of your config (docs/watch.md). Listing first\n"
                     "matches the items stored or translated since the last cycle (unless a cycle is running).\n"
                     "Exit status: 0 with hits, 1 without (as grep), 2 on an error.")
    parser.add_argument("--since", metavar="YYYY-MM-DD", help="only items crawled on or after this day")
    parser.add_argument("--name", metavar="NAME", action="append", help="only this watch (repeatable)")
    parser.add_argument("--json", action="store_true", help="one JSON object per hit, for scripts")
    parser.add_argument("--rematch", action="store_true",
                        help="match every stored item (since --since) against the current watches; "
                             "announces only hits never announced before")
    add_config(parser)
    add_output(parser)


def run(args: argparse.Namespace) -> int:
    from crawler.exceptions import NewsmonError
    from crawler.watch.matcher import Matcher
    from crawler.watch.settings import watches_of

    if args.since and not re.match(r"^\d{4}-\d{2}-\d{2}$", args.since):
        raise NewsmonError(f"--since {args.since!r}: expected a date YYYY-MM-DD")
    config = load(args)
    watches = watches_of(config)                     # a bad [[watch]] fails before any work, file:line
    if args.rematch:
        if args.name:     # matching one watch alone would drop the items' hits of the others
            raise NewsmonError("--rematch matches every [[watch]]; --name only filters the listing")
        return rematch(config, Matcher(watches), args.since)
    match_queue(config, Matcher(watches))
    return show(config, args)


def rematch(config, matcher, since: str | None) -> int:
    from crawler import state
    from crawler.lifecycle import events
    from crawler.ops.lock import CycleLock
    from crawler.progress import Progress
    from crawler.store.dayfiles import export_now
    from crawler.watch import stage, store

    if not matcher:
        print("newsmon: warning: no [[watch]] configured: every stored hit in range is removed", file=sys.stderr)
    with CycleLock(config.output_dir, wait=True, what="cycle"):      # rewrites items.jsonl: never beside a cycle
        conn = state.connect(config.output_dir)
        try:
            ids = store.ids_since(conn, since)
            with Progress("watch: items", len(ids)) as progress:
                summary = stage.match_ids(conn, config.output_dir, matcher, ids, run_id=None, progress=progress)
            events.flush_jsonl(conn, config.output_dir)     # into alerts.jsonl now; channels get them next cycle
        finally:
            conn.close()
        export_now(config.output_dir)
    print(f"rematched {summary['items']} item(s) against {summary['watches']} watch(es): {summary['hits']} hit(s), "
          f"{summary['new_hits']} new (announced in alerts.jsonl), {summary['changed']} item(s) updated; "
          f"{summary['seconds']} s")
    return 0


def match_queue(config, matcher) -> None:
    """Match what was stored or translated since the last cycle, unless a cycle is running (it will)."""
    import logging

    from crawler import state
    from crawler.exceptions import LockHeld
    from crawler.lifecycle import events
    from crawler.ops.lock import CycleLock
    from crawler.store.dayfiles import export_now
    from crawler.watch import stage

    if not state.db_path(config.output_dir).exists():
        return
    try:
        with CycleLock(config.output_dir, wait=False):
            conn = state.connect(config.output_dir)
            try:
                stage.match_queued(conn, config.output_dir, matcher)
                events.flush_jsonl(conn, config.output_dir)
            finally:
                conn.close()
            export_now(config.output_dir)
    except LockHeld as exc:
        logging.getLogger(__name__).info("not matching queued items: %s", exc)


def show(config, args) -> int:
    from crawler import state
    from crawler.watch import store

    if not state.db_path(config.output_dir).exists():
        print("no watch hits (nothing stored yet)")
        return 1
    conn = state.connect(config.output_dir)
    try:
        found = store.hits(conn, since=args.since, names=args.name)
    finally:
        conn.close()
    for hit in found:
        print(json.dumps(hit_json(hit), ensure_ascii=False) if args.json else describe(hit))
    if not args.json:
        print(f"{len(found)} hit{'s' if len(found) != 1 else ''}")
    return 0 if found else 1


def hit_json(hit: dict) -> dict:
    from crawler.items import english_title

    item = hit["item"]
    return {"watch": hit["watch"], "day": hit["day"], "section": hit["section"], "id": hit["item_id"],
            "phrases": hit["phrases"], "found": hit["found"], "in": hit["in"], "url": item.get("url"),
            "title": item.get("title"), "title_en": english_title(item), "lang": item.get("lang"),
            "first_matched_at": hit["first_matched_at"]}


def describe(hit: dict) -> str:
    from crawler.items import english_title
    from crawler.watch.matcher import in_words

    item = hit["item"]
    phrases = in_words(hit["phrases"], hit["found"])
    lines = [f"{hit['day']}  {hit['section']}  watch:{hit['watch']}  {phrases} in {', '.join(hit['in'])}"]
    english = english_title(item)
    if item.get("lang") != "en":
        lines.append(f"  EN: {english or '(translation pending)'}")
    lines.append(f"  {(item.get('lang') or '?').upper()}: {item.get('title') or '(untitled)'}")
    lines.append(f"  {item.get('url') or '(item row missing)'}  #{hit['item_id'][:8]}")
    return "\n".join(lines)
