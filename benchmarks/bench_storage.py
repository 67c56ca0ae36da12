"""What an archive costs on disk: a real ``newsmon run`` over distinct article pages, then the output directory
measured component by component, in MB (10^6 bytes) per 1,000 items.

    .venv/bin/python benchmarks/bench_storage.py [--items 1000] [--days 4] [--rounds 3] [--no-translation]
                                                 [--keep DIR]

The pages: the recorded articles of tests/resources/expected (Kremlin in English, People's Daily and Xinhua in
Chinese, two of them GBK/GB2312-encoded, Kommersant in Russian) are the templates. Each page served is one
template with every text node of its article (title included) replaced by new text of about the same length,
drawn from a word chain (Russian, English) or character chain (Chinese) trained on the recorded texts of that
language — so no two pages share their article text, while each site's pages share its markup and boilerplate, as a
real site's do; the links to other articles (headlines and the digits of their URLs) change from page to page too,
as a site's "latest news" boxes do. A first-order chain repeats fewer long phrases than real news does, so the
compression measured here is, if anything, less than a real archive gets. Each template's text length is scaled by a
random factor (0.4–1.2).

Each round serves ``--items`` pages on loopback, split over ``--days`` consecutive days (one listing per source
per day), and runs the real ``newsmon run`` (a subprocess) once per day, so the archive has one digest per
day, the last one today (the days before are old days, as in a running installation). Translation: zh and ru items are
translated by the real translation stage, with a stand-in for the model (this benchmark's ``sitecustomize``
replaces ``crawler.translation.engine.Engine``: English drawn from the English chain, about as long as a
translation, deterministic per sentence) — no model weights are needed, and the translation memory, the
``*_en`` fields, the index and the stories see English as they would. ``--no-translation`` leaves them pending.
The day of each run is set the same way (``crawler.runner.today``).

Then the same archive later on: one more run, the next day, with one new page (held back from the corpus) and
``[stories] index_days = 0`` — what the days after the newest do to the archive (its day file and digest
gzipped) and what ``index_days`` (14) later does (every item out of the stories' LSH index, its signatures and
band keys dropped) — measured again: what each 1,000 items of a long-running archive cost. Free pages are
printed apart: SQLite keeps the pages the dropped band keys and signatures took and reuses them for the next
items' (the file does not shrink without ``VACUUM``).

Measured (apparent sizes; the disk use ``du`` reports, in 4 KiB blocks, is printed beside the total):
the state DB by table through SQLite's ``dbstat`` (indexes counted with their table; FTS5 shadow tables with
theirs), the day files, the raw pages, the digests, the translation memory, everything else. Printed per
component: min / median / max over the rounds (each round a different corpus seed), and the run's wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import lxml.html  # noqa: E402
from scrapy.http import HtmlResponse  # noqa: E402

from crawler.localsite import Route, SiteServer, write_loopback_config  # noqa: E402
from crawler.store import items as item_store  # noqa: E402
from tests.recorded import recorded  # noqa: E402

RESOURCES = ROOT / "tests" / "resources"

MB = 1_000_000

# Sources of the benchmark and the share of pages each gets (People's Daily and Xinhua publish more than the
# others on the monitored sections; the Kremlin's transcripts are long).
SOURCES = {"kremlin-en": 0.35, "peoples-daily": 0.25, "xinhua": 0.25, "kommersant": 0.15}


# ---------------------------------------------------------------- text generation


def _words(text: str, lang: str) -> list[str]:
    if lang == "zh":
        return [c for c in text if not c.isspace()]
    return text.split()


class Chain:
    """A first-order Markov chain over words (characters for Chinese)."""

    def __init__(self, texts: list[str], lang: str):
        self.lang = lang
        self.next: dict[str, list[str]] = defaultdict(list)
        self.starts: list[str] = []
        for text in texts:
            tokens = _words(text, lang)
            if tokens:
                self.starts.append(tokens[0])
            for a, b in zip(tokens, tokens[1:]):
                self.next[a].append(b)
        self.vocabulary = [t for t in self.next if self.next[t]]

    def text(self, rng: random.Random, chars: int) -> str:
        joiner = "" if self.lang == "zh" else " "
        out, size = [], 0
        token = rng.choice(self.starts or self.vocabulary)
        while size < chars:
            out.append(token)
            size += len(token) + len(joiner)
            followers = self.next.get(token)
            token = rng.choice(followers) if followers and rng.random() > 0.02 else rng.choice(self.vocabulary)
        return joiner.join(out)[: max(chars, 1)].strip() or "…"


def templates() -> list[dict]:
    """The recorded article pages: bytes, URL, Content-Type, source, language, extracted title and paragraphs."""
    from crawler.extract.extraction import extract_article

    out = []
    for spec_path in sorted((RESOURCES / "expected").glob("*/*.json")):
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
        body = recorded(spec["file"]).read_bytes()
        response = HtmlResponse(spec["url"], body=body, headers={"Content-Type": spec["content_type"]})
        extracted = extract_article(response.text, spec["url"])
        out.append(
            {
                "source": spec["file"].split("/")[0],
                "lang": spec["lang"],
                "body": body,
                "url": spec["url"],
                "content_type": spec["content_type"],
                "text": response.text,
                "encoding": response.encoding,
                "title": extracted.title or "",
                "paragraphs": list(extracted.paragraphs),
            }
        )
    return out


def chains(pages: list[dict]) -> dict[str, Chain]:
    by_lang: dict[str, list[str]] = defaultdict(list)
    for page in pages:
        by_lang[page["lang"]].extend([page["title"], *page["paragraphs"]])
    return {lang: Chain(texts, lang) for lang, texts in by_lang.items()}


def _norm(text: str) -> str:
    return " ".join(text.split())


def vary(template: dict, chain: Chain, rng: random.Random) -> bytes:
    """The template page with its article's text nodes (and title) replaced by new text of similar length."""
    scale = rng.uniform(0.4, 1.2)
    article = _norm("\n".join(template["paragraphs"]))
    title = _norm(template["title"])
    new_title = chain.text(rng, max(8, len(title)))
    tree = lxml.html.document_fromstring(template["text"])
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        for attr in ("text", "tail"):
            value = getattr(element, attr)
            stripped = _norm(value or "")
            if not stripped or element.tag in ("script", "style"):
                continue
            if title and stripped == title:
                setattr(element, attr, new_title)
            elif len(stripped) >= 4 and stripped in article:
                setattr(element, attr, chain.text(rng, int(len(stripped) * scale)) + (" " if attr == "tail" else ""))
            elif attr == "text" and element.tag == "a" and len(stripped) >= 6:  # other articles' headlines
                setattr(element, attr, chain.text(rng, len(stripped)))
        if element.tag == "a" and element.get("href"):  # links to other articles: other ids
            element.set("href", re.sub(r"\d", lambda _m: str(rng.randrange(10)), element.get("href")))
        for name in ("content", "title", "alt"):
            value = element.get(name)
            if value and title and _norm(value) == title:
                element.set(name, new_title)
    doctype = tree.getroottree().docinfo.doctype
    html = lxml.html.tostring(tree, encoding="unicode", doctype=doctype or None)
    return html.encode(template["encoding"], errors="xmlcharrefreplace")


def corpus(count: int, seed: int) -> list[dict]:
    """``count`` distinct pages: {source, body, content_type}."""
    pages = templates()
    language_chains = chains(pages)
    by_source: dict[str, list[dict]] = defaultdict(list)
    for page in pages:
        by_source[page["source"]].append(page)
    rng = random.Random(seed)
    names, weights = list(SOURCES), list(SOURCES.values())
    out = []
    for _ in range(count):
        source = rng.choices(names, weights)[0]
        template = rng.choice(by_source[source])
        out.append(
            {
                "source": source,
                "body": vary(template, language_chains[template["lang"]], rng),
                "content_type": template["content_type"],
            }
        )
    return out


# ---------------------------------------------------------------- the stand-ins loaded into `newsmon run`

SITECUSTOMIZE = '''
"""Loaded by the benchmark's `newsmon run` only (PYTHONPATH): the run's day, and a stand-in translation model."""
import os
import sys

# site runs this before `python -m` puts the working directory on sys.path: without this line, the crawler
# imported here would be the installed one, not the checkout the benchmark runs.
sys.path.insert(0, os.environ["BENCH_STORAGE_ROOT"])

if os.environ.get("BENCH_STORAGE_DAY"):
    import crawler.runner
    crawler.runner.today = lambda: os.environ["BENCH_STORAGE_DAY"]

if os.environ.get("BENCH_STORAGE_ENGLISH"):
    import hashlib, json, random
    from crawler.translation import engine as _engine

    with open(os.environ["BENCH_STORAGE_ENGLISH"], encoding="utf-8") as fh:
        _NEXT = json.load(fh)
    _WORDS = sorted(_NEXT)

    def _english(sentence):
        rng = random.Random(hashlib.blake2b(sentence.encode("utf-8"), digest_size=8).digest())
        han = sum(1 for c in sentence if "\\u4e00" <= c <= "\\u9fff")
        size = int(2.6 * han + 1.05 * (len(sentence) - han))
        out, length, word = [], 0, rng.choice(_WORDS)
        while length < size:
            out.append(word)
            length += len(word) + 1
            word = rng.choice(_NEXT.get(word) or _WORDS)
        return " ".join(out).capitalize() + "."

    def _init(self, package, settings):
        self.package, self.calls, self.sentences = package, 0, 0

    def _translate(self, sentences, progress=None):
        self.calls += 1
        self.sentences += len(sentences)
        if progress:
            progress(len(sentences))
        return [_english(s) for s in sentences]

    _engine.Engine.__init__ = _init
    _engine.Engine.translate = _translate
'''


def stand_ins(work: Path, english: Chain) -> tuple[Path, Path, Path]:
    """(sitecustomize dir, English chain file, packages dir with zh→en and ru→en packages of no weights)."""
    site = work / "site"
    site.mkdir(parents=True, exist_ok=True)
    (site / "sitecustomize.py").write_text(textwrap.dedent(SITECUSTOMIZE), encoding="utf-8")
    chain_file = work / "english.json"
    chain_file.write_text(json.dumps(english.next, ensure_ascii=False), encoding="utf-8")
    packages = work / "packages"
    for lang in ("zh", "ru"):
        root = packages / f"translate-{lang}_en-1_0"
        (root / "model").mkdir(parents=True, exist_ok=True)
        (root / "model" / "model.bin").write_bytes(b"")
        (root / "sentencepiece.model").write_bytes(b"")
        (root / "metadata.json").write_text(
            json.dumps(
                {
                    "package_version": "1.0",
                    "argos_version": "1.9",
                    "type": "translate",
                    "from_code": lang,
                    "to_code": "en",
                }
            ),
            encoding="utf-8",
        )
    return site, chain_file, packages


# ---------------------------------------------------------------- one round


def serve_day(server: SiteServer, pages: list[dict], day_no: int) -> None:
    by_source: dict[str, list[str]] = defaultdict(list)
    for n, page in enumerate(pages):
        path = f"/{page['source']}/d{day_no}-{n}.html"
        server.routes[path] = Route(body=page["body"], content_type=page["content_type"])
        by_source[page["source"]].append(path)
    for source in SOURCES:
        links = "".join(f'<li><a href="{p}">{p}</a></li>' for p in by_source.get(source, []))
        server.routes[f"/{source}/"] = Route(body=f"<html><body><ul>{links}</ul></body></html>".encode())


def write_config(path: Path, server: SiteServer, packages: Path | None, aged: bool = False) -> Path:
    sources = [
        {
            "id": source,
            "sections": [
                {
                    "id": "news",
                    "kind": "listing",
                    "url": f"{server.url}/{source}/",
                    "link_pattern": rf"/{source}/d\d+-\d+\.html$",
                }
            ],
        }
        for source in SOURCES
    ]
    # Listings stay under [crawler] max_links (1,000) unless --items / --days passes ~2,800 a day.
    crawler = {"obey_robots": False, "autothrottle": False, "timeout": 60, "max_further_pages": 0}
    tables = {"translation": {"packages_dir": str(packages)}} if packages else {}
    if not packages:
        tables = {"translation": {"enabled": False}}
    if aged:  # what [stories] index_days (14) later does: every item out of the LSH index, its signatures dropped
        tables["stories"] = {"index_days": 0, "window_days": 0}
    return write_loopback_config(path, sources, crawler=crawler, **tables)


def run_round(
    work: Path,
    pages: list[dict],
    days: int,
    site: Path,
    chain_file: Path | None,
    packages: Path | None,
    keep: Path | None,
) -> tuple[dict, dict, float]:
    out = keep or work / "output"
    shutil.rmtree(out, ignore_errors=True)
    server = SiteServer().start()
    wall = 0.0
    try:
        config = write_config(work / "bench.toml", server, packages)
        first, last = pages[:-1], pages[-1:]  # the last page is the next day's
        per_day = -(-len(first) // days)
        for day_no in range(days):
            chunk = first[day_no * per_day : (day_no + 1) * per_day]
            serve_day(server, chunk, day_no)
            wall += run_day(config, out, site, chain_file, day_no - days + 1, len(chunk))
        fresh = measure(out)
        # The archive later on: a run the next day, with one new page, gzips the days before it, and with
        # index_days passed (index_days = 0 here) takes every item out of the stories' LSH index.
        serve_day(server, last, days)
        run_day(write_config(work / "aged.toml", server, packages, aged=True), out, site, chain_file, 1, len(last))
    finally:
        server.stop()
    return fresh, measure(out), wall


def run_day(config: Path, out: Path, site: Path, chain_file: Path | None, offset: int, expected: int) -> float:
    """``newsmon run`` as on the day ``offset`` days from today; its wall time. Exits unless it stored
    ``expected`` new items."""
    env = dict(
        os.environ,
        PYTHONPATH=str(site),
        PYTHONWARNINGS="ignore",
        BENCH_STORAGE_ROOT=str(ROOT),
        BENCH_STORAGE_DAY=(date.today() + timedelta(days=offset)).isoformat(),
    )
    if chain_file:
        env["BENCH_STORAGE_ENGLISH"] = str(chain_file)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "crawler", "run", "--config", str(config), "--output", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    wall = time.monotonic() - started
    if not re.search(rf"\b{expected} new item", done.stdout):
        sys.exit(
            f"day {offset}: expected {expected} new items (exit {done.returncode}):\n"
            f"{done.stdout}\n{done.stderr[-3000:]}"
        )
    return wall


# ---------------------------------------------------------------- measuring

DB_GROUPS = [  # (component, table-name pattern), first match wins
    ("db: items", r"^items$"),
    ("db: search index (FTS)", r"^search_fts"),
    ("db: search rows", r"^search_docs"),
    ("db: stories", r"^story_"),
    ("db: article versions", r"^article_versions$"),
    ("db: item change feed", r"^item_changes$"),
]


def measure(out: Path) -> dict:
    """Bytes per component, plus ``items``, ``text bytes`` and ``du`` (disk use in blocks)."""
    sizes: dict[str, int] = defaultdict(int)
    db = out / "state.sqlite"
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        owner = {r[0]: r[1] for r in conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE name IS NOT NULL")}
        for name, size in conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            table = owner.get(name, name)
            group = next((g for g, pattern in DB_GROUPS if re.search(pattern, table)), "db: other tables")
            sizes[group] += size
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        sizes["db: free pages"] += conn.execute("PRAGMA freelist_count").fetchone()[0] * page_size
        items = conn.execute("SELECT count(*) FROM items").fetchone()[0]
        text_bytes = 0
        for (row,) in conn.execute("SELECT json FROM items"):
            item = item_store.loads(row) or {}
            text_bytes += len((item.get("text") or "").encode("utf-8"))
    finally:
        conn.close()
    known = sum(sizes.values())
    files_db = sum(p.stat().st_size for p in out.glob("state.sqlite*") if not p.name.endswith(".bak"))
    sizes["db: other tables"] += max(0, files_db - known)  # the WAL, if any
    du = 0
    for path in out.rglob("*"):
        if not path.is_file() or path.name.startswith("state.sqlite"):
            if path.is_file():
                du += path.stat().st_blocks * 512
            continue
        st = path.stat()
        du += st.st_blocks * 512
        rel = path.relative_to(out).as_posix()
        if rel.startswith("raw/"):
            sizes["raw pages"] += st.st_size
        elif re.match(r"^\d{4}-\d{2}-\d{2}/items\.jsonl(\.gz)?$", rel):
            sizes["day files (items.jsonl)"] += st.st_size
        elif re.match(r"^\d{4}-\d{2}-\d{2}/digest\.", rel):
            sizes["digests"] += st.st_size
        elif path.name.startswith("translation-memory.sqlite"):
            sizes["translation memory"] += st.st_size
        else:
            sizes["other files"] += st.st_size
    return {"sizes": dict(sizes), "items": items, "text": text_bytes, "du": du}


def table(results: list[dict], title: str) -> None:
    components = sorted(
        {c for r in results for c in r["sizes"]}, key=lambda c: -median(r["sizes"].get(c, 0) for r in results)
    )
    print(f"\n{title}")
    for component in components:
        values = [per_thousand(r["sizes"].get(component, 0), r["items"]) for r in results]
        print(f"  {component:<28} {stats(values)}")
    totals = [per_thousand(sum(r["sizes"].values()), r["items"]) for r in results]
    dus = [per_thousand(r["du"], r["items"]) for r in results]
    used = [per_thousand(sum(r["sizes"].values()) - r["sizes"].get("db: free pages", 0), r["items"]) for r in results]
    print(f"  {'total (apparent size)':<28} {stats(totals)}")
    print(f"  {'total but free pages':<28} {stats(used)}")
    print(f"  {'total (du: disk blocks)':<28} {stats(dus)}")


def per_thousand(value: int, items: int) -> float:
    return value / items * 1000 / MB


def stats(values: list[float]) -> str:
    return f"{min(values):7.2f} {median(values):7.2f} {max(values):7.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-translation", action="store_true")
    parser.add_argument("--keep", type=Path, help="keep the last round's output directory here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-storage-"))
    results: list[dict] = []
    aged: list[dict] = []
    walls: list[float] = []
    try:
        english = chains(templates())["en"]
        site, chain_file, packages = stand_ins(work, english)
        if args.no_translation:
            chain_file = packages = None
        for round_no in range(args.rounds):
            pages = corpus(args.items, seed=round_no)
            keep = args.keep if args.keep and round_no == args.rounds - 1 else None
            result, later, wall = run_round(work, pages, args.days, site, chain_file, packages, keep)
            results.append(result)
            aged.append(later)
            walls.append(wall)
            print(
                f"round {round_no + 1}/{args.rounds}: {result['items']} items, "
                f"{result['text'] / result['items'] / 1000:.2f} KB of article text each (UTF-8), "
                f"runs {wall:.1f} s",
                flush=True,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    scope = f"min / median / max over {args.rounds} rounds of {args.items} items"
    table(results, f"MB per 1,000 items (10^6 bytes; {scope}, {args.days} days, the last one today)")
    table(aged, f"the same archive later: a run the next day, past [stories] index_days ({scope})")
    text = [r["text"] / r["items"] / 1000 for r in results]
    print(f"article text, KB per item:     {stats(text)}")
    print(f"newsmon run, seconds per round: {stats(walls)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
