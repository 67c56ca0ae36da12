"""Section lifecycle throughput: the pure state machine, the sections stage over a real state DB, and
article re-checks over real HTTP.

    .venv/bin/python benchmarks/bench_lifecycle.py [--sections 200] [--runs 30]
        [--articles 70] [--hosts 7] [--server-delay 0.02] [--download-delay 0.1] [--workers 8] [--validators]

Prints steps/s of ``lifecycle.step`` and seconds per run of ``sections.update_sections`` (snapshot rows
written directly, as the crawl writes them), so a nightly cycle's lifecycle cost can be read off.

Re-checks: ``--articles`` stored articles spread over ``--hosts`` loopback servers (127.0.0.1 on different
ports: different hosts to the fetcher), each page answered after ``--server-delay`` s, re-checked by
``recheck.recheck_recent`` with the ``[crawler] download_delay`` between two requests to one host;
sequential (``recheck_workers = 1``, the behaviour before hosts ran side by side) against parallel
(``--workers``), side by side. Two due orders: "by host" (a host's articles due one after another, as a
crawl of a section stores them) and "interleaved" (round robin over the hosts: the sequential run's best
case, the other hosts' requests fill each host's delay). Pages are unchanged; without ``--validators`` they
answer 200 and are extracted and compared (CPU on the stage's thread), with it they answer 304.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crawler import state
from crawler.config import load_config
from crawler.extract.extraction import extract_article
from crawler.items import canonicalize_url, content_hash, item_id, utc_now
from crawler.lifecycle import machine as lifecycle
from crawler.lifecycle import recheck
from crawler.lifecycle import stage as sections
from crawler.localsite import Route, SiteServer
from crawler.store import dayfiles
from crawler.store import items as item_store

T0 = datetime(2026, 11, 1, tzinfo=UTC)


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
            snap = lifecycle.Snapshot(
                section=st.section, run_id=run, at=at, url=f"http://x.test/{n}/", **observation(n, run)
            )
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
            conn.execute(
                "INSERT INTO section_snapshots(run_id, section, checked_at, url, http_status, page_bytes, "
                "links_found, article_urls) VALUES (?,?,?,?,?,?,?,?)",
                (
                    run_id,
                    f"s/{n}",
                    at,
                    f"http://x.test/{n}/",
                    obs.get("http_status", 200),
                    obs["page_bytes"],
                    obs["links_found"],
                    json.dumps(urls),
                ),
            )
        started = time.perf_counter()
        sections.update_sections(conn, config, run_id, lifecycle.Settings())
        spent += time.perf_counter() - started
    conn.close()
    return spent / runs


# ---------------------------------------------------------------- article re-checks over loopback HTTP
PARAGRAPHS = [
    "The delegation arrived on Monday for two days of talks on energy supplies and trade routes.",
    "Officials said the agenda also covers the situation in the region and a summit planned for spring.",
    "It is the third such visit this year, after meetings held in the capital in March and in July.",
]


def article_page(n: int) -> bytes:
    body = "".join(f"<p>{p} (Story {n}.)</p>" for p in PARAGRAPHS)
    return (
        f"<html><head><meta charset='utf-8'><title>Story {n}</title></head><body><nav><a href='/'>Home</a>"
        f"</nav><article><h1>Story {n}</h1>{body}</article><footer>Bench News</footer></body></html>"
    ).encode()


def bench_recheck(args) -> dict[str, dict[int, float]]:
    """Seconds of one re-check run per due order and worker count."""
    servers = [SiteServer().start() for _ in range(args.hosts)]
    try:
        pages = serve_articles(servers, args.articles, args.server_delay)
        return {
            order: {workers: timed_recheck(servers, pages, order, workers, args) for workers in (1, args.workers)}
            for order in ("by host", "interleaved")
        }
    finally:
        for server in servers:
            server.stop()


def serve_articles(servers: list[SiteServer], articles: int, server_delay: float) -> list[tuple[str, Route]]:
    """(url, route) of every article, article ``n`` on host ``n % hosts``."""
    pages = []
    for n in range(articles):
        server = servers[n % len(servers)]
        route = Route(article_page(n), delay=server_delay)
        server.routes[f"/news/{n}.html"] = route
        pages.append((f"{server.url}/news/{n}.html", route))
    for server in servers:
        server.routes["/robots.txt"].delay = server_delay
    return pages


def timed_recheck(servers, pages, order: str, workers: int, args) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-recheck-") as tmp:
        out = Path(tmp)
        config = load_config(recheck_config(out, servers[0].url, workers, args), output_dir=out)
        due = sorted(pages, key=lambda page: page[0].split("/news/")[0]) if order == "by host" else pages
        conn = state.connect(out)
        try:
            store_due(conn, out, due, args.validators)
            run_id = conn.execute("INSERT INTO runs(started_at) VALUES (?)", (utc_now(),)).lastrowid
            table = sections.lifecycle_table(config)
            started = time.perf_counter()
            counts = recheck.recheck_recent(conn, config, run_id, out, table)
            seconds = time.perf_counter() - started
        finally:
            conn.close()
    expected = "not_modified" if args.validators else "unchanged"
    if counts != {expected: len(pages)}:  # a timing of failures would mean nothing
        raise SystemExit(f"re-check run ({order}, workers={workers}) gave {counts}")
    return seconds


def recheck_config(out: Path, base_url: str, workers: int, args) -> Path:
    path = out / "bench.toml"
    path.write_text(
        f"""replace_default_sources = true
[crawler]
download_delay = {args.download_delay}
[lifecycle]
recheck_max = {args.articles}
recheck_interval_hours = 0
recheck_workers = {workers}
[[sources]]
id = "bench"
name = "Bench"
homepage = "{base_url}/"
[[sources.sections]]
id = "news"
kind = "listing"
url = "{base_url}/news/"
link_css = "a"
""",
        encoding="utf-8",
    )
    return path


def store_due(conn, out: Path, due: list[tuple[str, Route]], validators: bool) -> None:
    """Articles stored a day ago, first_seen in ``due`` order, as the crawl would have stored them: ``articles``
    row and item (through the item store), then the day files exported from the DB."""
    first = datetime.now(UTC) - timedelta(days=1)
    with state.transaction(conn):
        for n, (url, route) in enumerate(due):
            got = extract_article(route.body.decode(), url, None)
            at = (first + timedelta(seconds=n)).replace(microsecond=0).isoformat()
            canonical, digest = canonicalize_url(url), content_hash(got.title, got.paragraphs)
            ident = item_id(canonical)
            item = {
                "id": ident,
                "url": url,
                "title": got.title,
                "paragraphs": got.paragraphs,
                "version": 1,
                "text": "\n\n".join(got.paragraphs),
                "lang": "en",
                "content_hash": digest,
            }
            conn.execute(
                "INSERT INTO articles(canonical_url, id, source, section, url, day, first_seen, "
                "last_fetched, title, content_hash, etag, last_modified) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    canonical,
                    ident,
                    "bench",
                    "bench/news",
                    url,
                    at[:10],
                    at,
                    at,
                    got.title,
                    digest,
                    route.etag if validators else None,
                    route.last_modified if validators else None,
                ),
            )
            item_store.insert(conn, item, at[:10])
    dayfiles.export_changed(conn, out)


def print_recheck(args, results: dict[str, dict[int, float]]) -> None:
    answer = "answering 304 (validators)" if args.validators else "answering 200, extracted and compared"
    print(
        f"article re-checks: {args.articles} articles on {args.hosts} loopback hosts, server "
        f"{args.server_delay * 1000:.0f} ms/page, download_delay {args.download_delay:g} s/host, "
        f"pages unchanged, {answer}"
    )
    print(f"  {'due order':<12} {'sequential (workers=1)':>24} {f'parallel (workers={args.workers})':>24} {'ratio':>7}")
    for order, by_workers in results.items():
        sequential, parallel = by_workers[1], by_workers[args.workers]
        print(f"  {order:<12} {sequential:>22.2f} s {parallel:>22.2f} s {sequential / parallel:>6.1f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sections", type=int, default=200)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--articles", type=int, default=70, help="articles to re-check (0: skip re-checks)")
    parser.add_argument("--hosts", type=int, default=7)
    parser.add_argument("--server-delay", type=float, default=0.02, help="seconds the server takes per page")
    parser.add_argument("--download-delay", type=float, default=0.1, help="seconds between requests to a host")
    parser.add_argument("--workers", type=int, default=8, help="recheck_workers of the parallel run")
    parser.add_argument("--validators", action="store_true", help="stored ETags: unchanged pages answer 304")
    args = parser.parse_args()
    print(f"lifecycle.step: {bench_step(args.sections, args.runs):,.0f} steps/s")
    print(
        f"sections stage: {bench_stage(args.sections, args.runs) * 1000:.0f} ms per run "
        f"for {args.sections} sections ({args.runs} runs)"
    )
    if args.articles:
        print_recheck(args, bench_recheck(args))


if __name__ == "__main__":
    main()
