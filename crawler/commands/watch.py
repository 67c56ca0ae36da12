"""newsmon watch [--since DATE] [--name NAME] [--json] | --rematch [--since DATE]"""

from __future__ import annotations

import argparse
import json
import sys

from crawler.commands._options import add_config, add_day, add_output, load

HELP = "list the items your [[watch]] phrases matched, or match stored items again after editing the watches"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Examples:\n"
        "  newsmon watch --since 2026-11-01\n"
        "  newsmon watch --name Sanctions --json\n"
        "  newsmon watch --rematch --since 2026-10-01    # after adding or changing a [[watch]]\n"
        '  grep "watch:Sanctions" output/*/digest.txt\n\n'
        "Watches are [[watch]] entries of your config (docs/watch.md). Each hit shows the sentence\n"
        "around its match, in the original and in English. Listing first\n"
        "matches the items stored or translated since the last cycle (unless a cycle is running).\n"
        "Exit status: 0 with hits, 1 without (as grep), 2 on an error."
    )
    add_day(parser, "--since", "only items crawled on or after this day")
    parser.add_argument("--name", metavar="NAME", action="append", help="only this watch (repeatable)")
    parser.add_argument("--json", action="store_true", help="one JSON object per hit, for scripts")
    parser.add_argument(
        "--rematch",
        action="store_true",
        help="match every stored item (since --since) against the current watches; "
        "announces only hits never announced before",
    )
    add_config(parser)
    add_output(parser)


def run(args: argparse.Namespace) -> int:
    from crawler.exceptions import NewsmonError
    from crawler.watch.matcher import Matcher
    from crawler.watch.settings import watches_of

    config = load(args)
    watches = watches_of(config)  # a bad [[watch]] fails before any work, file:line
    unknown = [n for n in args.name or [] if n not in {w.name for w in watches}]
    if unknown:
        known = ", ".join(w.name for w in watches) or "none: add [[watch]] entries to your config"
        raise NewsmonError(f"no such watch: {', '.join(unknown)} (configured watches: {known})")
    if args.rematch:
        if args.name:  # matching one watch alone would drop the items' hits of the others
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
    from crawler.wording import plural

    if not matcher:
        print("newsmon: warning: no [[watch]] configured: every stored hit in range is removed", file=sys.stderr)
    with CycleLock(config.output_dir, wait=True, what="cycle"):  # rewrites items.jsonl: never beside a cycle
        conn = state.connect(config.output_dir)
        try:
            ids = store.ids_since(conn, since)
            with Progress("watch: items", len(ids)) as progress:
                summary = stage.match_ids(conn, config.output_dir, matcher, ids, run_id=None, progress=progress)
            events.flush_jsonl(conn, config.output_dir)  # into alerts.jsonl now; channels get them next cycle
        finally:
            conn.close()
        export_now(config.output_dir)
        rewritten = rewrite_digests(config, summary["days"])
    print(
        f"rematched {plural(summary['items'], 'item')} against {plural(summary['watches'], 'watch', 'watches')}: "
        f"{plural(summary['hits'], 'hit')}, {summary['new_hits']} new (announced in alerts.jsonl), "
        f"{plural(summary['changed'], 'item')} updated; {summary['seconds']} s"
    )
    if rewritten:
        print(f"digests rewritten: {', '.join(rewritten)}")
    return 0


def rewrite_digests(config, days: list[str]) -> list[str]:
    """Write again the digests of ``days`` that have one (their Watched block changed); one that was
    gzipped (an earlier day's) is gzipped again. Returns the days rewritten."""
    from pathlib import Path

    from crawler import state
    from crawler.digest import stage as digest

    out = Path(config.output_dir)
    with_digest = [
        d for d in days if any((out / d / f"{name}{gz}").exists() for name in digest.DIGEST_FILES for gz in ("", ".gz"))
    ]
    if not with_digest:
        return []
    gzipped = [d for d in with_digest if (out / d / "digest.txt.gz").exists()]
    conn = state.connect(config.output_dir)
    try:
        for day in with_digest:
            digest.build(config.output_dir, day, config, conn=conn)
        if gzipped:  # every plain digest before the day after the last gzipped one
            digest.gzip_old_digests(conn, config.output_dir, max(gzipped) + "~")
    finally:
        conn.close()
    return with_digest


def match_queue(config, matcher) -> None:
    """Match what was stored or translated since the last cycle, unless a cycle is running (it will)."""
    import logging

    from crawler import state
    from crawler.exceptions import LockHeld
    from crawler.lifecycle import events
    from crawler.ops.lock import CycleLock
    from crawler.store.dayfiles import export_now
    from crawler.watch import stage

    if not state.exists(config.output_dir):
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

    if not state.exists(config.output_dir):
        print("no watch hits (nothing stored yet)")
        return 1
    conn = state.connect(config.output_dir)
    try:
        found = store.hits(conn, since=args.since, names=args.name)
    finally:
        conn.close()
    bold = sys.stdout.isatty()
    for hit in found:
        print(json.dumps(hit_json(hit), ensure_ascii=False) if args.json else describe(hit, bold))
    if not args.json:
        print(f"{len(found)} hit{'s' if len(found) != 1 else ''}")
    return 0 if found else 1


def hit_json(hit: dict) -> dict:
    from crawler.items import english_title

    item = hit["item"]
    return {
        "watch": hit["watch"],
        "day": hit["day"],
        "section": hit["section"],
        "id": hit["item_id"],
        "phrases": hit["phrases"],
        "found": hit["found"],
        "in": hit["in"],
        "contexts": hit["contexts"],
        "url": item.get("url"),
        "title": item.get("title"),
        "title_en": english_title(item),
        "lang": item.get("lang"),
        "first_matched_at": hit["first_matched_at"],
    }


def describe(hit: dict, bold: bool = False) -> str:
    from crawler.items import english_title
    from crawler.phrases import in_words

    item = hit["item"]
    phrases = in_words(hit["phrases"], hit["found"])
    lines = [f"{hit['day']}  {hit['section']}  watch:{hit['watch']}  {phrases} in {', '.join(hit['in'])}"]
    english = english_title(item)
    if item.get("lang") != "en":
        lines.append(f"  EN: {english or '(translation pending)'}")
    lines.append(f"  {(item.get('lang') or '?').upper()}: {item.get('title') or '(untitled)'}")
    lines.append(f"  {item.get('url') or '(item row missing)'}  #{hit['item_id'][:8]}")
    lines += context_lines(hit.get("contexts") or [], (item.get("lang") or "?").upper(), bold)
    return "\n".join(lines)


def context_lines(contexts: list[dict], lang: str, bold: bool) -> list[str]:
    """The sentence around each match: ``    ¶3    RU: … **Путина** …`` then ``          EN: …``;
    matches in bold on a terminal, between ``**`` otherwise (so they survive a pipe or a file)."""
    from crawler.watch.context import highlight

    def mark(word: str) -> str:
        return f"\x1b[1m{word}\x1b[0m" if bold else f"**{word}**"

    out = []
    for ctx in contexts:
        where = "title" if ctx.get("in") == "title" else f"¶{(ctx.get('paragraph') or 0) + 1}"
        out.append(f"    {where:<5} {lang}: {highlight(ctx.get('original'), mark)}")
        if ctx.get("english"):
            out.append(f"    {'':<5} EN: {highlight(ctx['english'], mark)}")
    return out
