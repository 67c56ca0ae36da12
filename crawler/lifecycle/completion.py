"""Completing incomplete multi-page articles during the article re-checks.

A multi-page article whose further page failed at crawl time (a timeout, a 503) lands with
``extras["incomplete"]``; the crawl never asks for that page again (page 1 is stored). The re-checks do:
``missing_pages`` names the pages to retry (the incomplete ones within ``[crawler] max_further_pages``, none
once ``extras["page_retries"]`` reached ``[crawler] further_page_retries``); the host's thread fetches them
right after page 1 (``hostpool.Job.further``: same fetcher, same delay); ``complete`` merges those that
arrive into the stored article as the crawl merges (``continuation.merge``, pages in their declared order,
raw copies ``raw/<source>/<id>.p<n>.html.gz``) and keeps the result as a new version (``article_versions``,
``items`` row, translation reset to pending for zh/ru). No event: the site had that text all along, so an
``article_edited`` alert would report a change that never happened; the completion is logged and counted
(re-check outcome ``completed``; ``incomplete`` when a retry brought nothing, the reasons then updated).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from crawler import state
from crawler.config import Section
from crawler.exceptions import ExtractionError
from crawler.extract.continuation import CONTINUED_AT, INCOMPLETE, PAGES, merge
from crawler.items import canonicalize_url, utc_now
from crawler.lifecycle.fetch import Fetched, decode
from crawler.lifecycle.versions import keep_version, next_version, save_item

log = logging.getLogger(__name__)

RETRIES = "page_retries"  # item extras: how many re-checks retried the missing pages so far


@dataclass(frozen=True)
class PageRetry:
    """The bounds of retrying missing pages: ``[crawler] max_further_pages`` and ``further_page_retries``."""

    max_further: int
    retries: int


def missing_pages(item: dict | None, bounds: PageRetry) -> tuple[str, ...]:
    """The missing further pages of ``item`` to fetch again now (in their declared order), or none."""
    extras = (item or {}).get("extras") or {}
    missing = extras.get(INCOMPLETE) or []
    if not missing or int(extras.get(RETRIES) or 0) >= bounds.retries:
        return ()
    room = bounds.max_further - max(len(extras.get(PAGES) or [1]) - 1, 0)  # the crawl's limit still holds
    return tuple(entry["url"] for entry in missing[: max(room, 0)] if entry.get("url"))


def complete(conn, row, item: dict, further: list[Fetched], section: Section | None, output_dir: Path) -> str:
    """Merge the further pages that arrived; ``completed`` (at least one page added, a new version) or
    ``incomplete`` (none: the item keeps its text, its reasons and retry count updated)."""
    arrived, failed = _extracted_pages(item, further, section)
    extras = dict(item.get("extras") or {})
    retried = {canonicalize_url(got.url) for got in further}
    still = [
        failed.get(canonicalize_url(m["url"]), m)
        for m in extras.get(INCOMPLETE) or []
        if canonicalize_url(m["url"]) not in arrived
    ]
    retries = int(extras.get(RETRIES) or 0) + 1
    if not arrived:
        with state.transaction(conn):
            save_item(conn, row, dict(item, extras={**extras, INCOMPLETE: still, RETRIES: retries}))
        log.info(
            "re-check of %s: missing page(s) still failing (%s); retry %d",
            row["url"],
            "; ".join(f"{m['url']}: {m['error']}" for m in still if canonicalize_url(m["url"]) in retried),
            retries,
        )
        return "incomplete"
    merged = _merged(item, arrived, still, output_dir)
    merged.extras[RETRIES] = retries
    added = [record["url"] for record, _extracted, _body in arrived.values()]
    version = _keep_completed(conn, row, item, merged, added)
    log.info(
        "re-check of %s: completed with %d missing page(s) (%s); version %d%s",
        row["url"],
        len(added),
        ", ".join(added),
        version,
        f"; still missing {len(still)}" if still else "",
    )
    return "completed"


def _extracted_pages(item: dict, further: list[Fetched], section: Section | None):
    """The pages that arrived ({canonical URL: (record, Extracted, body)}) and the reasons of the others
    ({canonical URL: {url, error}})."""
    from crawler.extract.extraction import extract_article

    merged = {canonicalize_url(p["url"]) for p in (item.get("extras") or {}).get(PAGES) or [{"url": item["url"]}]}
    arrived, failed = {}, {}
    for got in further:
        key = canonicalize_url(got.url)
        if got.status != 200:
            failed[key] = {"url": got.url, "error": got.error or f"HTTP {got.status}"}
            continue
        if got.final_url and canonicalize_url(got.final_url) in merged | set(arrived):
            failed[key] = {"url": got.url, "error": f"redirected to {got.final_url}, a page already merged"}
            continue
        html, encoding = decode(got)
        try:
            extracted = extract_article(html, got.final_url or got.url, section)
        except ExtractionError as exc:
            failed[key] = {"url": got.url, "error": str(exc)}
            continue
        arrived[key] = ({"url": got.url, "raw_encoding": encoding}, extracted, got.body)
    return arrived, failed


def _merged(item: dict, arrived: dict, still: list[dict], output_dir: Path):
    """The stored pages (their stored paragraphs) and the arrived ones, in the order page 1 declared them."""
    from crawler.crawl.store import raw_relpath, save_raw
    from crawler.extract.extracted import Extracted

    extras = item.get("extras") or {}
    paragraphs = list(item.get("paragraphs") or [])
    records = [dict(r) for r in extras.get(PAGES) or [{"url": item["url"], "paragraphs": len(paragraphs)}]]
    pages, start = [], 0
    for record in records:
        count = int(record.get("paragraphs") or 0)
        page_extras = {k: v for k, v in extras.items() if k not in (PAGES, INCOMPLETE)} if not pages else {}
        pages.append(
            (
                record,
                Extracted(
                    item.get("title"),
                    paragraphs[start : start + count],
                    item.get("published_at"),
                    list(item.get("authors") or []),
                    page_extras,
                ),
            )
        )
        start += count
    declared = [canonicalize_url(u) for u in [item["url"], *(extras.get(CONTINUED_AT) or [])]]
    taken = {r.get("raw_path") for r in records}
    for record, extracted, body in arrived.values():
        record["raw_path"] = _free_raw_path(raw_relpath, item, taken)
        taken.add(record["raw_path"])
        save_raw(output_dir, record["raw_path"], body)
        pages.append((record, extracted))
    order = {key: n for n, key in enumerate(declared)}
    pages.sort(key=lambda page: order.get(canonicalize_url(page[0]["url"]), len(order)))  # stable: the rest last
    return merge(pages, still)


def _free_raw_path(raw_relpath, item: dict, taken: set) -> str:
    """``<id>.p<n>.html.gz`` with the smallest free n ≥ 2: the stored pages keep their copies (each record
    names its own, so the number need not be the page's position)."""
    number = 2
    while raw_relpath(item["source"], item["id"], number) in taken:
        number += 1
    return raw_relpath(item["source"], item["id"], number)


def _keep_completed(conn, row, item: dict, merged, added: list[str]) -> int:
    now = utc_now()
    new = next_version(item, item.get("title"), merged.paragraphs)
    new.update(extras=merged.extras, completed_at=now)
    if INCOMPLETE not in merged.extras:
        new["extras"] = {k: v for k, v in merged.extras.items() if k != RETRIES}
    with state.transaction(conn):
        keep_version(conn, row, item, new, now, {"completed": added})  # a completion, not an edit: no paragraph diff
    return new["version"]
