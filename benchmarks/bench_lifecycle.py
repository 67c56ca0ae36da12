"""Section lifecycle throughput: the pure state machine, and the sections stage over a real state DB.

    .venv/bin/python benchmarks/bench_lifecycle.py [--sections 200] [--runs 30]

Prints steps/s of ``lifecycle.step`` and seconds per run of ``sections.update_sections`` (snapshot rows
written directly, as the crawl writes them), so a nightly cycle's lifecycle cost can be read off.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from crawler.lifecycle import machine as lifecycle, stage as sections
from crawler import state
from crawler.config import load_config

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def observation(n: int, run: int) -> dict:
    """A mix: most sections healthy, some 404 for a while, some flaky, some broken."""
    if n % 10 == 1 and 5 <= run < 9:
        return dict(http_status=404, links_found=0, page_bytes=300)
    if n % 10 == 2 and run % 7 == 3:
        return dict(http_status=500, links_found=0, page_bytes=100)
    if n % 10 == 3 and run >= 20:
        return dict(links_found=0, page_bytes=40_000)
    return dict(links_found=20, page_bytes=40_000)


def bench_step(sections_n: int, runs: int) -> float:
    states = [lifecycle.SectionState(f"s/{n}") for n in range(sections_n)]
    started = time.perf_counter()
    for run in range(1, runs + 1):
        at = (T0 + timedelta(hours=24 * run)).isoformat()
        for n, st in enumerate(states):
            snap = lifecycle.Snapshot(section=st.section, run_id=run, at=at, url=f"http://x.test/{n}/",
                                      **observation(n, run))
            states[n], _ = lifecycle.step(st, snap)
    return sections_n * runs / (time.perf_counter() - started)


def bench_stage(sections_n: int, runs: int) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-lifecycle-") as tmp:
        return _stage(Path(tmp), sections_n, runs)


def _stage(out: Path, sections_n: int, runs: int) -> float:
    config = load_config(output_dir=out)
    conn = state.connect(out)
    spent = 0.0
    for run in range(1, runs + 1):
        run_id = conn.execute("INSERT INTO runs(started_at) VALUES (?)", (T0.isoformat(),)).lastrowid
        at = (T0 + timedelta(hours=24 * run)).isoformat()
        for n in range(sections_n):
            obs = observation(n, run)
            urls = [f"http://x.test/{n}/{run}-{i}.html" for i in range(obs["links_found"])]
            conn.execute("INSERT INTO section_snapshots(run_id, section, checked_at, url, http_status, page_bytes, "
                         "links_found, article_urls) VALUES (?,?,?,?,?,?,?,?)",
                         (run_id, f"s/{n}", at, f"http://x.test/{n}/", obs.get("http_status", 200),
                          obs["page_bytes"], obs["links_found"], json.dumps(urls)))
        started = time.perf_counter()
        sections.update_sections(conn, config, run_id, lifecycle.Settings())
        spent += time.perf_counter() - started
    conn.close()
    return spent / runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sections", type=int, default=200)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    print(f"lifecycle.step: {bench_step(args.sections, args.runs):,.0f} steps/s")
    print(f"sections stage: {bench_stage(args.sections, args.runs) * 1000:.0f} ms per run "
          f"for {args.sections} sections ({args.runs} runs)")


if __name__ == "__main__":
    main()
