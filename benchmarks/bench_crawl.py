"""Crawl + extract + langdetect throughput against trafilatura's bare ``extract()``, side by side.

    .venv/bin/python benchmarks/bench_crawl.py [--pages N] [--rounds R]

Serves N article pages (the recorded articles of tests/resources, cycled) on loopback and measures, in
one run on the same machine:

  baseline   trafilatura.extract(text, url) over the same N decoded pages, in one process;
  stage      crawler.extraction.extract_article + crawler.language.detect_language, in one process
             (newsmon's per-page work without the crawl, for the breakdown);
  crawl      `newsmon run` (the real CLI, in a subprocess) over a listing that links the N pages, with
             politeness switched off for loopback: pages/s over the crawl's own seconds (the section
             report), and over the whole command's wall time (start-up and post-crawl stages included).

Baseline and crawl alternate (--repeat times; the baseline once more at the end) and the medians are
compared, so that a change in machine load during the run (other work on a shared machine) shows up as
a spread between repeats rather than as a false ratio. Target: crawl ≥ 0.7 × baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import warnings
from statistics import median
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scrapy.http import HtmlResponse  # noqa: E402

from crawler.localsite import Route, SiteServer  # noqa: E402

RESOURCES = ROOT / "tests" / "resources"
TARGET = 0.7


def recorded_articles() -> list[dict]:
    """Every recorded article with its original URL and the Content-Type it is served with."""
    specs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((RESOURCES / "expected").glob("*/*.json"))]
    return [{"body": (RESOURCES / "recorded" / s["file"]).read_bytes(), "url": s["url"],
             "content_type": s["content_type"], "name": Path(s["file"]).stem} for s in specs]


def serve(server: SiteServer, articles: list[dict], n: int) -> list[dict]:
    """Routes /a/<i>/<name>.html for N pages and a listing that links them all; returns the N pages."""
    pages = []
    for i in range(n):
        art = articles[i % len(articles)]
        path = f"/a/{i}/{art['name']}.html"
        server.routes[path] = Route(body=art["body"], content_type=art["content_type"])
        pages.append({**art, "path": path, "local_url": server.url + path})
    links = "".join(f'<li><a href="{p["path"]}">{p["name"]}</a></li>' for p in pages)
    server.routes["/listing.html"] = Route(body=f"<html><body><ul>{links}</ul></body></html>".encode())
    return pages


def decoded(pages: list[dict]) -> list[tuple[str, str]]:
    return [(p["local_url"], HtmlResponse(p["local_url"], body=p["body"],
                                          headers={"Content-Type": p["content_type"]}).text) for p in pages]


def rate(func, docs: list[tuple[str, str]], rounds: int) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        for url, html in docs:
            func(html, url)
    return rounds * len(docs) / (time.perf_counter() - started)


def bare_trafilatura(html: str, url: str) -> None:
    import trafilatura

    trafilatura.extract(html, url=url)


def newsmon_stage(html: str, url: str) -> None:
    from crawler.exceptions import ExtractionError
    from crawler.extraction import extract_article
    from crawler.language import detect_language

    try:
        got = extract_article(html, url)
    except ExtractionError:
        return
    detect_language(got.paragraphs, got.title)


def config_text(server_url: str) -> str:
    return f"""
replace_default_sources = true

[crawler]
obey_robots = false
concurrent_per_domain = 16
download_delay = 0
autothrottle = false
retries = 0
timeout = 60

[[sources]]
id = "bench"
name = "Benchmark pages"

[[sources.sections]]
id = "articles"
name = "Recorded articles on loopback"
kind = "listing"
url = "{server_url}/listing.html"
link_css = "li a"
"""


def crawl(server: SiteServer, workdir: Path) -> dict:
    cfg = workdir / "bench.toml"
    cfg.write_text(config_text(server.url), encoding="utf-8")
    out = workdir / "output"
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "crawler", "run", "--config", str(cfg), "--output", str(out)],
                          cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, PYTHONWARNINGS="ignore"))
    wall = time.perf_counter() - started
    section = _section_report(out)
    if not section:
        sys.exit(f"newsmon run produced no report (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return {"wall": wall, "seconds": section["seconds"], "fetched": section["fetched"],
            "landed": section.get("landed", 0), "failed": section["failed"], "exit": proc.returncode,
            "stdout": proc.stdout}


def _section_report(out: Path) -> dict | None:
    db = out / "state.sqlite"
    if not db.exists():
        return None
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT summary FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    summary = json.loads(row[0]) if row and row[0] else {}
    return summary.get("sections", {}).get("bench/articles")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=300, help="article pages to crawl (default 300)")
    parser.add_argument("--repeat", type=int, default=2, help="alternations of baseline and crawl (default 2)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    server = SiteServer().start()
    baselines, stages, crawls = [], [], []
    try:
        pages = serve(server, recorded_articles(), args.pages)
        docs = decoded(pages)
        newsmon_stage(*docs[0][::-1])                   # load langdetect's profiles outside the timing
        bare_trafilatura(*docs[0][::-1])
        for _ in range(args.repeat):
            baselines.append(rate(bare_trafilatura, docs, 1))
            stages.append(rate(newsmon_stage, docs, 1))
            with tempfile.TemporaryDirectory(prefix="newsmon-bench-") as tmp:
                crawls.append(crawl(server, Path(tmp)))
        baselines.append(rate(bare_trafilatura, docs, 1))
    finally:
        server.stop()
    report(args.pages, baselines, stages, crawls)


def report(n: int, baselines: list[float], stages: list[float], crawls: list[dict]) -> None:
    baseline, stage = median(baselines), median(stages)
    crawl_rates = [c["fetched"] / c["seconds"] if c["seconds"] else 0.0 for c in crawls]
    wall_rates = [c["fetched"] / c["wall"] for c in crawls]
    crawl_rate, wall_rate = median(crawl_rates), median(wall_rates)
    print(f"pages: {n} recorded article pages on loopback, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}; medians of {len(crawls)} alternations")
    print(f"{'measurement':<46} {'pages/s':>8} {'× baseline':>11}   runs")
    print(f"{'trafilatura.extract() (baseline)':<46} {baseline:>8.1f} {1:>11.2f}   {_runs(baselines)}")
    print(f"{'newsmon extract + langdetect, in process':<46} {stage:>8.1f} {stage / baseline:>11.2f}"
          f"   {_runs(stages)}")
    print(f"{'newsmon run: crawl (section seconds)':<46} {crawl_rate:>8.1f} {crawl_rate / baseline:>11.2f}"
          f"   {_runs(crawl_rates)}")
    print(f"{'newsmon run: whole command (wall)':<46} {wall_rate:>8.1f} {wall_rate / baseline:>11.2f}"
          f"   {_runs(wall_rates)}  (start-up and post-crawl stages included)")
    for c in crawls:
        print(f"  run: {c['fetched']} fetched, {c['failed']} failed, crawl {c['seconds']:.1f} s, "
              f"command {c['wall']:.1f} s, exit {c['exit']}")
    verdict = "meets" if crawl_rate / baseline >= TARGET else "MISSES"
    print(f"crawl/baseline = {crawl_rate / baseline:.2f}: {verdict} the target of {TARGET}")


def _runs(values: list[float]) -> str:
    return " ".join(f"{v:.1f}" for v in values)


if __name__ == "__main__":
    main()
