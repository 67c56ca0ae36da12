"""Distributed cycles end to end: PostgreSQL, six loopback hosts with twelve sections, two `newsmon worker`
processes and `newsmon run --distributed`; then one worker killed (SIGKILL) in the middle of a cycle.

The hosts serve recorded Xinhua pages and synthetic MID/TASS pages (tests/resources: recorded/ and
synthetic/, origins and licences in their README and pages.json) under per-host paths, with listings
generated here (SYNTHETIC). The translation models are the tiny random ones of tests/tinymodel.py (state,
not meaning).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_newsmon
from tests.crawlsite import REC, SYN
from tests.sitesrv import Route, SiteServer, page

pytest.importorskip("procrastinate", reason="procrastinate is not installed (pip install 'newsmon[postgresql]')")
pytestmark = pytest.mark.e2e

HOSTS = 6
DELAY = 0.5
SLACK = 0.015  # the loopback server's own timing (as in tests/test_gaps.py)
ARTICLES = {  # path under the host → the page served there
    "/zh/a1.htm": REC / "xinhua/world-2019-12-10-c_1125327450.html",
    "/zh/a2.htm": REC / "xinhua/local-2020-02-19-c_1125597921.html",
    "/ru/a1/": SYN / "mid-article.html",
    "/ru/a2/": SYN / "tass-ru-article.html",
}
LATER = {  # added before the second cycle
    "/zh/a3.htm": SYN / "xinhua-politics-c_1130000424.SYNTHETIC.html",
    "/ru/a3/": SYN / "kremlin-ru-eef-plenary.SYNTHETIC.html",
}


def listing(paths: list[str]) -> Route:
    links = "".join(f'<li><a href="{p}">headline {i}</a></li>' for i, p in enumerate(paths))
    body = (
        f"<!-- SYNTHETIC listing --><html><head><meta charset='utf-8'><title>list</title></head>"
        f"<body><ul>{links}</ul></body></html>"
    )
    return Route(body.encode())


def serve(server: SiteServer, articles: dict[str, Path]) -> None:
    for path, file in articles.items():
        server.routes[path] = page(file)
    for lang in ("zh", "ru"):
        server.routes[f"/{lang}/index.html"] = listing(sorted(p for p in articles if p.startswith(f"/{lang}/")))


def config(servers: list[SiteServer], tmp: Path, packages: Path) -> Path:
    parts = [
        f"replace_default_sources = true\n[crawler]\ndownload_delay = {DELAY}\nautothrottle = false\n"
        f"retries = 0\ntimeout = 5\n[lifecycle]\nrecheck_max = 0\n"
        f'[translation]\npackages_dir = "{packages}"\n'
    ]
    for k, server in enumerate(servers):
        parts.append(
            f'[[sources]]\nid = "site{k}"\n'
            f'[[sources.sections]]\nid = "zh"\nkind = "listing"\nurl = "{server.url}/zh/index.html"\n'
            f"link_pattern = '/zh/a\\d\\.htm$'\n"
            f'[[sources.sections]]\nid = "ru"\nkind = "listing"\nurl = "{server.url}/ru/index.html"\n'
            f"link_pattern = '/ru/a\\d/$'\n"
        )
    path = tmp / "newsmon.toml"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


class Worker:
    def __init__(self, name: str, cfg: Path, out: Path, env: dict, logs: Path, queue: str = "all") -> None:
        self.name, self.log = name, logs / f"worker-{name}.log"
        with self.log.open("wb") as sink:  # the worker keeps its own copy of the file
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "crawler",
                    "-v",
                    "worker",
                    "--config",
                    str(cfg),
                    "--output",
                    str(out),
                    "--concurrency",
                    "1",
                    "--name",
                    name,
                    "--queue",
                    queue,
                ],
                cwd=ROOT,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def too_close(servers: list[SiteServer]) -> list[str]:
    """Every two consecutive requests to one host less than the delay apart."""
    found = []
    for server in servers:
        for (a, pa), (b, pb) in zip(server.arrived, server.arrived[1:]):
            if b - a < DELAY - SLACK:
                found.append(f"{server.url}: {b - a:.3f} s {pa} -> {pb}")
    return found


def stored(url: str) -> dict[str, int]:
    """Article URL → rows in the items table."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT json::json->>'url', count(*) FROM items GROUP BY 1").fetchall()
    return {u: n for u, n in rows}


def day_lines(out: Path) -> list[dict]:
    return [
        json.loads(line)
        for f in sorted(out.glob("*/items.jsonl"))
        for line in f.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def crawl_process_host(worker: Worker) -> str | None:
    """The hosts (``crawl:<host:port>``) of the crawl process the worker runs now, if any: the process is a
    child of the worker (Linux's /proc), its request the JSON on its command line."""
    pid = worker.proc.pid
    try:
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            return json.loads(argv[-2])["lock"]
    except (OSError, ValueError, IndexError, KeyError):
        return None
    return None


@pytest.fixture
def models_dir(tmp_path) -> Path:
    from crawler.translation import models
    from tests.tinymodel import build_package

    packages = tmp_path / "packages"
    for seed, lang in enumerate(("zh", "ru")):
        models.install_file(build_package(tmp_path, lang=lang, seed=seed), packages)
    return packages


def test_two_workers_crawl_a_cycle_and_one_takes_over_a_killed_workers_jobs(tmp_path, pg_url, models_dir):
    servers = [SiteServer().start() for _ in range(HOSTS)]
    for server in servers:
        serve(server, ARTICLES)
    out = tmp_path / "out"
    cfg = config(servers, tmp_path, models_dir)
    env = {k: v for k, v in os.environ.items() if k != "NEWSMON_CONFIG"}
    env.update(NEWSMON_DATABASE_URL=pg_url, PYTHONUNBUFFERED="1")
    workers = [Worker(name, cfg, out, env, tmp_path) for name in ("a", "b")]
    try:
        first = run_newsmon(
            "run",
            "--distributed",
            "--config",
            str(cfg),
            "--output",
            str(out),
            env={"NEWSMON_DATABASE_URL": pg_url},
            timeout=60,
        )
        report = first.stdout + first.stderr + "".join(w.output() for w in workers)
        assert first.returncode == 0, report
        expected = {f"{s.url}{p}" for s in servers for p in ARTICLES}
        assert stored(pg_url) == dict.fromkeys(expected, 1), report
        lines = day_lines(out)
        assert sorted(item["url"] for item in lines) == sorted(expected)
        assert {item["translation"]["status"] for item in lines if item["lang"] != "en"} == {"done"}, report
        assert first.stdout.count("  ok") == 2 * HOSTS, first.stdout  # twelve sections, every one ok
        assert not too_close(servers), too_close(servers)
        assert max(s.max_in_flight for s in servers) == 1
        for query, path in (("巴黎", "/zh/a1.htm"), ("консульских", "/ru/a1/")):  # in one article of each host
            found = run_newsmon(
                "search",
                query,
                "--json",
                "--limit",
                "50",
                "--output",
                str(out),
                env={"NEWSMON_DATABASE_URL": pg_url},
                timeout=60,
            )
            assert found.returncode == 0, found.stderr
            hits = [json.loads(line)["url"] for line in found.stdout.splitlines()]
            assert sorted(hits) == sorted(f"{s.url}{path}" for s in servers), found.stdout

        # Second cycle: a new article in every section; worker a is killed while it crawls a host group.
        for server in servers:
            serve(server, {**ARTICLES, **LATER})
            server.clear_log()
        cycle = subprocess.Popen(
            [sys.executable, "-m", "crawler", "run", "--distributed", "--config", str(cfg), "--output", str(out)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        by_lock = {f"crawl:{s.url.split('//')[1]}": s for s in servers}
        deadline, victim = time.monotonic() + 30, None
        while time.monotonic() < deadline:  # worker a's crawl process has begun requesting
            lock = crawl_process_host(workers[0])
            if lock in by_lock and by_lock[lock].arrived:
                victim = by_lock[lock]
                break
            time.sleep(0.02)
        assert victim is not None, workers[0].output()
        workers[0].proc.send_signal(signal.SIGKILL)
        try:
            stdout, stderr = cycle.communicate(timeout=90)
        finally:
            cycle.kill()
            cycle.communicate()
        report = stdout + stderr + workers[1].output()
        assert cycle.returncode == 0, report
        expected |= {f"{s.url}{p}" for s in servers for p in LATER}
        assert stored(pg_url) == dict.fromkeys(expected, 1), report
        assert sorted(item["url"] for item in day_lines(out)) == sorted(expected)
        assert "goes back to the queue" in workers[1].output()
        assert victim.requests_for("/robots.txt") == 2  # the killed crawl's first request, then b's from the start
        assert not too_close(servers), too_close(servers)
    finally:
        for worker in workers:
            worker.stop()
        for server in servers:
            server.stop()


def test_a_translation_worker_takes_the_translation_batches_and_a_crawl_worker_the_rest(tmp_path, pg_url, models_dir):
    server = SiteServer().start()
    serve(server, ARTICLES)
    out = tmp_path / "out"
    cfg = config([server], tmp_path, models_dir)
    env = {k: v for k, v in os.environ.items() if k != "NEWSMON_CONFIG"}
    env.update(NEWSMON_DATABASE_URL=pg_url, PYTHONUNBUFFERED="1")
    crawl = Worker("crawl", cfg, out, env, tmp_path, queue="crawl")
    translation = Worker("gpu", cfg, out, env, tmp_path, queue="translation")
    try:
        proc = run_newsmon(
            "run",
            "--distributed",
            "--config",
            str(cfg),
            "--output",
            str(out),
            env={"NEWSMON_DATABASE_URL": pg_url},
            timeout=60,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr + crawl.output() + translation.output()
    finally:
        crawl.stop()
        translation.stop()
        server.stop()
    lines = day_lines(out)
    assert sorted(item["url"] for item in lines) == sorted(f"{server.url}{p}" for p in ARTICLES)
    assert {item["translation"]["status"] for item in lines} == {"done"}  # zh and ru, no English page
    assert "translated a batch of 4 item(s)" in translation.output()
    assert "newsmon:crawl_group" not in translation.output()
    assert "translated a batch" not in crawl.output() and "newsmon:crawl_group" in crawl.output()
