"""Distributed cycles: crawl throughput with 1, 2 and 4 workers, translation throughput with 1 and 2 workers.

    .venv/bin/python benchmarks/bench_workers.py [--rounds 3] [--articles 4] [--delay 0.25] [--chunk 8]
                                                 [--threads 1] [--only crawl|translation]

A PostgreSQL server of its own (tests/pgserver.py: initdb into a temp dir, unix socket), a fresh database per
measurement. Worker counts alternate within each round (1, 2, 4, 1, 2, 4, …) so a busy moment of the shared
machine does not fall on one count only; figures are min / median / max over the rounds, and ratios of the
medians against 1 worker.

crawl        12 loopback hosts (one section each: a listing of ``--articles`` recorded Xinhua/MID pages) with a
             per-host ``download_delay``; N ``newsmon worker --queue crawl --concurrency 1`` started and
             registered first, then ``newsmon run --distributed`` timed from its start to the run's end
             (crawl jobs, the cycle job's stages and export). Articles per second of wall time.
translation  the same 12 × ``--articles`` pages as pending items (crawled beforehand with no model installed), then N
             ``newsmon worker --queue translation`` and the items queued as ``translate_batch`` jobs of
             ``items_per_chunk`` items; timed until no translation job is left. The models are the tiny
             random-weight ones of tests/tinymodel.py at a small size (2 layers, d_model 256): the figures
             show the mechanism (batches spread over workers) on this machine's cores, not a real model's
             speed; with real models the model's compute dominates even more. Each worker's CTranslate2
             runs ``--threads`` threads (default 1): with ``threads = 0`` (every core) one worker already
             takes all of a 2-core machine and a second one only competes with it.

Figures (docs/scaling.md): crawl ×1.89 with 2 workers and ×3.13 with 4 at 8 articles per host and a 1.0 s delay
(wait-bound); ×1.25 and ×1.63 at 4 articles and 0.25 s (each job's Scrapy start, ~2 CPU s, dominates on 2
cores); translation with 2 CPU workers ×0.81 on 2 shared cores.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.localsite import Route, SiteServer, page  # noqa: E402
from tests.pgserver import PgServer  # noqa: E402

REC, SYN = ROOT / "tests/resources/recorded", ROOT / "tests/resources/synthetic"
PAGES = [
    REC / "xinhua/world-2019-12-10-c_1125327450.html",
    REC / "xinhua/local-2020-02-19-c_1125597921.html",
    SYN / "mid-article.html",
    SYN / "tass-ru-article.html",
    SYN / "xinhua-politics-c_1130000424.SYNTHETIC.html",
    SYN / "kremlin-ru-eef-plenary.SYNTHETIC.html",
]
HOSTS = 12


def serve(server: SiteServer, articles: int) -> int:
    paths = [f"/a/{i}.html" for i in range(articles)]
    for i, path in enumerate(paths):
        server.routes[path] = page(PAGES[i % len(PAGES)])
    links = "".join(f'<li><a href="{p}">headline {i}</a></li>' for i, p in enumerate(paths))
    server.routes["/index.html"] = Route(f"<html><body><ul>{links}</ul></body></html>".encode())
    return len(paths)


def write_config(path: Path, servers: list[SiteServer], delay: float, packages: Path, chunk: int, threads: int) -> None:
    parts = [
        f"replace_default_sources = true\n[crawler]\ndownload_delay = {delay}\nautothrottle = false\n"
        f"retries = 0\ntimeout = 10\n[lifecycle]\nrecheck_max = 0\n"
        f'[translation]\npackages_dir = "{packages}"\nitems_per_chunk = {chunk}\nthreads = {threads}\n'
    ]
    for k, server in enumerate(servers):
        parts.append(
            f'[[sources]]\nid = "site{k}"\n[[sources.sections]]\nid = "news"\nkind = "listing"\n'
            f"url = \"{server.url}/index.html\"\nlink_pattern = '/a/\\d+\\.html$'\n"
        )
    path.write_text("\n".join(parts), encoding="utf-8")


def newsmon(*args: str) -> list[str]:
    return [sys.executable, "-m", "crawler", *args]


class Workers:
    def __init__(self, n: int, queue: str, cfg: Path, out: Path, env: dict, url: str) -> None:
        self.procs = [
            subprocess.Popen(
                newsmon("worker", "--config", str(cfg), "--output", str(out), "--queue", queue, "--concurrency", "1"),
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(n)
        ]
        wait_until(lambda: registered(url) >= n, 60)

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def query(url: str, sql: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        try:
            return int(conn.execute(sql).fetchone()[0])
        except psycopg.errors.UndefinedTable:
            return 0


def registered(url: str) -> int:
    return query(url, "SELECT count(*) FROM procrastinate_workers")


def wait_until(test, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not test():
        if time.monotonic() > deadline:
            raise SystemExit("bench_workers: timed out waiting for the workers")
        time.sleep(0.1)


def crawl_once(pg: PgServer, n: int, cfg: Path, tmp: Path, articles: int) -> float:
    url = pg.database()
    env = dict(os.environ, NEWSMON_DATABASE_URL=url, PYTHONUNBUFFERED="1")
    env.pop("NEWSMON_CONFIG", None)
    out = Path(tempfile.mkdtemp(dir=tmp))
    workers = Workers(n, "crawl", cfg, out, env, url)
    try:
        started = time.monotonic()
        proc = subprocess.run(
            newsmon("run", "--distributed", "--config", str(cfg), "--output", str(out)),
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.monotonic() - started
    finally:
        workers.stop()
        pg.drop(url)
    if proc.returncode != 0:
        raise SystemExit(f"bench_workers: the cycle failed:\n{proc.stdout}\n{proc.stderr}")
    return articles * HOSTS / seconds


def pending_archive(pg: PgServer, cfg: Path, tmp: Path) -> str:
    """A database whose items are all pending (crawled with no model installed): the template of each
    translation measurement."""
    url = pg.database()
    env = dict(os.environ, NEWSMON_DATABASE_URL=url, PYTHONUNBUFFERED="1")
    env.pop("NEWSMON_CONFIG", None)
    out = Path(tempfile.mkdtemp(dir=tmp))
    proc = subprocess.run(
        newsmon("run", "--config", str(cfg), "--output", str(out)), cwd=ROOT, env=env, capture_output=True, text=True
    )
    if "Traceback" in proc.stderr:
        raise SystemExit(f"bench_workers: the crawl failed:\n{proc.stderr}")
    return url


def translate_once(pg: PgServer, n: int, template: str, cfg: Path, tmp: Path) -> tuple[float, int]:
    """One measurement on a copy of the pending archive, with an output directory of its own (an empty
    translation memory: every sentence goes to the model)."""
    import psycopg

    name = f"tr{os.getpid()}_{int(time.monotonic() * 1000)}"
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template.split("/")[3].split("?")[0]}"')
    url = pg.url(name)
    env = dict(os.environ, NEWSMON_DATABASE_URL=url, PYTHONUNBUFFERED="1")
    env.pop("NEWSMON_CONFIG", None)
    os.environ["NEWSMON_DATABASE_URL"] = url
    out = Path(tempfile.mkdtemp(dir=tmp))
    from crawler.config import load_config
    from crawler.jobs.cycle import translation_batches

    batches = translation_batches(load_config(cfg, output_dir=out))
    items = sum(len(b) for b in batches)
    workers = Workers(n, "translation", cfg, out, env, url)
    try:
        code = (
            "import sys, json; from crawler.jobs.app import make_app; app = make_app(sys.argv[1]); app.open(); "
            "task = app.configure_task('newsmon:translate_batch'); "
            "[task.defer(item_ids=b) for b in json.loads(sys.argv[2])]"
        )
        started = time.monotonic()
        subprocess.run([sys.executable, "-c", code, url, json.dumps(batches)], cwd=ROOT, env=env, check=True)
        wait_until(
            lambda: (
                query(
                    url,
                    "SELECT count(*) FROM procrastinate_jobs WHERE queue_name = 'translation' "
                    "AND status IN ('todo', 'doing')",
                )
                == 0
            ),
            600,
        )
        seconds = time.monotonic() - started
    finally:
        workers.stop()
        pg.drop(url)
    return items / seconds, items


def spread(values: list[float]) -> str:
    return f"{min(values):7.2f} / {statistics.median(values):7.2f} / {max(values):7.2f}"


def report(title: str, unit: str, figures: dict[int, list[float]]) -> None:
    base = statistics.median(figures[1])
    print(f"\n{title} ({unit}, min / median / max; ratio of medians against 1 worker)")
    for n, values in figures.items():
        print(f"  {n} worker{'s' if n > 1 else ' '}  {spread(values)}   × {statistics.median(values) / base:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--articles", type=int, default=4, help="articles per host (default 4)")
    parser.add_argument("--delay", type=float, default=0.25, help="per-host download_delay (default 0.25 s)")
    parser.add_argument("--chunk", type=int, default=8, help="items per translation batch (default 8)")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="[translation] threads of each worker (default 1: two workers, two cores)",
    )
    parser.add_argument("--only", choices=("crawl", "translation"), default=None)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    pg = PgServer().start()
    servers = [SiteServer().start() for _ in range(HOSTS)]
    try:
        for server in servers:
            serve(server, args.articles)
        no_models, packages = tmp / "no-models", tmp / "packages"
        no_models.mkdir()
        cfg, cfg_bare = tmp / "newsmon.toml", tmp / "bare.toml"
        write_config(cfg, servers, args.delay, packages, args.chunk, args.threads)
        write_config(cfg_bare, servers, args.delay, no_models, args.chunk, args.threads)
        print(f"{HOSTS} hosts × {args.articles} articles, download_delay {args.delay} s, {args.rounds} rounds")
        if args.only != "translation":
            crawl: dict[int, list[float]] = {1: [], 2: [], 4: []}
            for _round in range(args.rounds):
                for n in crawl:
                    crawl[n].append(crawl_once(pg, n, cfg_bare, tmp, args.articles))
            report("crawl", "articles/s", crawl)
        if args.only != "crawl":
            from crawler.translation import models
            from tests.tinymodel import build_package

            for seed, lang in enumerate(("zh", "ru")):
                models.install_file(
                    build_package(tmp, lang=lang, seed=seed, layers=2, d_model=256, ffn=1024, heads=4), packages
                )
            template = pending_archive(pg, cfg_bare, tmp)
            translation: dict[int, list[float]] = {1: [], 2: []}
            items = 0
            for _round in range(args.rounds):
                for n in translation:
                    rate, items = translate_once(pg, n, template, cfg, tmp)
                    translation[n].append(rate)
            report(
                f"translation ({items} items, batches of {args.chunk}, tiny random-weight models)",
                "items/s",
                translation,
            )
    finally:
        for server in servers:
            server.stop()
        pg.stop()


if __name__ == "__main__":
    main()
