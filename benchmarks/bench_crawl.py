"""`newsmon run`, the whole command, against bare ``trafilatura.extract()`` over the same pages, side by side.

    .venv/bin/python benchmarks/bench_crawl.py [--pages N] [--mix generic|default] [--pairs P]
                                               [--pool-workers W] [--keep DIR]

What is measured, on the same machine in one invocation:

  baseline   ``trafilatura.extract(html, url=url)`` over the N pages, decoded as the crawl decodes them
             (Scrapy's ``response.text``), one after another in this process (trafilatura already imported
             and warmed up: the baseline pays no start-up);
  run        ``newsmon run`` — the real command, in a subprocess, with the user's defaults — over a loopback
             listing that links the N pages: wall time from exec to exit, so start-up, the crawl (fetching,
             extraction, language detection, raw pages, the state DB, the day file) and every post-crawl
             stage (translation, watch phrases, stories, lifecycle, alerts, digest, search index, export)
             are all in it;
  pool       with --pool-workers W: the same command with ``[crawler] extraction_workers = W``.

The headline is run pages/s ÷ baseline pages/s. Baseline and run alternate (baseline, run, baseline, run, …,
--pairs times), each run is divided by the baseline just before it, and the ratios are printed as
min/median/max: on a shared machine a change of load shows as spread instead of a false ratio. The run's
per-step seconds (``runs.summary["seconds"]``: restore, crawl, each stage, export) are printed too, so
the post-crawl costs are visible beside the crawl's.

Only what loopback needs differs from the defaults: no politeness delay, no retries, AutoThrottle off and
16 requests at a time (there is no site to spare, and the delay, not the CPU, would otherwise pace the
crawl); ``[translation] packages_dir`` is an empty directory (items land "pending", as on a machine without
models: translation has its own benchmark, bench_translate.py); the section may link all N pages.

The command runs as ``make venv`` leaves the checkout, the project's modules compiled; the report says so
when some are not (a run then compiles them in every process, as it would for a user who skipped it).

The pages: N DISTINCT article pages built from the recorded real pages (``tests/resources/recorded``:
Kremlin, People's Daily, Xinhua, Kommersant). Each keeps a recorded page's whole markup — head, scripts,
menus, sidebars, footer: what makes extraction cost what it costs — and gets new text: its article
paragraphs (and title, headline, description) are refilled with sentences drawn, per page, at random from
every recorded text of the page's language (the article pages, and the recorded Russian and Chinese
feeds' entries), each paragraph about as long as the one it replaces. No two pages have the same text,
and two pages share few sentences (stories, the search index and langdetect see distinct documents).

  --mix generic (default): pages no site parser claims — the sources without a parser (TASS, RFE/RL, the
      two foreign ministries) are read by the generic trafilatura path, the case closest to bare
      trafilatura. The templates' parser signatures (a class or id only that site's article pages carry,
      ``crawler.extract.parsers``) are renamed, so the Kremlin, People's Daily and Xinhua markup goes through
      the generic path; the Kommersant page and the regional Xinhua page have none to begin with. Languages
      as in the default sources without a parser: en : ru : zh = 3 : 2 : 1 (TASS English twice and RFE/RL;
      TASS Russian and the Russian MFA; the Chinese MFA).
  --mix default: the pages the site parsers read (Kremlin, People's Daily, Xinhua), en : ru : zh = 1 : 1 : 1
      as in the default sources with a parser (Kremlin English, Kremlin Russian — the same template — and
      People's Daily and Xinhua). Multi-page pagers are removed (every page is an article of its own).

Targets at 1,000 pages: run ≥ 0.9 × baseline on the generic mix, ≥ 1.0 × on the default mix.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import lxml.html  # noqa: E402
from scrapy.http import HtmlResponse  # noqa: E402

from crawler.localsite import Route, SiteServer, write_loopback_config  # noqa: E402
from tests.recorded import recorded  # noqa: E402

RESOURCES = ROOT / "tests" / "resources"
TARGETS = {"generic": 0.9, "default": 1.0}
SECTION_KEY = "bench/articles"

# The class or id tokens that make a template a site parser's (their signatures in crawler/extract/parsers/);
# renamed for the generic mix. Checked on every built page: a page a parser still claims stops the benchmark.
SIGNATURE_TOKENS = ("read__internal_content", "rm_txt_con", "rwb_zw", "p-detail")
# en : ru : zh of the default sources read by the generic path, and of those read by a site parser.
LANGUAGE_CYCLE = {"generic": ("en", "ru", "en", "zh", "en", "ru"), "default": ("en", "ru", "zh")}
# Recorded texts that are not article pages but add to a language's sentences: feeds' entries.
FEEDS = {
    "ru": ("encodings/windows-1251-russian/newsru.com.xml", "encodings/windows-1251-russian/aif.ru.health.xml"),
    "zh": (
        "encodings/GB2312/acnnewswire.net.xml",
        "encodings/GB2312/cnblog.org.xml",
        "encodings/GB2312/softsea.net.xml",
    ),
}
SENTENCE_END = {"zh": re.compile(r"(?<=[。！？])"), "latin": re.compile(r"(?<=[.!?…])\s+(?=[\"«“(A-ZА-ЯЁ0-9])")}


# ── the pages ──────────────────────────────────────────────────────────────────────────────────────────


@dataclass
class Template:
    name: str
    lang: str
    claimed: bool  # a site parser reads it as recorded
    html: str  # decoded
    encoding: str  # the codec its bytes are served in
    content_type: str
    title: str | None
    paragraphs: list[str]


@dataclass
class Page:
    name: str
    lang: str
    body: bytes
    content_type: str
    path: str = ""
    local_url: str = ""


def load_templates() -> list[Template]:
    from crawler.extract.extraction import extract_article, parse_html
    from crawler.extract.parsers import parser_for

    out = []
    for spec_path in sorted((RESOURCES / "expected").glob("*/*.json")):
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
        body = recorded(spec["file"]).read_bytes()
        response = HtmlResponse(spec["url"], body=body, headers={"Content-Type": spec["content_type"]})
        got = extract_article(response.text, spec["url"])
        claimed = parser_for("http://127.0.0.1/", None, parse_html(response.text, spec["url"])) is not None
        out.append(
            Template(
                Path(spec["file"]).stem,
                spec["lang"],
                claimed,
                response.text,
                response.encoding,
                spec["content_type"],
                got.title,
                got.paragraphs,
            )
        )
    return out


def sentence_pools(templates: list[Template]) -> dict[str, list[str]]:
    """Every recorded sentence of each language, once."""
    import feedparser

    texts: dict[str, list[str]] = {}
    for t in templates:
        texts.setdefault(t.lang, []).extend(t.paragraphs)
    for lang, names in FEEDS.items():
        for name in names:
            for entry in feedparser.parse((RESOURCES / "recorded" / name).read_bytes()).entries:
                summary = lxml.html.fromstring(f"<div>{entry.get('summary') or ''}</div>").text_content()
                texts[lang].append(summary)
    pools = {}
    for lang, paragraphs in texts.items():
        splitter = SENTENCE_END["zh" if lang == "zh" else "latin"]
        seen: dict[str, None] = {}
        for paragraph in paragraphs:
            for sentence in splitter.split(" ".join(paragraph.split())):
                if len(sentence.strip()) >= (8 if lang == "zh" else 25):
                    seen[sentence.strip()] = None
        pools[lang] = list(seen)
    return pools


def build_pages(n: int, mix: str, seed: int = 0) -> list[Page]:
    """N distinct article pages of the mix (see the module docstring), the same for the same arguments."""
    templates = load_templates()
    pools = sentence_pools(templates)
    by_lang = templates_by_language(templates, mix)
    rng = random.Random(seed)
    cycle = LANGUAGE_CYCLE[mix]
    pages, turn = [], {lang: 0 for lang in cycle}
    for i in range(n):
        lang = cycle[i % len(cycle)]
        choices = by_lang[lang]
        template = choices[turn[lang] % len(choices)]
        turn[lang] += 1
        body = refill(template, lang, pools[lang], rng, generic=mix == "generic")
        pages.append(Page(f"{i}-{template.name}", lang, body, template.content_type))
    return pages


def templates_by_language(templates: list[Template], mix: str) -> dict[str, list[Template]]:
    """The templates each language's pages are built on: its own recorded pages, and — for Russian, whose
    only recorded article is Kommersant's — the Kremlin pages too (kremlin.ru has en.kremlin.ru's template).
    The default mix takes only the pages a parser claims; the generic mix takes every page, renamed."""
    out: dict[str, list[Template]] = {}
    for t in templates:
        if mix == "default" and not t.claimed:
            continue
        out.setdefault(t.lang, []).append(t)
    kremlin = [t for t in templates if t.name.startswith("news-")]
    russian = out.get("ru", [])
    # Kommersant's page alternates with the Kremlin ones in the generic mix: a heavy page of a Russian site.
    out["ru"] = [t for pair in zip(russian * len(kremlin), kremlin) for t in pair] if russian else kremlin
    return out


def refill(template: Template, lang: str, pool: list[str], rng: random.Random, generic: bool) -> bytes:
    """The template's markup with new text: each article paragraph refilled with sentences of ``pool`` to
    about its length, a new title, headline and description."""
    tree = lxml.html.document_fromstring(re.sub(r"^\s*<\?xml[^>]*\?>", "", template.html))
    # An article paragraph's element: the innermost whose text starts as the paragraph does (the Kremlin's
    # hidden tooltips add text inside paragraphs that extraction leaves out).
    heads = {p[:40] for p in template.paragraphs}
    slots = [
        el
        for el in tree.iter("p", "div", "td", "li")
        if _text(el)[:40] in heads and not any(_text(d)[:40] in heads for d in el.iterdescendants("p", "div"))
    ]
    draw = _drawer(pool, rng)
    joiner = "" if lang == "zh" else " "
    first = None
    for el in slots:
        target = len(_text(el))
        text = draw()
        while len(text) < 0.8 * target:
            text += joiner + draw()
        first = first or text
        label = el[0] if len(el) and el[0].tag == "b" and not (el.text or "").strip() else None
        keep_label = label is not None and lang == template.lang and (label.text or "").rstrip().endswith(":")
        for child in list(el):
            if not (keep_label and child is label):
                el.remove(child)
        if keep_label:  # a transcript's speaker turn stays one
            label.tail = " " + text
            el.text = None
        else:
            el.text = text
    title = _title(draw(), lang)
    headlines = [
        el
        for el in tree.iter("h1", "h2", "div", "span")
        if template.title
        and _text(el) == template.title
        and not any(_text(d) == template.title for d in el.iterdescendants())
    ]
    for el in headlines + list(tree.iter("title")):
        for child in list(el):
            el.remove(child)
        el.text = title
    for meta in tree.iter("meta"):
        key = meta.get("property") or meta.get("name") or ""
        if key in ("og:title", "twitter:title"):
            meta.set("content", title)
        elif key in ("og:description", "description", "twitter:description"):
            meta.set("content", (first or title)[:300])
    for pager in tree.find_class("zdfy"):  # People's Daily's pager: every page is an article of its own
        pager.drop_tree()
    if generic:
        _rename_signatures(tree)
    doctype = tree.getroottree().docinfo.doctype
    html = lxml.html.tostring(tree, encoding="unicode", doctype=doctype or None)
    return html.encode(template.encoding, errors="xmlcharrefreplace")


def _text(el) -> str:
    return " ".join(el.text_content().replace("\u3000", " ").split())


def _drawer(pool: list[str], rng: random.Random):
    """Sentences of the pool in a random order of their own, without repeats until the pool is used up."""
    order: list[str] = []

    def draw() -> str:
        if not order:
            order.extend(rng.sample(pool, len(pool)))
        return order.pop()

    return draw


def _title(sentence: str, lang: str) -> str:
    if lang == "zh":
        return sentence.rstrip("。！？")[:28]
    words = sentence.rstrip(".!?…").split()
    return " ".join(words[:12])


def _rename_signatures(tree) -> None:
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue
        classes = (el.get("class") or "").split()
        if any(c in SIGNATURE_TOKENS for c in classes):
            el.set("class", " ".join("article-text" if c in SIGNATURE_TOKENS else c for c in classes))
        if el.get("id") in SIGNATURE_TOKENS:
            el.set("id", "article-text")


def check_pages(pages: list[Page], mix: str) -> None:
    """Every page extracts, in its language, read by a parser exactly when the mix says so; no two
    pages have the same text."""
    from crawler.extract.extraction import extract_article, parse_html
    from crawler.extract.language import detect_language
    from crawler.extract.parsers import parser_for

    texts = set()
    for page in pages:
        html = decoded(page)
        got = extract_article(html, page.local_url)
        claimed = parser_for(page.local_url, None, parse_html(html, page.local_url)) is not None
        lang = detect_language(got.paragraphs, got.title).lang
        if claimed != (mix == "default") or lang != page.lang or got.text in texts:
            sys.exit(
                f"bad benchmark page {page.name}: parser {claimed}, lang {lang} (wanted {page.lang}), "
                f"text seen before: {got.text in texts}"
            )
        texts.add(got.text)


def serve(server: SiteServer, pages: list[Page]) -> None:
    """Routes /a/<name>.html for the pages and a listing that links them all."""
    for page in pages:
        page.path = f"/a/{page.name}.html"
        page.local_url = server.url + page.path
        server.routes[page.path] = Route(body=page.body, content_type=page.content_type)
    links = "".join(f'<li><a href="{p.path}">{p.name}</a></li>' for p in pages)
    server.routes["/listing.html"] = Route(body=f"<html><body><ul>{links}</ul></body></html>".encode())


def decoded(page: Page) -> str:
    return HtmlResponse(page.local_url, body=page.body, headers={"Content-Type": page.content_type}).text


# ── the measurements ───────────────────────────────────────────────────────────────────────────────────


def baseline(docs: list[tuple[str, str]]) -> dict:
    import trafilatura

    started, started_cpu = time.perf_counter(), time.process_time()
    for url, html in docs:
        trafilatura.extract(html, url=url)
    wall = time.perf_counter() - started
    return {"rate": len(docs) / wall, "wall": wall, "cpu_ms": 1000 * (time.process_time() - started_cpu) / len(docs)}


def write_config(path: Path, server_url: str, n: int, extraction_workers: int | None) -> Path:
    section = {
        "id": "articles",
        "name": "Benchmark pages on loopback",
        "kind": "listing",
        "url": f"{server_url}/listing.html",
        "link_css": "li a",
    }
    crawler = {"concurrent_per_domain": 16, "autothrottle": False, "max_links": max(n, 1000)}
    if extraction_workers is not None:
        crawler["extraction_workers"] = extraction_workers
    packages = path.parent / "no-models"
    packages.mkdir(exist_ok=True)
    return write_loopback_config(
        path,
        [{"id": "bench", "name": "Benchmark pages", "sections": [section]}],
        crawler=crawler,
        translation={"packages_dir": str(packages)},
    )


def run_command(server: SiteServer, workdir: Path, n: int, extraction_workers: int | None = None) -> dict:
    cfg = write_config(workdir / "bench.toml", server.url, n, extraction_workers)
    out = workdir / "output"
    command = [sys.executable, "-m", "crawler", "run", "--config", str(cfg), "--output", str(out)]
    cpu_before = _children_cpu()
    started = time.perf_counter()
    proc = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, PYTHONWARNINGS="ignore")
    )
    wall = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before
    summary = _run_summary(out)
    section = summary.get("sections", {}).get(SECTION_KEY)
    if not section:
        sys.exit(f"newsmon run produced no report (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    if proc.returncode != 0 or section["failed"] or section.get("landed", 0) != n:
        sys.exit(
            f"newsmon run did not land all {n} pages (exit {proc.returncode}, landed "
            f"{section.get('landed')}, failed {section['failed']}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return {
        "rate": n / wall,
        "wall": wall,
        "crawl_rate": n / section["seconds"] if section["seconds"] else 0.0,
        "seconds": summary.get("seconds", {}),
        "cpu_ms": 1000 * cpu / n,
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_summary(out: Path) -> dict:
    db = out / "state.sqlite"
    if not db.exists():
        return {}
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT summary FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    return json.loads(row[0]) if row and row[0] else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=1000, help="distinct article pages (default 1000)")
    parser.add_argument(
        "--mix",
        choices=tuple(TARGETS),
        default="generic",
        help="generic: pages no site parser claims (default); default: the site parsers' pages",
    )
    parser.add_argument("--pairs", type=int, default=3, help="alternations of baseline and run (default 3)")
    parser.add_argument(
        "--pool-workers",
        type=int,
        default=0,
        metavar="W",
        help="also measure the command with [crawler] extraction_workers = W",
    )
    parser.add_argument("--keep", type=Path, help="write the pages and the last run's output under DIR")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    pages = build_pages(args.pages, args.mix)
    server = SiteServer().start()
    pairs: list[tuple[dict, dict]] = []
    pooled: list[tuple[dict, dict]] = []
    try:
        serve(server, pages)
        check_pages(pages, args.mix)
        docs = [(p.local_url, decoded(p)) for p in pages]
        baseline(docs[:5])  # imports and first-call costs outside the timing
        if args.keep:
            _keep(args.keep, pages)
        for _ in range(args.pairs):
            base = baseline(docs)
            with tempfile.TemporaryDirectory(prefix="newsmon-bench-") as tmp:
                pairs.append((base, run_command(server, Path(tmp), args.pages)))
            if args.pool_workers:
                base = baseline(docs)
                with tempfile.TemporaryDirectory(prefix="newsmon-bench-") as tmp:
                    pooled.append((base, run_command(server, Path(tmp), args.pages, args.pool_workers)))
    finally:
        server.stop()
    report(args, pages, pairs, pooled)


def _keep(where: Path, pages: list[Page]) -> None:
    (where / "pages").mkdir(parents=True, exist_ok=True)
    for page in pages:
        (where / "pages" / f"{page.name}.html").write_bytes(page.body)


def report(args, pages: list[Page], pairs: list[tuple[dict, dict]], pooled: list[tuple[dict, dict]]) -> None:
    langs = {lang: sum(p.lang == lang for p in pages) for lang in ("en", "ru", "zh")}
    size = sum(len(p.body) for p in pages) / len(pages) / 1024
    print(
        f"mix: {args.mix}; {len(pages)} distinct pages ({', '.join(f'{k} {v}' for k, v in langs.items())}; "
        f"{size:.0f} KiB on average) on loopback; {os.cpu_count()} CPUs, load average "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}; {len(pairs)} pairs (baseline, run)"
    )
    stale = uncompiled_modules()
    if stale:
        print(f"{len(stale)} of the project's modules are not compiled (e.g. {stale[0]}): run `make venv` first")
    print(f"{'measurement':<52} {'pages/s: each pair':<28} {'× baseline min / median / max'}")
    _line("trafilatura.extract() (baseline)", [b["rate"] for b, _ in pairs], None)
    _line("newsmon run, whole command (wall)", [r["rate"] for _, r in pairs], [r["rate"] / b["rate"] for b, r in pairs])
    _line(
        "  its crawl step alone (section seconds)",
        [r["crawl_rate"] for _, r in pairs],
        [r["crawl_rate"] / b["rate"] for b, r in pairs],
    )
    if pooled:
        _line(
            f"newsmon run, extraction_workers = {args.pool_workers} (wall)",
            [r["rate"] for _, r in pooled],
            [r["rate"] / b["rate"] for b, r in pooled],
        )
    print("per-step seconds of each run (runs.summary['seconds']) and the command's wall time:")
    for _, r in pairs + pooled:
        steps = ", ".join(f"{k} {v:.2f}" for k, v in r["seconds"].items())
        print(f"  wall {r['wall']:.1f} s = {steps}, start-up and the rest {r['wall'] - sum(r['seconds'].values()):.2f}")
    print(
        f"CPU per page: baseline {median(b['cpu_ms'] for b, _ in pairs):.1f} ms, newsmon run "
        f"{median(r['cpu_ms'] for _, r in pairs):.1f} ms (every process of the command; all of it, start-up "
        f"and stages included)"
    )
    ratio = median(r["rate"] / b["rate"] for b, r in pairs)
    target = TARGETS[args.mix]
    print(
        f"whole command / baseline, median = {ratio:.2f}: {'meets' if ratio >= target else 'MISSES'} "
        f"the target of {target} for the {args.mix} mix"
    )


def uncompiled_modules() -> list[str]:
    """The project's modules with no up-to-date bytecode: each run would compile them anew (the Makefile's
    ``venv`` compiles them, as a user's setup does)."""
    import importlib.util

    stale = []
    for package in ("crawler", "spiders", "pipelines"):
        for source in sorted((ROOT / package).rglob("*.py")):
            if not _compiled(source, Path(importlib.util.cache_from_source(str(source)))):
                stale.append(str(source.relative_to(ROOT)))
    return stale


def _compiled(source: Path, cached: Path) -> bool:
    """Whether Python would load ``cached`` for ``source``: its header's source mtime and size (PEP 552's
    timestamp-based form, what compileall writes) are the source's."""
    try:
        header = cached.read_bytes()[:16]
    except OSError:
        return False
    stat = source.stat()
    return (
        len(header) == 16
        and int.from_bytes(header[4:8], "little") == 0
        and int.from_bytes(header[8:12], "little") == int(stat.st_mtime) & 0xFFFFFFFF
        and int.from_bytes(header[12:16], "little") == stat.st_size & 0xFFFFFFFF
    )


def _line(label: str, rates: list[float], ratios: list[float] | None) -> None:
    each = " ".join(f"{r:.1f}" for r in rates)
    tail = f"{min(ratios):.2f} / {median(ratios):.2f} / {max(ratios):.2f}" if ratios else "1"
    print(f"{label:<52} {each:<28} {tail}")


if __name__ == "__main__":
    main()
