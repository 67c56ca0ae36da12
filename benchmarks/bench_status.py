"""`newsmon status` wall time on a large archive.

    .venv/bin/python benchmarks/bench_status.py [--items 50000] [--sections 20] [--days 100] [--repeat 5]
        [--keep DIR]

Builds an output directory as the crawl leaves it: ``--items`` stored articles (``articles`` and
``article_pages`` rows as ``crawler.crawl.store`` writes them, the item through ``crawler.store.items.insert``;
one transaction each 1,000 items), their
``items.jsonl`` lines spread over ``--days`` day folders and one raw page file each under ``raw/``; four runs
a day with a snapshot of every section, the lifecycle's state rows and a few events; a tenth of the items
pending translation, a hundredth failed. Then times the real CLI (``python -m crawler status --output DIR``,
a subprocess as a user runs it; Python start-up included) ``--repeat`` times and prints the median.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler import state  # noqa: E402
from crawler.items import canonicalize_url, content_hash, item_id  # noqa: E402
from crawler.store import dayfiles  # noqa: E402
from crawler.store import items as item_store

T0 = datetime(2026, 1, 1, 6, tzinfo=UTC)
PARAGRAPH = (
    "The minister said on Tuesday that talks on energy supplies would continue next month, "
    "and that both sides had agreed on a timetable for the remaining questions. "
)


def build(out: Path, items: int, sections: int, days: int) -> None:
    conn = state.connect(out)
    per_day = max(1, items // days)
    conn.execute("BEGIN")
    for n in range(items):
        day = (T0 + timedelta(days=n // per_day)).date().isoformat()
        source, section = f"src{n % sections}", "news"
        url = f"https://{source}.example/{day}/{n}.html"
        canonical = canonicalize_url(url)
        ident = item_id(canonical)
        paragraphs = [PARAGRAPH * 3] * 6
        status = "failed" if n % 100 == 0 else "pending" if n % 10 == 0 else "done"
        item = {
            "id": ident,
            "source": source,
            "section": section,
            "section_key": f"{source}/{section}",
            "url": url,
            "canonical_url": canonical,
            "fetched_at": f"{day}T06:00:00+00:00",
            "published_at": f"{day}T05:00:00+00:00",
            "title": f"Story {n}",
            "text": "\n\n".join(paragraphs),
            "paragraphs": paragraphs,
            "lang": "ru",
            "lang_confidence": 0.99,
            "paragraph_langs": None,
            "authors": [],
            "content_hash": content_hash(f"Story {n}", paragraphs),
            "raw_path": f"raw/{source}/{ident}.html.gz",
            "version": 1,
            "run_id": 1,
            "title_en": None,
            "paragraphs_en": None,
            "text_en": None,
            "translation": {"engine": None, "model": None, "status": status, "error": None, "translated_at": None},
        }
        conn.execute(
            "INSERT INTO articles(canonical_url, id, source, section, url, day, run_id, first_seen, "
            "last_fetched, published_at, title, content_hash, etag, last_modified, raw_path) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                canonical,
                ident,
                source,
                item["section_key"],
                url,
                day,
                1,
                item["fetched_at"],
                item["fetched_at"],
                item["published_at"],
                item["title"],
                item["content_hash"],
                None,
                None,
                item["raw_path"],
            ),
        )
        item_store.insert(conn, item, day)
        conn.execute("INSERT OR IGNORE INTO article_pages(canonical_url, article_id) VALUES (?,?)", (canonical, ident))
        raw = out / item["raw_path"]
        raw.parent.mkdir(parents=True, exist_ok=True)
        raw.write_bytes(gzip.compress(f"<html><body><p>{item['text']}</p></body></html>".encode()))
        if n % 1000 == 999:
            conn.execute("COMMIT")
            conn.execute("BEGIN")
    conn.execute("COMMIT")
    dayfiles.export_changed(conn, out)  # the day files, as every run leaves them
    _runs(conn, sections, days)
    conn.close()


def _runs(conn, sections: int, days: int) -> None:
    conn.execute("BEGIN")
    for n in range(days * 4):
        at = (T0 + timedelta(hours=6 * n)).isoformat()
        run_id = conn.execute(
            "INSERT INTO runs(started_at, finished_at, status, summary) VALUES (?,?,?,?)",
            (at, at, "ok", json.dumps({"sections": {}})),
        ).lastrowid
        for s in range(sections):
            conn.execute(
                "INSERT INTO section_snapshots(run_id, section, checked_at, url, http_status, links_found, "
                "article_urls) VALUES (?,?,?,?,?,?,?)",
                (run_id, f"src{s}/news", at, f"https://src{s}.example/", 200, 20, "[]"),
            )
    for s in range(sections):
        conn.execute(
            "INSERT INTO section_states(section, state, since, cause, last_run_id, last_checked) VALUES (?,?,?,?,?,?)",
            (f"src{s}/news", "active", T0.isoformat(), "20 article links found", days * 4, T0.isoformat()),
        )
        conn.execute(
            "INSERT INTO events(id, type, at, run_id, section, source, cause) VALUES (?,?,?,?,?,?,?)",
            (f"ev{s}", "section_appeared", T0.isoformat(), 1, f"src{s}/news", f"src{s}", "first seen"),
        )
    conn.execute("COMMIT")


def time_status(out: Path, repeat: int) -> tuple[float, int]:
    times, code = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "crawler", "status", "--output", str(out)], cwd=ROOT, capture_output=True, text=True
        )
        times.append(time.perf_counter() - started)
        code = proc.returncode
        if "Traceback" in proc.stderr:
            raise SystemExit(proc.stderr)
    return statistics.median(times), code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--sections", type=int, default=20)
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the archive in this directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-status-") as tmp:
        out = args.keep or Path(tmp) / "output"
        if not state.db_path(out).exists():
            started = time.perf_counter()
            build(out, args.items, args.sections, args.days)
            print(f"built {out}: {args.items:,} items in {time.perf_counter() - started:.0f} s")
        baseline, _ = time_status(Path(tmp) / "none", args.repeat)  # start-up and an absent DB only
        median, code = time_status(out, args.repeat)
        print(f"newsmon status: {median:.2f} s (median of {args.repeat}, exit {code}); start-up alone {baseline:.2f} s")


if __name__ == "__main__":
    main()
