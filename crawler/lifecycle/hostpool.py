"""Fetch many pages side by side across hosts, strictly one after the other within a host.

A host's pages are fetched by one thread with its own ``PoliteFetcher`` (its robots.txt, its delay); the fetchers
wait their turn at the cycle's per-host registry (``crawler.crawl.gaps``), so a host never sees two requests at
once nor two closer than the delay, even when a redirect leads one thread to another's host or the crawl has
just asked it; at most ``workers`` hosts are fetched at a time,
the hosts with the most pages first (they finish last). The threads only fetch: answers come back to the
caller's thread as ``(job, Fetched)`` pairs, so whatever the caller writes (SQLite) stays on one thread.
``workers = 1`` fetches in the caller's thread in the given order with one fetcher (the sequential behaviour).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from crawler.lifecycle.fetch import Fetched, PoliteFetcher

log = logging.getLogger(__name__)

ANSWERS_PER_WORKER = 2  # answers waiting for the caller per worker: bounds the page bodies held in memory
_HOST_DONE = object()


@dataclass(frozen=True)
class Job:
    url: str
    etag: str | None = None
    last_modified: str | None = None
    tag: Any = None  # the caller's object (e.g. a DB row), handed back with the answer
    further: tuple[str, ...] = ()  # pages fetched right after this one when it answers 200 or 304 (the missing
    # pages of a multi-page article), by the same fetcher: the host's delay holds
    proxy: str | None = None  # the page's section's proxy: the page, its further pages, their robots.txt


def fetch_all(jobs: list[Job], new_fetcher: Callable[[], PoliteFetcher], workers: int) -> Iterator[tuple[Job, Fetched]]:
    """Every job's answer, exactly once. Per host, answers come in the jobs' order."""
    if workers <= 1:
        yield from _one_by_one(jobs, new_fetcher())
        return
    groups = by_host(jobs)
    if groups:
        yield from _side_by_side(groups, new_fetcher, workers)


def by_host(jobs: list[Job]) -> list[list[Job]]:
    """Jobs grouped by netloc (host and port), order kept within a group; the largest group first."""
    groups: dict[str, list[Job]] = {}
    for job in jobs:
        groups.setdefault(urlsplit(job.url).netloc.lower(), []).append(job)
    return sorted(groups.values(), key=len, reverse=True)


def _one_by_one(jobs: list[Job], fetcher: PoliteFetcher) -> Iterator[tuple[Job, Fetched]]:
    for job in jobs:
        yield job, safe_get(fetcher, job)


def _side_by_side(
    groups: list[list[Job]], new_fetcher: Callable[[], PoliteFetcher], workers: int
) -> Iterator[tuple[Job, Fetched]]:
    workers = min(workers, len(groups))
    answers: queue.Queue = queue.Queue(maxsize=ANSWERS_PER_WORKER * workers)
    stop = threading.Event()  # the caller went away: hosts stop after their request in flight
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="recheck") as pool:
        for group in groups:  # fetchers built here: a failure raises in the caller, not lost in a thread
            pool.submit(_host_worker, new_fetcher(), group, answers, stop)
        try:
            hosts_left = len(groups)
            while hosts_left:
                answer = answers.get()
                if answer is _HOST_DONE:
                    hosts_left -= 1
                else:
                    yield answer
        finally:
            stop.set()


def _host_worker(fetcher: PoliteFetcher, group: list[Job], answers: queue.Queue, stop: threading.Event) -> None:
    try:
        for job in group:
            if stop.is_set():
                return
            _put(answers, (job, safe_get(fetcher, job)), stop)
    finally:
        _put(answers, _HOST_DONE, stop)


def _put(answers: queue.Queue, item: object, stop: threading.Event) -> None:
    """Wait for room in the queue, but never past the caller's going away (no thread left blocked)."""
    while not stop.is_set():
        try:
            answers.put(item, timeout=0.2)
            return
        except queue.Full:
            continue


def safe_get(fetcher: PoliteFetcher, job: Job) -> Fetched:
    """The fetcher's answer, with ``job.further`` fetched after a 200 or 304 (``Fetched.further``)."""
    got = _get(fetcher, job.url, job.etag, job.last_modified, job.proxy)
    if job.further and got.status in (200, 304):
        got.further = [_get(fetcher, url, proxy=job.proxy) for url in job.further]
    return got


def _get(
    fetcher: PoliteFetcher,
    url: str,
    etag: str | None = None,
    last_modified: str | None = None,
    proxy: str | None = None,
) -> Fetched:
    """A bug on one page is an answer-less ``Fetched``, never a lost host."""
    try:
        return fetcher.get(url, etag, last_modified, proxy)
    except Exception as exc:  # noqa: BLE001 — one odd page never stops its host's other pages
        log.error("fetching %s failed: %s: %s", url, type(exc).__name__, exc, exc_info=True)
        return Fetched(url, None, error=f"{type(exc).__name__}: {exc}")
