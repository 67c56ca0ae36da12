"""One ``section_snapshots`` row per section per run: what the entry point looked like.

The section lifecycle reads these rows: HTTP status, final URL after redirects, error text when
there was no response, page size, article links in page order with an order-insensitive fingerprint, and
the link rule in words. A 304 answer carries the previous run's links over (``not_modified = 1``).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from crawler import state
from crawler.crawl.conditional import save_validators
from crawler.crawl.links import fingerprint
from crawler.items import utc_now


@dataclass
class Snapshot:
    section: str  # section key "source/section"
    url: str  # the entry point as configured
    link_rule: str
    http_status: int | None = None
    final_url: str | None = None
    error: str | None = None
    page_bytes: int | None = None
    not_modified: bool = False
    article_urls: list[str] = field(default_factory=list)
    # Validators of the pages read, saved with the snapshot so a 304 always has links to carry over.
    validators: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    def add_links(self, urls: list[str]) -> None:
        known = set(self.article_urls)
        self.article_urls += [u for u in urls if u not in known and not known.add(u)]


def previous_links(conn: sqlite3.Connection, section_key: str) -> list[str]:
    """Article URLs of the section's latest snapshot that had a readable page (for a 304)."""
    row = conn.execute(
        "SELECT article_urls FROM section_snapshots WHERE section = ? AND error IS NULL "
        "AND http_status IN (200, 304) ORDER BY run_id DESC LIMIT 1",
        (section_key,),
    ).fetchone()
    return json.loads(row["article_urls"]) if row else []


def same_rule_as_last_time(conn: sqlite3.Connection, section_key: str, link_rule: str) -> bool:
    """Whether the section's last readable snapshot used this link rule: links carried over on a 304
    are only right if the rule that found them has not been edited since."""
    row = conn.execute(
        "SELECT link_rule FROM section_snapshots WHERE section = ? AND error IS NULL "
        "AND http_status IN (200, 304) ORDER BY run_id DESC LIMIT 1",
        (section_key,),
    ).fetchone()
    return bool(row) and row["link_rule"] == link_rule


def write_snapshot(conn: sqlite3.Connection, run_id: int, snap: Snapshot) -> None:
    """Write the row and the validators together: a crash never leaves validators without links."""
    with state.transaction(conn):
        conn.execute(
            "INSERT OR REPLACE INTO section_snapshots(run_id, section, checked_at, url, http_status, final_url, "
            "error, page_bytes, not_modified, links_found, article_urls, fingerprint, link_rule) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                snap.section,
                utc_now(),
                snap.url,
                snap.http_status,
                snap.final_url,
                snap.error,
                snap.page_bytes,
                int(snap.not_modified),
                len(snap.article_urls),
                json.dumps(snap.article_urls, ensure_ascii=False),
                fingerprint(snap.article_urls),
                snap.link_rule,
            ),
        )
        if snap.error is None:
            for url, (etag, last_modified) in snap.validators.items():
                save_validators(conn, url, etag, last_modified)
