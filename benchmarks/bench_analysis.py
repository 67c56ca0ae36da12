"""Analysis at scale: the flags stage, `newsmon trend` and `newsmon brief` over a generated archive.

    .venv/bin/python benchmarks/bench_analysis.py [--items 20000]

Stores N items through the item store (a third each Chinese, Russian and English, the item-store tests'
sentences, one a day over 300 days; every tenth with a dateline, its lag 0–4 days), then measures in one
process, in CPU seconds (the machine is shared: wall time includes waiting for a core) and wall seconds:

  flags     ``update_flags`` on a DB that never ran it (its catch-up: the items of a section with a subject
            and those with a dateline), and the items flagged and events recorded;
  trend     ``trend.count`` for three phrases most items hold (Путин*, 普京, Vladimir Putin), and for one
            no item holds (each row is tested for the phrase's longest word before its JSON is read);
  brief     ``brief.load_window`` + ``brief.render`` for one week.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler import state  # noqa: E402
from crawler.analysis import brief, trend  # noqa: E402
from crawler.analysis.settings import AnalysisSettings  # noqa: E402
from crawler.analysis.stage import update_flags  # noqa: E402
from crawler.store import items as item_store  # noqa: E402
from tests.storekit import make_item  # noqa: E402

START = date(2026, 1, 1)


def store(output: Path, count: int) -> None:
    with closing(state.connect(output)) as conn, state.transaction(conn):
        for n in range(count):
            day = (START + timedelta(days=n % 300)).isoformat()
            item = make_item(n, ("zh", "ru", "en")[n % 3], day)
            item["published_at"] = day
            if n % 10 == 0:
                item["extras"] = {"dateline": {"place": "Moscow", "date": day, "raw": "MOSCOW", "lag_days": n % 7 % 5}}
            item_store.insert(conn, item, day)


def timed(label: str, work):
    cpu, wall = time.process_time(), time.time()
    result = work()
    print(f"{label}: {time.process_time() - cpu:.2f} CPU s, {time.time() - wall:.2f} s — {result}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-analysis-") as tmp:
        measure(Path(tmp) / "output", args.items)


def measure(output: Path, count: int) -> None:
    store(output, count)
    print(f"{count} items stored")
    with closing(state.connect(output)) as conn:
        subjects = {"test-zh/news": ("俄罗斯", "普京")}
        timed("flags (catch-up)", lambda: update_flags(conn, subjects, AnalysisSettings(), run_id=1))
        timed(
            "trend, 3 common phrases",
            lambda: f"{len(trend.count(conn, ['Путин*', '普京', 'Vladimir Putin']).uses)} matching items",
        )
        timed("trend, a phrase found nowhere", lambda: f"{len(trend.count(conn, ['Xinjiang']).uses)} matching items")

        def week() -> str:
            window = brief.load_window(conn, "2026-03-01", "2026-03-07")
            text = brief.render(window, [brief.WatchSpec("Putin", ("Путин*", "普京"))], {}, "now")
            return f"{len(window.items)} items, {len(text)} characters"

        timed("brief, one week", week)


if __name__ == "__main__":
    main()
