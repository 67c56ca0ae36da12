"""newsmon translate --pending [--failed]"""

from __future__ import annotations

import argparse
import sys

from crawler.commands._options import add_config, add_output, load

HELP = "translate stored zh/ru items that are still pending (or failed) into English, offline"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Examples:\n"
        "  newsmon translate --pending\n"
        "  newsmon translate --pending --failed --output /srv/newsmon/output\n\n"
        "Updates each item in the state DB, then rewrites the day files that changed (atomically)."
    )
    parser.add_argument("--pending", action="store_true", help="translate items whose status is pending")
    parser.add_argument("--failed", action="store_true", help="retry items whose translation failed")
    add_config(parser)
    add_output(parser)


def run(args: argparse.Namespace) -> int:
    from crawler.ops.lock import CycleLock
    from crawler.store.dayfiles import export_now
    from crawler.translation.settings import settings_of as translation_settings
    from crawler.translation.stage import translate_pending

    statuses = tuple(s for s, on in (("pending", args.pending), ("failed", args.failed)) if on)
    if not statuses:
        print("newsmon: error: translate: say what to translate: --pending and/or --failed", file=sys.stderr)
        return 2
    config = load(args)
    settings = translation_settings(config)
    with CycleLock(config.output_dir, wait=True, what="cycle"):  # never beside a running crawl cycle
        summary = translate_pending(settings, config.output_dir, statuses)
        export_now(config.output_dir)
    print(describe(summary))
    return 0 if not summary["failed"] and not summary["pending"] else 1


def describe(s: dict) -> str:
    if not s["items"]:
        return "nothing to translate"
    line = (
        f"{s['items']} item(s): {s['done']} translated, {s['failed']} failed, {s['pending']} still pending; "
        f"sentences: {s.get('from_memory', 0)} from memory, {s.get('by_model', 0)} by the model "
        f"in {s.get('model_calls', 0)} model call(s); {s['seconds']} s"
    )
    if s["missing_models"]:
        line += f"\nmissing models: {', '.join(s['missing_models'])} (newsmon models install …)"
    return line
