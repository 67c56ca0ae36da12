"""Extraction quality and CPU against bare trafilatura on a public benchmark of article pages.

    git clone https://github.com/scrapinghub/article-extraction-benchmark DIR
    .venv/bin/python benchmarks/bench_extraction_quality.py DIR [--rounds 3]

Reads the benchmark's 181 pages (``DIR/html/*.html.gz``, decoded as the crawl decodes them: Scrapy's
``response.text``) and its ground truth (``DIR/ground-truth.json``, each page's ``articleBody``), and scores
``crawler.extract.extraction.extract_article`` (its paragraphs, one per line) and bare
``trafilatura.extract(html, url=url)`` the way the benchmark's own ``evaluate.py`` does: precision and recall
over the word 4-grams of each page's text (counted with multiplicity, each page's counts normalised to sum to
1), averaged over the pages, F1 of the averages. Also printed: CPU per page, min / median / max over
``--rounds`` alternating rounds. newsmon runs trafilatura's fallback (its comparison with readability and
jusText) only where trafilatura's own extraction is weak (under ``FALLBACK_BELOW_CHARS``, or a table layout);
two variants show what that rule trades: the fallback on every page (one pass, as trafilatura runs it) and
the fallback for table layouts only (no length rule).
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import re
import sys
import time
import warnings
from collections import Counter
from pathlib import Path
from statistics import mean, median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402
from scrapy.http import HtmlResponse  # noqa: E402

from crawler.exceptions import ExtractionError  # noqa: E402
from crawler.extract import extraction  # noqa: E402

WORD = re.compile(r"\w+")


def shingles(text: str, n: int = 4) -> Counter:
    words = WORD.findall(text or "")
    return Counter(tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1)) if words[i : i + n])


def page_scores(true: str, pred: str) -> tuple[float | None, float | None]:
    """(precision, recall) of one page; None where the benchmark leaves the page out of that average."""
    t, p = shingles(true), shingles(pred)
    tp = sum((t & p).values())
    fp, fn = sum((p - t).values()), sum((t - p).values())
    if fp == fn == 0:
        return 1.0, 1.0
    total = tp + fp + fn
    tp, fp, fn = tp / total, fp / total, fn / total
    precision = None if tp + fp == 0 else tp / (tp + fp)
    recall = None if tp + fn == 0 else tp / (tp + fn)
    return precision, recall


def scores(pages: list[tuple[str, str, str]], predictions: list[str]) -> tuple[float, float, float]:
    pairs = [page_scores(true, pred) for (_url, _html, true), pred in zip(pages, predictions)]
    precision = mean(p for p, _ in pairs if p is not None)
    recall = mean(r for _, r in pairs if r is not None)
    return 2 * precision * recall / (precision + recall), precision, recall


def newsmon(html: str, url: str) -> str:
    try:
        return "\n".join(extraction.extract_article(html, url).paragraphs)
    except ExtractionError:
        return ""


def with_fallback_everywhere(tree, url: str):
    return extraction._bare_extraction(tree, url, fast=False)


def bare(html: str, url: str) -> str:
    return trafilatura.extract(html, url=url) or ""


def load(dataset: Path) -> list[tuple[str, str, str]]:
    truth = json.loads((dataset / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key, page in sorted(truth.items()):
        body = gzip.decompress((dataset / "html" / f"{key}.html.gz").read_bytes())
        pages.append((page["url"], HtmlResponse(page["url"], body=body).text, page["articleBody"]))
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", type=Path, help="a checkout of scrapinghub/article-extraction-benchmark")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.CRITICAL)
    pages = load(args.dataset)
    default, rule = extraction.FALLBACK_BELOW_CHARS, extraction.trafilatura_body
    variants = {
        "trafilatura.extract() (bare)": (bare, None),
        f"newsmon (fallback below {default} chars)": (newsmon, default),
        "newsmon, fallback on every page": (newsmon, "everywhere"),
        "newsmon, fallback for tables only": (newsmon, 0),
    }
    cpu: dict[str, list[float]] = {name: [] for name in variants}  # threshold: an int, "everywhere" or None
    quality: dict[str, tuple[float, float, float]] = {}
    for _ in range(args.rounds):
        for name, (extract, threshold) in variants.items():
            extraction.trafilatura_body = with_fallback_everywhere if threshold == "everywhere" else rule
            if isinstance(threshold, int):
                extraction.FALLBACK_BELOW_CHARS = threshold
            started = time.process_time()
            predictions = [extract(html, url) for url, html, _true in pages]
            cpu[name].append(1000 * (time.process_time() - started) / len(pages))
            quality[name] = scores(pages, predictions)
    extraction.FALLBACK_BELOW_CHARS, extraction.trafilatura_body = default, rule
    print(f"{len(pages)} pages; shingle F1 / precision / recall; CPU ms per page min / median / max")
    for name in variants:
        f1, precision, recall = quality[name]
        c = cpu[name]
        print(f"{name:40} {f1:.3f} / {precision:.3f} / {recall:.3f}   {min(c):5.1f} / {median(c):5.1f} / {max(c):5.1f}")


if __name__ == "__main__":
    main()
