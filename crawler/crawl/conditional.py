"""Conditional GET for listing pages and feeds: remember ETag/Last-Modified, send them back next time.

A 304 answer means "same as last time": the spider then carries the previous run's links over instead of
re-reading the page (see crawler.crawl.snapshots.previous_links).
"""

from __future__ import annotations

import sqlite3

from crawler.items import utc_now


def request_headers(conn: sqlite3.Connection, url: str) -> dict[str, str]:
    """``If-None-Match`` / ``If-Modified-Since`` for ``url`` from what it answered last time."""
    row = conn.execute("SELECT etag, last_modified FROM http_validators WHERE url = ?", (url,)).fetchone()
    headers = {}
    if row and row["etag"]:
        headers["If-None-Match"] = row["etag"]
    if row and row["last_modified"]:
        headers["If-Modified-Since"] = row["last_modified"]
    return headers


def validators_of(headers) -> tuple[str | None, str | None]:
    """``(etag, last_modified)`` of a response's headers (Scrapy's Headers or a plain dict)."""

    def get(name: str) -> str | None:
        value = headers.get(name)
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        return value or None

    return get("ETag"), get("Last-Modified")


def save_validators(conn: sqlite3.Connection, url: str, etag: str | None, last_modified: str | None) -> None:
    """Store (or forget, when the server sent none) the validators of ``url``."""
    if not (etag or last_modified):
        conn.execute("DELETE FROM http_validators WHERE url = ?", (url,))
        return
    conn.execute(
        "INSERT INTO http_validators(url, etag, last_modified, checked_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified, "
        "checked_at = excluded.checked_at",
        (url, etag, last_modified, utc_now()),
    )
