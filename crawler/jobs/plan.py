"""Which crawl jobs a cycle enqueues: one per host group, locked by the group's hosts (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from crawler.config import Section
from crawler.runner import host_groups


@dataclass(frozen=True)
class CrawlJob:
    lock: str  # procrastinate lock (and queueing lock): one job of the group at a time
    sections: tuple[str, ...]  # the section keys it crawls, one after another


def lock_of(group: list[Section]) -> str:
    """The lock of a host group: its hosts, sorted. Computed over every configured section, so a cycle of a
    few sources locks the same name as a full cycle: two jobs never crawl one host side by side."""
    hosts = sorted({urlsplit(s.url).netloc.lower() for s in group})
    return "crawl:" + ",".join(hosts)


def crawl_jobs(every: list[Section], selected: list[Section]) -> list[CrawlJob]:
    """The jobs of a cycle crawling ``selected``: groups formed over ``every`` configured section (sections
    sharing a source or an entry host), each restricted to its selected sections, in config order."""
    chosen = {s.key for s in selected}
    jobs = []
    for group in host_groups(every):
        keys = tuple(s.key for s in group if s.key in chosen)
        if keys:
            jobs.append(CrawlJob(lock_of(group), keys))
    return jobs
