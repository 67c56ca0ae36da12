"""newsmon demo — a full cycle against the bundled Kremlin pages, served on loopback under their real URLs (no
network): English and Russian items, their translation state, a watch's hits, stories, a section's subject."""

from __future__ import annotations

import argparse
import os

HELP = "run a full cycle against bundled Kremlin pages (English and Russian) served on loopback (works offline)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "Examples:\n  newsmon demo\n  newsmon demo --output /tmp/newsmon-demo"
    parser.add_argument(
        "--output", metavar="DIR", default="output/demo", help="output directory (default: output/demo)"
    )


def run(args: argparse.Namespace) -> int:
    from crawler.commands.run import exit_status, print_models_hint, print_summary
    from crawler.demo_site import demo_config, serve
    from crawler.localsite import SiteServer
    from crawler.runner import run_cycle

    # Any free port: the crawl asks for the pages' real URLs through the server (their proxy), so the items'
    # ids never depend on it. NEWSMON_DEMO_PORT picks one.
    server = serve(SiteServer(port=int(os.environ.get("NEWSMON_DEMO_PORT", 0)))).start()
    try:
        print(f"serving the bundled kremlin.ru pages (crawler/demo/, CC BY 4.0) through a proxy at {server.url}")
        config = demo_config(server, args.output)
        result = run_cycle(config)
    finally:
        server.stop()
    print_summary(result)
    landed = items_of_run(result.output_dir, result.run_id)
    if landed:
        print(f"\nnew items in {result.output_dir / result.day / 'items.jsonl'}:")
        for item in landed:
            print(f"  {item['id']}  {item.get('lang') or '?':<2} {translation_state(item):<10} {item.get('title')}")
    elif result.status == "ok":
        print(
            "\nnothing new: every bundled article is already in this output directory "
            "(use another --output for a fresh run)"
        )
    print_showcase(result.output_dir)
    print_models_hint(config)
    return exit_status(result)


def translation_state(item: dict) -> str:
    """``pending`` (no model yet), ``done``, ``failed``, or ``-`` for an English item."""
    status = (item.get("translation") or {}).get("status")
    return "-" if status in (None, "not_needed") else status


def print_showcase(output_dir) -> None:
    """What the stages made of the demo's items: the watch's hits, the stories, the sections' subject."""
    items = all_items(output_dir)
    hits = [(item, hit) for item in items for hit in item.get("watch") or []]
    print(f"\nwatch: {len(hits)} hit(s)")
    for item, hit in hits:
        found = ", ".join(hit.get("found") or hit.get("phrases") or [])
        print(f"  {hit.get('name')}: {item.get('lang')} {item['id']} {item.get('title')}  [{found}]")
        for line in context_lines(hit)[:2]:
            print(f"      {line}")
    stories = {item["story"]["id"]: item["story"] for item in items if (item.get("story") or {}).get("size", 0) > 1}
    print(
        f"stories: {len(stories)} with more than one item"
        + (
            ""
            if stories
            else " (the English and Russian versions of an event are compared through English: "
            "they join one story once the ru→en model is installed)"
        )
    )
    for story in stories.values():
        print(f"  {story['id']}: {story.get('size')} items, languages {', '.join(story.get('langs') or [])}")
    print_subjects(output_dir)


def context_lines(hit: dict) -> list[str]:
    """The sentences around a hit's matches (the watch stage's keyword in context), the match in [brackets]."""
    lines = []
    for context in hit.get("contexts") or []:
        original = context.get("original") or {}
        text, marks = original.get("text") or "", original.get("marks") or []
        for start, end in sorted(marks, reverse=True):
            text = f"{text[:start]}[{text[start:end]}]{text[end:]}"
        if text:
            lines.append(f"{context.get('in')}: {text}")
    return lines


def print_subjects(output_dir) -> None:
    """Each section with a subject: how many of its new items were on it, and its subject state."""
    from crawler import state

    conn = state.connect(output_dir)
    try:
        rows = conn.execute(
            "SELECT section, items, on_subject, state FROM section_subject WHERE run_id = "
            "(SELECT MAX(run_id) FROM section_subject) ORDER BY section"
        ).fetchall()
    finally:
        conn.close()
    for row in rows:
        print(
            f"subject of {row['section']}: {row['on_subject']} of {row['items']} new item(s) on it "
            f"(state {row['state']})"
        )


def all_items(output_dir) -> list[dict]:
    from crawler import state
    from crawler.store import items as item_store

    conn = state.connect(output_dir)
    try:
        rows = conn.execute("SELECT json FROM items ORDER BY seq").fetchall()
        return [item for item in (item_store.loads(r["json"]) for r in rows) if item is not None]
    finally:
        conn.close()


def items_of_run(output_dir, run_id: int) -> list[dict]:
    from crawler import state
    from crawler.store import items as item_store

    conn = state.connect(output_dir)
    try:
        rows = conn.execute(
            "SELECT i.json FROM articles a JOIN items i ON i.id = a.id WHERE a.run_id = ? ORDER BY a.rowid", (run_id,)
        ).fetchall()
        return [item for item in (item_store.loads(r["json"]) for r in rows) if item is not None]
    finally:
        conn.close()
