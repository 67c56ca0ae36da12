"""Archive search and digest at scale, against a plain scan of the items table, side by side in one run.

    .venv/bin/python benchmarks/bench_search.py [--items 20000] [--day-items 300] [--new 1000]

Stores N items the way the crawl does (through the item store, day files exported; a third each Chinese, Russian and
English, text made of the recorded pages' paragraphs shuffled, with hand-made English for the Chinese and Russian
ones so that each item carries ~6–10 KB of original + English text), then measures in one process:

  index     ``search.update_index`` over all N (first indexing), items/s, and the DB size it adds;
  new       (``--new M``) M more items stored on a new day, then ``search.update_index`` on them (what a
            run's digest stage does): seconds, and seconds per 1,000 new items;
  (both indexings with the process's CPU seconds too: on a shared machine the wall time includes waiting for
  a core)
  queries   ``search.search`` (count + newest 20 hits with their context) for Chinese, Russian and
            English terms and a two-character Chinese term (the scan fallback), median of 5;
  baseline  the same questions answered by ``SELECT … FROM items WHERE nm_item(json) LIKE '%term%'`` (what one
            does without an index: each row's JSON read and scanned; case-sensitive, so it does less than the
            search), median of 5;
  digest    ``digest.build`` for one day of ``--day-items`` items: seconds, digest.txt and .html sizes.

Prints each query's time, its ratio to the baseline, and the hit counts (which must agree where the
baseline's case-sensitive match is comparable).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler import state  # noqa: E402
from crawler.digest import search
from crawler.digest import stage as digest
from crawler.store import dayfiles  # noqa: E402
from crawler.store import items as item_store  # noqa: E402
from tests import digestkit  # noqa: E402

QUERIES = [
    ("zh", "两国人民"),
    ("zh", "航天合作"),
    ("ru", "Малайзии"),
    ("en", "interests of our peoples"),
    ("en", "Taurida motorway"),
    ("zh-short", "罢工"),
]


def corpus() -> dict[str, list[dict]]:
    """Template items per language, from the recorded pages and the synthetic ministry items."""
    by_lang: dict[str, list[dict]] = {"zh": [], "ru": [], "en": []}
    for key in digestkit.PAGES:
        item = digestkit.recorded_item(key)
        by_lang[item["lang"]].append(item)
    for key in digestkit.SYNTHETIC:
        item = digestkit.synthetic_item(key)
        by_lang[item["lang"]].append(item)
    return by_lang


def make_items(n: int, templates: dict[str, list[dict]], rng: random.Random, first: int = 0) -> list[dict]:
    langs = ["zh", "ru", "en"]
    pool = {
        lang: [p for t in templates[lang] for p in zip(t["paragraphs"], t.get("paragraphs_en") or t["paragraphs"])]
        for lang in langs
    }
    items = []
    for i in range(first, first + n):
        lang = langs[i % 3]
        base = rng.choice(templates[lang])
        pairs = rng.sample(pool[lang], k=min(len(pool[lang]), rng.randint(6, 14)))
        item = digestkit.base_item(
            base["source"],
            base["section"],
            f"{base['url']}?n={i}",
            lang,
            f"{base['title']} {i}",
            [p for p, _ in pairs],
            base["published_at"],
        )
        if lang != "en":
            digestkit.translate(item, f"{base.get('title_en')} {i}", [e for _, e in pairs])
        items.append(item)
    return items


def store_rows(out: Path, items: list[dict], days: list[str]) -> None:
    """``items`` through the item store, spread over ``days``; then their day files, exported from the DB."""
    conn = state.connect(out)
    try:
        with state.transaction(conn):
            for i, item in enumerate(items):
                item_store.insert(conn, item, days[i % len(days)])
        dayfiles.export_changed(conn, out)
    finally:
        conn.close()


def median_seconds(fn, rounds: int = 5):
    times, result = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--day-items", type=int, default=300)
    parser.add_argument("--new", type=int, default=0, help="then time indexing this many new items")
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        templates = corpus()
        day_count = max(1, (args.items - args.day_items) // 300)
        days = [f"2025-{1 + d // 28:02d}-{1 + d % 28:02d}" for d in range(day_count)]
        store_rows(out, make_items(args.items - args.day_items, templates, rng), days)
        store_rows(out, make_items(args.day_items, templates, rng, first=args.items), [digestkit.DAY])
        size_before = sum(p.stat().st_size for p in out.glob("state.sqlite*"))
        conn = state.connect(out)
        start, start_cpu = time.perf_counter(), time.process_time()
        indexed = search.update_index(conn)
        index_s, index_cpu = time.perf_counter() - start, time.process_time() - start_cpu
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size_after = sum(p.stat().st_size for p in out.glob("state.sqlite*"))
        print(
            f"items: {args.items}; index: {indexed} items in {index_s:.1f} s = {indexed / index_s:.0f} items/s "
            f"(CPU {index_cpu:.1f} s = {indexed / index_cpu:.0f} items/s); "
            f"DB {size_before / 1e6:.0f} MB → {size_after / 1e6:.0f} MB "
            f"(search tables ×{size_after / size_before:.2f} of the items alone)"
        )
        if args.new:
            conn.close()
            store_rows(out, make_items(args.new, templates, rng, first=args.items + args.day_items), ["2026-12-01"])
            conn = state.connect(out)
            start, start_cpu = time.perf_counter(), time.process_time()
            indexed = search.update_index(conn)
            new_s, new_cpu = time.perf_counter() - start, time.process_time() - start_cpu
            print(
                f"new: {indexed} items indexed in {new_s:.2f} s = {new_s / indexed * 1000:.2f} s per 1,000 "
                f"new items (CPU {new_cpu:.2f} s)"
            )
        print(f"{'query':<32} {'search':>9} {'LIKE scan':>10} {'ratio':>7} {'hits':>7} {'LIKE hits':>9}")
        for lang, term in QUERIES:
            s_time, res = median_seconds(lambda term=term: search.search(conn, term, limit=20))
            b_time, rows = median_seconds(
                lambda term=term: conn.execute(
                    f"SELECT id FROM items WHERE {item_store.sql_json()} LIKE ?", (f"%{term}%",)
                ).fetchall()
            )
            print(
                f"{lang + ': ' + term:<32} {s_time * 1000:8.1f}ms {b_time * 1000:9.1f}ms "
                f"{b_time / s_time:6.1f}x {res.total:7d} {len(rows):9d}"
            )
        conn.close()
        d_time, summary = median_seconds(lambda: digest.build(out, digestkit.DAY), rounds=3)
        txt, html = (Path(p).stat().st_size for p in summary["paths"])
        print(
            f"digest of {summary['items']} items: {d_time:.2f} s; digest.txt {txt / 1e3:.0f} KB, "
            f"digest.html {html / 1e3:.0f} KB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
