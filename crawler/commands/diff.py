"""newsmon diff ID [--version N] [--html] [--config PATH] [--output DIR]"""

from __future__ import annotations

import argparse
import re
import sys

HELP = "show what an edit changed in an article: its versions compared, original and English, words marked"

HEX_ID = re.compile(r"^#?[0-9a-f]{4,16}$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from crawler.commands._options import add_config, add_output

    parser.epilog = (
        "Examples:\n  newsmon diff 3f2a1b2c              # the latest edit (the #id the digest shows)\n"
        "  newsmon diff 3f2a1b2c --version 2  # version 2 against version 1\n"
        "  newsmon diff http://en.kremlin.ru/events/president/news/63953\n"
        "  newsmon diff 3f2a1b2c --html > diff.html"
    )
    parser.add_argument(
        "id",
        metavar="ID",
        help="item id, its first 4+ characters (as the digest shows: #3f2a1b2c) or the article's URL",
    )
    parser.add_argument(
        "--version", metavar="N", type=int, help="compare version N with version N-1 (default: the latest version)"
    )
    parser.add_argument(
        "--html",
        action="store_true",
        help="print a standalone HTML page: the whole article, original and English side by side",
    )
    add_config(parser)
    add_output(parser)


def run(args: argparse.Namespace) -> int:
    from crawler import state
    from crawler.commands._options import load
    from crawler.lifecycle import diffview
    from crawler.lifecycle.versiondiff import article_diff, patterns_of
    from crawler.store import items as item_store

    config = load(args)
    conn = state.connect(config.output_dir)
    try:
        article_id = resolve(conn, args.id)
        item = item_store.get(conn, article_id) or {}
        diff, versions = article_diff(conn, article_id, args.version, patterns_of(config, item.get("section_key")))
    finally:
        conn.close()
    if diff is None:
        return _no_diff(article_id, args.version, [v.number for v in versions])
    if args.html:
        sys.stdout.write(diffview.html_page(diff))
        return 0
    print("\n".join(header(diff, item, versions) + diffview.text_lines(diff)))
    return 0


def resolve(conn, given: str) -> str:
    """The stored item ``given`` names: a URL, a whole id or the start of one (unique)."""
    from crawler.exceptions import NewsmonError
    from crawler.items import canonicalize_url, item_id

    text = given.strip()
    if text.lower().startswith(("http://", "https://")):
        found = item_id(canonicalize_url(text))
        if conn.execute("SELECT 1 FROM items WHERE id = ?", (found,)).fetchone() is None:
            raise NewsmonError(f"no stored item has the URL {text}")
        return found
    if not HEX_ID.match(text.lower()):
        raise NewsmonError(f"{given!r}: not an item id (4 to 16 hex characters, e.g. 3f2a1b2c) nor a URL")
    prefix = text.lower().lstrip("#")
    ids = [
        r[0]
        for r in conn.execute(
            "SELECT id FROM items WHERE id >= ? AND id < ? ORDER BY id LIMIT 5", (prefix, prefix + "g")
        )
    ]
    if not ids:
        raise NewsmonError(f"no stored item id starts with {prefix}")
    if len(ids) > 1:
        raise NewsmonError(f"{prefix} is the start of several item ids ({', '.join(ids)}): give more characters")
    return ids[0]


def header(diff, item: dict, versions) -> list[str]:
    from crawler.items import english_title
    from crawler.lifecycle.diffview import LEGEND, heading, when

    title = english_title(item) or item.get("title") or ""
    original = f" [{item.get('title')}]" if item.get("lang") != "en" and english_title(item) else ""
    listing = ", ".join(f"{v.number} ({when(v)})" for v in versions)
    return [
        f"{diff.article_id} · {diff.section} · {diff.lang} · {diff.url}",
        f"{title}{original}",
        f"versions: {listing}",
        f"{heading(diff)}    {LEGEND}",
        "",
    ]


def _no_diff(article_id: str, asked: int | None, numbers: list[int]) -> int:
    from crawler.exceptions import NewsmonError

    if asked is None:
        print(f"{article_id} has one version: no edit was found")
        return 0
    choices = ", ".join(str(n) for n in numbers[1:]) or "none (one version)"
    raise NewsmonError(
        f"--version {asked}: {article_id} has versions {', '.join(map(str, numbers))}; --version takes {choices}"
    )
