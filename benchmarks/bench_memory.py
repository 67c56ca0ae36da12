"""Peak memory of a full ``newsmon run`` with both translation models installed, against the crawl alone and
the translation alone.

    .venv/bin/python benchmarks/bench_memory.py [--articles 100] [--translated 6] [--rounds 3] [--max-len 40]
                                                [--extraction-workers N|auto]

Two transformer-base sized Argos packages (zh→en, ru→en; 6+6 layers, d_model 512, FFN 2048, 32k vocabulary,
int8, random weights: ``benchmarks/bench_translate.py``'s builder, run in a child process) are installed into
the run's packages dir. A loopback site serves one listing of ``--articles`` distinct article pages, of which
``--translated`` are Chinese and Russian (half each; 20–60 sentences, bench_translate's generator), the rest
English (5–10 paragraphs). Translation at the defaults (beam 4, batch 32) except ``max_decoding_length``
(``--max-len``: random weights never emit the end token, so every output runs to the cap).

Each round (a fresh output directory each time, the three in turn so machine load hits all alike):

  crawl       ``newsmon run`` with ``[translation] enabled = false`` — the crawl and the other stages;
  translate   ``newsmon translate --pending`` on a copy of that output — the translation alone;
  full run    ``newsmon run`` with translation on — crawl, translation and the other stages in one command.

Each command runs as a user runs it (the real CLI in a subprocess). Its process tree (the command and every
process it starts: in the full run, the translation process) is polled every 20 ms. Printed per command,
min/median/max over the rounds:

  largest process   the largest VmHWM (``/proc/<pid>/status``: the process's own peak; unlike ``ru_maxrss``
                    of a child, not inherited from this script at fork) among the tree's processes — in the
                    full run, the larger of the run's own process and its translation process;
  command, child    the VmHWM of the command's process, and of the largest process it started;
  held at once      the most the tree held at one instant: the summed PSS (``smaps_rollup``: shared library
                    pages counted once, split between the processes mapping them) sampled every 100 ms;
  RSS bound         per sample, the summed VmHWM of the processes alive then (each one's peak so far, so
                    an upper bound no poll can miss, shared pages counted in each process).

Target: the full run's largest process ≤ 650 MB (the models never loaded on top of the crawl's memory), and
the full run against max(crawl, translate) and against crawl + translate. What the run's process still holds
while the translation process works (the crawl's modules and objects: Python gives little back) is in "held
at once", printed beside it, with no target.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_translate import make_items  # noqa: E402
from procstat import vm_hwm_kb  # noqa: E402

from crawler.localsite import Route, SiteServer, write_loopback_config  # noqa: E402
from crawler.translation import models  # noqa: E402

TARGET_MB = 650.0
WORDS = (
    "minister talks energy supplies agreement border trade railway delegation summit cooperation president "
    "visit memorandum investment sanctions region security council statement bilateral grain pipeline "
    "parliament election governor budget ministry spokesman briefing exercises treaty"
).split()


def build_packages(work: Path) -> Path:
    """The two transformer-base int8 packages, built in a child process (the weights' numpy arrays stay out
    of this process), installed into ``work/packages``."""
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_translate.py"), "--build-into", str(work)], check=True
    )
    packages = work / "packages"
    for archive in sorted(work.glob("*.argosmodel")):
        models.install_file(archive, packages)
        archive.unlink()
    return packages


def serve_site(server: SiteServer, count: int, translated: int) -> dict[str, int]:
    """``count`` article pages, ``translated`` of them zh/ru; a listing linking them. Returns pages per language."""
    rng = random.Random(5)
    foreign = make_items(translated, seed=3)  # alternately zh and ru, 20–60 sentences each
    links, langs = [], {}
    for n in range(count):
        if n < translated:
            item = foreign[n]
            lang, title, paras = item["lang"], item["title"], item["paragraphs"]
        else:
            lang = "en"
            title = f"Story {n}: " + " ".join(rng.choice(WORDS) for _ in range(6))
            paras = [
                " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 90))).capitalize() + "."
                for _ in range(rng.randint(5, 10))
            ]
        langs[lang] = langs.get(lang, 0) + 1
        body = "".join(f"<p>{p}</p>" for p in paras)
        html = (
            f"<html lang='{lang}'><head><meta charset='utf-8'><title>{title}</title></head><body>"
            f"<article><h1>{title}</h1>{body}</article></body></html>"
        )
        path = f"/news/{n}.html"
        server.routes[path] = Route(html.encode("utf-8"))
        links.append(f"<li><a href='{path}'>{n}</a></li>")
    server.routes["/news/"] = Route(f"<html><body><ul>{''.join(links)}</ul></body></html>".encode())
    return langs


def write_config(
    path: Path, server: SiteServer, packages: Path, max_len: int, translate: bool, workers: str | None = None
) -> Path:
    sections = [{"id": "news", "kind": "listing", "url": f"{server.url}/news/", "link_pattern": r"/news/\d+\.html$"}]
    return write_loopback_config(
        path,
        [{"id": "bench", "sections": sections}],
        crawler={} if workers is None else {"extraction_workers": int(workers) if workers.isdigit() else workers},
        translation={"enabled": translate, "packages_dir": str(packages), "max_decoding_length": max_len},
    )


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from every process's parent in ``/proc/<pid>/stat`` (this kernel has no
    ``/proc/<pid>/task/<tid>/children``)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])  # after "pid (comm) state"
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def measured(args: list[str]) -> dict:
    """Run ``newsmon <args>``; wall seconds and the memory figures of its process tree (MB)."""
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-m", "crawler", *args], cwd=ROOT, stdout=out, stderr=err)
        hwm: dict[int, int] = {}
        peak_pss = peak_bound = 0
        sample = 0
        while proc.poll() is None:
            tree = _tree(proc.pid)
            bound = 0
            for pid in tree:
                high = vm_hwm_kb(pid)
                if high:
                    hwm[pid] = max(hwm.get(pid, 0), high)
                    bound += high
            peak_bound = max(peak_bound, bound)
            if sample % 5 == 0:  # smaps_rollup walks the page tables: every 100 ms is enough
                peak_pss = max(peak_pss, sum(_pss_kb(pid) for pid in tree))
            sample += 1
            time.sleep(0.02)
        wall = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise SystemExit(f"newsmon {' '.join(args)} exited {proc.returncode}\n{stdout}\n{stderr}")
    own = hwm.pop(proc.pid, 0)
    child = max(hwm.values(), default=0)
    return {
        "largest process MB": max(own, child) / 1024,
        "command VmHWM MB": own / 1024,
        "child VmHWM MB": child / 1024,
        "held at once MB": peak_pss / 1024,
        "RSS bound MB": peak_bound / 1024,
        "wall s": wall,
        "processes": 1 + len(hwm),
    }


def translated_count(out: Path) -> int:
    import sqlite3

    conn = sqlite3.connect(out / "state.sqlite")
    try:
        return sum(1 for (status,) in conn.execute("SELECT translation_status FROM items") if status == "done")
    finally:
        conn.close()


def stats(values: list[float]) -> str:
    return f"{min(values):7.0f} {median(values):7.0f} {max(values):7.0f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100)
    parser.add_argument("--translated", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-len", type=int, default=40, help="max_decoding_length (random weights never stop)")
    parser.add_argument("--extraction-workers", help="[crawler] extraction_workers (default: the default's)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    server = SiteServer().start()
    results: dict[str, dict[str, list[float]]] = {"crawl": {}, "translate": {}, "full run": {}}
    try:
        started = time.monotonic()
        packages = build_packages(work)
        print(f"built and installed 2 transformer-base int8 packages in {time.monotonic() - started:.1f} s", flush=True)
        langs = serve_site(server, args.articles, args.translated)
        print(f"{args.articles} article pages on loopback: {langs}; max_decoding_length {args.max_len}", flush=True)
        workers = args.extraction_workers
        crawl_cfg = write_config(work / "crawl.toml", server, packages, args.max_len, False, workers)
        full_cfg = write_config(work / "full.toml", server, packages, args.max_len, True, workers)
        for round_no in range(args.rounds):
            outs = {name: work / f"{name.replace(' ', '-')}-{round_no}" for name in results}
            got = {"crawl": measured(["run", "--config", str(crawl_cfg), "--output", str(outs["crawl"])])}
            shutil.copytree(outs["crawl"], outs["translate"])
            got["translate"] = measured(
                ["translate", "--pending", "--config", str(full_cfg), "--output", str(outs["translate"])]
            )
            got["full run"] = measured(["run", "--config", str(full_cfg), "--output", str(outs["full run"])])
            done = {name: translated_count(outs[name]) for name in ("translate", "full run")}
            assert done == {"translate": args.translated, "full run": args.translated}, (done, got["full run"])
            for name, r in got.items():
                for key, value in r.items():
                    results[name].setdefault(key, []).append(value)
            print(
                f"round {round_no + 1}/{args.rounds}: "
                + ", ".join(
                    f"{name} {r['largest process MB']:.0f} MB largest process, {r['held at once MB']:.0f} MB held at "
                    f"once ({r['processes']} processes, {r['wall s']:.1f} s)"
                    for name, r in got.items()
                ),
                flush=True,
            )
            for out in outs.values():
                shutil.rmtree(out, ignore_errors=True)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    print(f"\nmin median max over {args.rounds} rounds")
    keys = ["largest process MB", "command VmHWM MB", "child VmHWM MB", "held at once MB", "RSS bound MB", "wall s"]
    print(f"{'':<20}" + "".join(f"{name:>26}" for name in results))
    for key in keys:
        print(f"{key:<20}" + "".join(f"{stats(results[name][key]):>26}" for name in results))
    med = {name: {key: median(values) for key, values in r.items()} for name, r in results.items()}
    crawl, translate = med["crawl"]["largest process MB"], med["translate"]["largest process MB"]
    full = med["full run"]
    print(
        f"\nfull run (medians): largest process {full['largest process MB']:.0f} MB = "
        f"{full['largest process MB'] / max(crawl, translate):.2f}× max(crawl, translate) = "
        f"{max(crawl, translate):.0f} MB; held at once {full['held at once MB']:.0f} MB = "
        f"{full['held at once MB'] / (crawl + translate):.2f}× crawl + translate = {crawl + translate:.0f} MB"
    )
    worst = max(results["full run"]["largest process MB"])
    ok = worst <= TARGET_MB
    print(
        f"target: full run's largest process ≤ {TARGET_MB:.0f} MB in every round: {worst:.0f} MB "
        f"{'ok' if ok else 'MISSED'}; held at once (no target): up to "
        f"{max(results['full run']['held at once MB']):.0f} MB"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
