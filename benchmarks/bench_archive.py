"""Does a night's run cost what is new, or what is stored? A run adding 100 items to archives of 1k, 10k and
50k items, and ``newsmon status`` on each.

    .venv/bin/python benchmarks/bench_archive.py [--sizes 1000,10000,50000] [--rounds 3] [--new 100]

For each size an archive is built once with the real ``newsmon import`` (generated items, 240 a day: a
third Russian or Chinese still pending translation — no model is installed here, the case where a run used
to read every untranslated item ever stored — the rest English), then caught up by one ``newsmon run`` with
nothing new (search index, watch, stories). Each round, for each size in turn (alternating, so a change in
machine load hits every size alike), a fresh copy of that archive gets a ``newsmon run`` (the real CLI in a
subprocess, start-up included) over a loopback listing of ``--new`` distinct new article pages, and
``newsmon status``. Printed: wall seconds, the run's own per-step seconds (restore, crawl, each stage,
export: ``runs.summary``), peak RSS of the run process, min/median/max over the rounds, and the ratio of each
size's median to the smallest size's. Targets: the 50k run within 1.2× of the 1k run; status ≤ 0.5 s at 50k.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from procstat import last_run_seconds, vm_hwm_kb  # noqa: E402  (this script's folder is on sys.path)

from crawler.items import canonicalize_url, content_hash, empty_translation, item_id  # noqa: E402
from crawler.localsite import Route, SiteServer, write_loopback_config  # noqa: E402

WORDS = {
    "en": (
        "minister talks energy supplies agreement border trade railway delegation summit cooperation "
        "president visit memorandum investment sanctions region security council statement bilateral"
    ).split(),
    "ru": (
        "министр переговоры поставки энергии соглашение граница торговля железная дорога делегация саммит "
        "сотрудничество президент визит меморандум инвестиции регион безопасность совет заявление"
    ).split(),
    "zh": list("两国人民友谊合作发展会谈双方同意加强经济贸易能源安全地区和平稳定主席总统外交部长访问会见表示"),
}
T0 = datetime(2025, 6, 1, 6, tzinfo=UTC)


def paragraphs(rng: random.Random, lang: str) -> list[str]:
    joiner = "" if lang == "zh" else " "
    stop = "。" if lang == "zh" else "."
    return [
        joiner.join(rng.choice(WORDS[lang]) for _ in range(rng.randint(40, 90))) + stop
        for _ in range(rng.randint(5, 10))
    ]


def archive_item(n: int, rng: random.Random) -> dict:
    lang = "ru" if n % 6 == 0 else "zh" if n % 6 == 3 else "en"
    at = T0 + timedelta(minutes=n * 6)  # 240 items a day
    url = f"https://src{n % 12}.example/news/{n}.html"
    canonical = canonicalize_url(url)
    paras = paragraphs(rng, lang)
    item = {
        "id": item_id(canonical),
        "source": f"src{n % 12}",
        "section": "news",
        "section_key": f"src{n % 12}/news",
        "url": url,
        "canonical_url": canonical,
        "fetched_at": at.isoformat(),
        "published_at": at.date().isoformat(),
        "title": f"Story {n}",
        "text": "\n\n".join(paras),
        "paragraphs": paras,
        "lang": lang,
        "lang_confidence": 0.99,
        "paragraph_langs": None,
        "authors": [],
        "content_hash": content_hash(f"Story {n}", paras),
        "raw_path": f"raw/src{n % 12}/{n}.html.gz",
        "raw_encoding": "utf-8",
        "version": 1,
        "extras": {},
    }
    item.update(empty_translation(lang))
    if lang == "en":
        item["translation"]["status"] = "not_needed"
    return item


def newsmon(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crawler", *args], cwd=ROOT, capture_output=True, text=True)


def run_measured(args: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall seconds and peak RSS (MB) of the command's own process.

    The peak is the process's VmHWM, polled while it runs: ``ru_maxrss`` of a child counts the memory of the
    parent it was forked from (this script, holding the generated archive), VmHWM only the command's own."""
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-m", "crawler", *args], cwd=ROOT, stdout=out, stderr=err)
        peak_kb = 0
        while proc.poll() is None:
            peak_kb = max(peak_kb, vm_hwm_kb(proc.pid))
            time.sleep(0.02)
        wall = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        return wall, peak_kb / 1024, subprocess.CompletedProcess(args, proc.returncode, out.read(), err.read())


def build_archive(out: Path, size: int, config: Path) -> None:
    rng = random.Random(size)
    src = out.parent / f"import-{size}"
    src.mkdir(parents=True, exist_ok=True)
    by_day: dict[str, list[str]] = {}
    for n in range(size):
        item = archive_item(n, rng)
        by_day.setdefault(item["fetched_at"][:10], []).append(json.dumps(item, ensure_ascii=False))
    files = []
    for day, lines in by_day.items():
        (src / day).mkdir(exist_ok=True)
        path = src / day / "items.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        files.append(str(path))
    started = time.monotonic()
    done = newsmon("import", "--config", str(config), "--output", str(out), *files)
    assert done.returncode == 0, done.stderr
    print(f"  {size:>6} items imported in {time.monotonic() - started:.1f} s ({len(files)} days)", flush=True)
    shutil.rmtree(src)
    started = time.monotonic()
    done = newsmon("run", "--config", str(config), "--output", str(out))  # the catch-up run: nothing new
    print(
        f"  {size:>6} catch-up run (index, watch, stories of the imported items): "
        f"{time.monotonic() - started:.1f} s, exit {done.returncode}",
        flush=True,
    )


def serve_new(server: SiteServer, count: int) -> None:
    """``count`` distinct new article pages (Russian and English) and a listing linking them."""
    rng = random.Random(7)
    links = []
    for n in range(count):
        lang = "ru" if n % 2 else "en"
        paras = paragraphs(rng, lang)
        if n % 10 == 0:  # a tenth of the new items mention the watched name
            paras[0] = ("Лавров " if lang == "ru" else "Lavrov ") + paras[0]
        body = "".join(f"<p>{p}</p>" for p in paras)
        html = (
            f"<html lang='{lang}'><head><meta charset='utf-8'><title>New story {n}</title></head><body>"
            f"<article><h1>New story {n}</h1>{body}</article></body></html>"
        )
        path = f"/new/{n}.html"
        server.routes[path] = Route(html.encode("utf-8"))
        links.append(f"<li><a href='{path}'>New story {n}</a></li>")
    server.routes["/new/"] = Route(f"<html><body><ul>{''.join(links)}</ul></body></html>".encode())


def write_config(path: Path, server: SiteServer | None) -> Path:
    sections = [
        {
            "id": "new",
            "kind": "listing",
            "url": f"{server.url}/new/" if server else "http://127.0.0.1:9/",
            "link_pattern": r"/new/\d+\.html$",
        }
    ]
    return write_loopback_config(
        path,
        [{"id": "bench", "sections": sections}],
        extra='[[watch]]\nname = "lavrov"\nphrases = ["Lavrov", "Лавров*", "拉夫罗夫"]\n',
    )


def stats(values: list[float]) -> str:
    return f"{min(values):6.2f} {median(values):6.2f} {max(values):6.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--new", type=int, default=100)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="bench-archive-"))
    server = SiteServer().start()
    serve_new(server, args.new)
    config = write_config(work / "bench.toml", server)
    empty = write_config(work / "empty.toml", None)
    results: dict[int, dict[str, list[float]]] = {s: {} for s in sizes}
    try:
        print("building archives:", flush=True)
        for size in sizes:
            build_archive(work / f"archive-{size}", size, empty)
        for round_no in range(args.rounds):
            for size in sizes:
                out = work / f"run-{size}"
                shutil.rmtree(out, ignore_errors=True)
                shutil.copytree(work / f"archive-{size}", out)
                wall, rss, done = run_measured(["run", "--config", str(config), "--output", str(out)])
                assert re.search(rf"\b{args.new} new items?\b", done.stdout), done.stdout + done.stderr
                status_wall, _rss, _ = run_measured(["status", "--output", str(out)])
                r = results[size]
                for key, value in {
                    "run wall": wall,
                    "run peak RSS MB": rss,
                    "status wall": status_wall,
                    **{f"  {k}": v for k, v in last_run_seconds(out).items()},
                }.items():
                    r.setdefault(key, []).append(value)
            print(f"round {round_no + 1}/{args.rounds} done", flush=True)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"\nrun adding {args.new} items, then status (min median max over {args.rounds} rounds; "
        f"ratio = median / median at {sizes[0]:,} items)"
    )
    keys = list(results[sizes[0]])
    for key in keys:
        base = median(results[sizes[0]][key]) or 1e-9
        cells = "   ".join(
            f"{size:>6,}: {stats(results[size][key])} ({median(results[size][key]) / base:4.2f}×)"
            for size in sizes
            if key in results[size]
        )
        print(f"{key:<28} {cells}")
    big = sizes[-1]
    print(
        f"\ntarget: run at {big:,} ≤ 1.2× run at {sizes[0]:,}: "
        f"{median(results[big]['run wall']) / median(results[sizes[0]]['run wall']):.2f}×; "
        f"status at {big:,} ≤ 0.5 s: {median(results[big]['status wall']):.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
