"""A rerun on an unchanged site: does it cost nothing, or the first run again?

    .venv/bin/python benchmarks/bench_rerun.py [--articles 100] [--pairs 3] [--delay 0.2]

A loopback site (``crawler.localsite``) serves one listing linking ``--articles`` distinct article pages
(English, 5–10 paragraphs each). The articles answer without validators (no ETag, no Last-Modified), as
many news sites do, so any re-check of one is a full download and an extraction; the listing answers
conditional GETs. Politeness is the default's scaled down: ``download_delay`` ``--delay`` seconds (default
1.5 s in production), AutoThrottle on, two retries; re-checks at their defaults (``recheck_max`` 100,
``recheck_interval_hours`` 6, ``recheck_days`` 3).

Each pair: a fresh output directory, the real ``newsmon run`` (the CLI in a subprocess, start-up included),
then the same ``newsmon run`` again at once. Pairs follow one another, each first run next to its own rerun,
so a change in machine load hits both sides of a ratio. Printed per side: wall seconds min/median/max, the
requests the site saw (from the server's log: article pages, and all), the rerun's own steps (``runs.summary``:
crawl, each stage) so that what is left of its wall time is seen to be start-up, and the ratio first run /
rerun (per pair, and of the medians). Target: rerun ≥ 50× faster than the first run, with 0 article requests.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from procstat import last_run_seconds  # noqa: E402  (this script's folder is on sys.path)

from crawler.localsite import Route, SiteServer, write_loopback_config  # noqa: E402

WORDS = (
    "minister talks energy supplies agreement border trade railway delegation summit cooperation president "
    "visit memorandum investment sanctions region security council statement bilateral grain pipeline "
    "parliament election governor budget ministry spokesman briefing exercises treaty"
).split()
ARTICLE = "/news/{n}.html"
TARGET = 50.0


def serve_site(server: SiteServer, count: int) -> None:
    """``count`` distinct article pages without validators, and a listing (with validators) linking them."""
    rng = random.Random(11)
    links = []
    for n in range(count):
        paras = [
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 90))).capitalize() + "."
            for _ in range(rng.randint(5, 10))
        ]
        body = "".join(f"<p>{p}</p>" for p in paras)
        html = (
            f"<html lang='en'><head><meta charset='utf-8'><title>Story {n}</title></head><body>"
            f"<article><h1>Story {n}: {' '.join(rng.choice(WORDS) for _ in range(6))}</h1>{body}</article>"
            f"</body></html>"
        )
        server.routes[ARTICLE.format(n=n)] = Route(html.encode("utf-8"), conditional=False)
        links.append(f"<li><a href='{ARTICLE.format(n=n)}'>Story {n}</a></li>")
    server.routes["/news/"] = Route(f"<html><body><ul>{''.join(links)}</ul></body></html>".encode())


def write_config(path: Path, server: SiteServer, delay: float) -> Path:
    sections = [{"id": "news", "kind": "listing", "url": f"{server.url}/news/", "link_pattern": r"/news/\d+\.html$"}]
    return write_loopback_config(
        path,
        [{"id": "bench", "sections": sections}],
        crawler={"download_delay": delay, "retries": 2, "autothrottle": True},
    )


def newsmon_run(config: Path, out: Path) -> tuple[float, subprocess.CompletedProcess]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "crawler", "run", "--config", str(config), "--output", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return time.monotonic() - started, done


def requests_seen(server: SiteServer) -> tuple[int, int]:
    """(article page requests, all requests) in the server's log since it was last cleared."""
    with server._lock:
        log = list(server.log)
    return sum(1 for _m, path, _s in log if path.startswith("/news/") and path != "/news/"), len(log)


def stats(values: list[float]) -> str:
    return f"{min(values):7.2f} {median(values):7.2f} {max(values):7.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--delay", type=float, default=0.2, help="[crawler] download_delay, seconds")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-rerun-"))
    server = SiteServer().start()
    serve_site(server, args.articles)
    config = write_config(work / "bench.toml", server, args.delay)
    first: list[float] = []
    rerun: list[float] = []
    seen: dict[str, list[tuple[int, int]]] = {"first": [], "rerun": []}
    steps: dict[str, list[float]] = {}  # the rerun's own seconds per step
    try:
        for pair in range(args.pairs):
            out = work / f"output-{pair}"
            for label, times in (("first", first), ("rerun", rerun)):
                server.clear_log()
                wall, done = newsmon_run(config, out)
                if done.returncode != 0:
                    print(done.stdout + done.stderr, file=sys.stderr)
                    raise SystemExit(f"newsmon run ({label}) exited {done.returncode}")
                times.append(wall)
                seen[label].append(requests_seen(server))
                if label == "first":
                    assert re.search(rf"\b{args.articles} new items?\b", done.stdout), done.stdout + done.stderr
                else:
                    for step, seconds in last_run_seconds(out).items():
                        steps.setdefault(step, []).append(seconds)
            print(
                f"pair {pair + 1}/{args.pairs}: first run {first[-1]:.2f} s "
                f"({seen['first'][-1][0]} article requests), rerun {rerun[-1]:.2f} s "
                f"({seen['rerun'][-1][0]} article requests): {first[-1] / rerun[-1]:.1f}×",
                flush=True,
            )
            shutil.rmtree(out, ignore_errors=True)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"\n{args.articles} articles without validators, one host, download_delay {args.delay} s; "
        f"{args.pairs} pairs (min median max)"
    )
    print(f"{'':<10} {'wall s':>23}   {'article requests':>16}   {'all requests':>12}")
    for label, times in (("first run", first), ("rerun", rerun)):
        got = seen["first" if label == "first run" else "rerun"]
        print(f"{label:<10} {stats(times)}   {max(a for a, _ in got):>16}   {max(n for _, n in got):>12}")
    inside = sum(median(v) for v in steps.values())
    # "crawler.lifecycle.stage" → "lifecycle"
    named = ", ".join(
        f"{k.split('.')[1] if k.startswith('crawler.') else k} {median(v):.2f} s" for k, v in steps.items()
    )
    print(
        f"rerun, the run's own steps (medians): {named}; the rest of its {median(rerun):.2f} s "
        f"({median(rerun) - inside:.2f} s) is Python start-up, imports and reading the config"
    )
    ratios = [f / r for f, r in zip(first, rerun)]
    ratio = median(first) / median(rerun)
    article_requests = max(a for a, _ in seen["rerun"])
    print(
        f"first run / rerun: {ratio:.1f}× (medians; per pair {', '.join(f'{r:.1f}×' for r in ratios)})   "
        f"target ≥ {TARGET:.0f}× with 0 article requests: "
        f"{'ok' if ratio >= TARGET and article_requests == 0 else 'MISSED'}"
    )
    return 0 if ratio >= TARGET and article_requests == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
