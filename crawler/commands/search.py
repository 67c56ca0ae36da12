"""newsmon search QUERY [--since D] [--until D] [--source S] [--lang L] [--limit N] [--json] | --rebuild"""

from __future__ import annotations

import argparse
import json
import sys

from crawler.commands._options import add_config, add_day, add_output, load

HELP = "full-text search over every stored item, in the original and in English (Chinese substrings too)"

BOLD, RESET = "\x1b[1m", "\x1b[0m"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Examples:\n"
        '  newsmon search "两国人民"\n'
        '  newsmon search "интересах наших народов" --since 2026-01-01 --source mid\n'
        '  newsmon search "interests of our peoples" --lang zh --limit 50\n'
        "  newsmon search --rebuild          # recompute the whole index from the items table\n"
        '  newsmon search "Путин*" --limit 0    # how many items name Putin in any case form\n'
        "  newsmon search --flag off_subject --since 2026-09-01   # items off their section's subject\n\n"
        "Terms separated by spaces must all occur; quote a phrase to keep it together.\n"
        'Each term is a phrase as in [[watch]] (docs/watch.md, "Phrase syntax"): any case, whole\n'
        "words (Chinese: substrings), a trailing * for any word ending; titles and text,\n"
        "original or English.\n"
        "Exit status: 0 with hits, 1 without (as grep), 2 on an error."
    )
    parser.add_argument("query", nargs="?", help="words or a quoted phrase")
    add_day(parser, "--since", "published (else crawled) on or after this day")
    add_day(parser, "--until", "published (else crawled) on or before this day")
    parser.add_argument("--source", metavar="S", help="a source id (mid) or a section key (mid/news)")
    parser.add_argument("--lang", metavar="L", help="original language: zh, ru, en …")
    parser.add_argument(
        "--flag",
        metavar="FLAG",
        help="only items with this flag: off_subject, dateline_lag (docs/analysis.md); "
        "without a query, every such item",
    )
    parser.add_argument(
        "--limit", type=limit, default=20, metavar="N", help="hits to print (default 20; 0: only how many there are)"
    )
    parser.add_argument("--order", choices=["date", "relevance"], default="date", help="newest first (default)")
    parser.add_argument("--json", action="store_true", help="one JSON object per hit, for scripts")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the search index first")
    add_output(parser, "output directory holding state.sqlite")
    add_config(parser, "user config file")


def run(args: argparse.Namespace) -> int:
    from crawler.digest import search

    config = load(args)
    if args.flag:
        from crawler.analysis.flags import check_flag

        check_flag(args.flag)
    if not args.query and not args.rebuild and not args.flag:
        raise search.SearchError('give a query, e.g. newsmon search "两国人民" (or --rebuild)')
    conn = search.open_archive(config.output_dir)
    try:
        if args.rebuild:
            count = search.rebuild_index(conn, progress=True)
            print(f"search index rebuilt: {count} items", file=sys.stderr)
        else:
            search.update_index(conn, progress=True)
        if not args.query and not args.flag:
            return 0
        filters = search.Filters(since=args.since, until=args.until, source=args.source, lang=args.lang, flag=args.flag)
        results = search.search(conn, args.query or "", filters, limit=args.limit, order=args.order)
    finally:
        conn.close()
    if args.json:
        for hit in results.hits:
            print(json.dumps(hit_json(hit), ensure_ascii=False))
    else:
        print_results(results, bold=sys.stdout.isatty())
    return 0 if results.total else 1


def limit(text: str) -> int:
    """``--limit``: a whole number ≥ 0."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number of hits, 0 or more")
    return value


def hit_json(hit) -> dict:
    doc = hit.doc
    keys = ("id", "date", "day", "source", "section", "lang", "url", "title", "title_en", "translation")
    return {**{k: doc.get(k) for k in keys}, "context": [{"lang": lang, "text": text} for lang, text in hit.contexts]}


def print_results(results, bold: bool = False) -> None:
    from crawler.wording import plural

    shown = len(results.hits)
    more = f", showing the first {shown}" if results.total > shown and shown else ""
    print(f"{plural(results.total, 'hit')}{more}" + ("\n" if shown else ""))
    for hit in results.hits:
        doc = hit.doc
        title_en = doc["title"] if doc.get("lang") == "en" else doc.get("title_en") or "(translation pending)"
        print(f"{doc['date']}  {doc['section']}  {doc.get('lang') or '?'}  #{doc['id'][:8]}  {doc['url']}")
        print(f"  EN: {title_en}")
        if doc.get("lang") != "en":
            print(f"  {(doc.get('lang') or '?').upper()}: {doc.get('title') or ''}")
        for lang, text in hit.contexts:
            print(f"    {lang}: {mark(text, results.terms) if bold else text}")
        print()


def mark(text: str, terms: list[str]) -> str:
    """Embolden every match of the terms (terminal only)."""
    from crawler.phrases import parse
    from crawler.watch.context import highlight, marks_of

    snippet = {"text": text, "marks": marks_of(text, [parse(t) for t in terms])}
    return highlight(snippet, lambda word: BOLD + word + RESET)
