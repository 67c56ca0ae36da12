"""When an article is due for a re-check: no earlier than ``recheck_interval_hours`` after it was last fetched,
by the crawl that stored it or by its last re-check. A rerun right after a run requests no article."""

from datetime import UTC, datetime, timedelta

from crawler import state
from crawler.lifecycle.recheck import due_articles
from crawler.lifecycle.settings import DEFAULTS
from crawler.localsite import write_loopback_config
from tests.alerting import article_page, listing_page, new_run, rows, store_article
from tests.sitesrv import Route

PARAS = [
    "The foreign minister arrived in Beijing on Monday for two days of talks with his counterpart.",
    "Officials said the talks would cover energy supplies, the situation in the region and a summit.",
    "The visit is the third this year, following meetings in Moscow in March and in Astana in July.",
]
ARTICLES = [f"/news/{n}.html" for n in range(1, 6)]
SECTION = "site/news"


def ago(**kw) -> str:
    return (datetime.now(UTC) - timedelta(**kw)).replace(microsecond=0).isoformat()


def article_requests(server) -> int:
    with server._lock:
        return sum(1 for _m, path, _s in server.log if path in ARTICLES)


def shift(out, table: str, column: str, hours: float) -> None:
    """Move a stored time back by ``hours``, as if that much time had passed since (same ISO-8601 UTC form)."""
    conn = state.connect(out)
    try:
        conn.execute(
            f"UPDATE {table} SET {column} = strftime('%Y-%m-%dT%H:%M:%S', {column}, ?) || '+00:00'",
            (f"-{hours * 3600:.0f} seconds",),
        )
    finally:
        conn.close()


def test_rerun_requests_no_article_until_the_interval_passes(tmp_path, site_server, newsmon):
    server = site_server
    # Articles without validators (no ETag, no Last-Modified), as many news sites serve them: a re-check of one
    # would be a full download, not a 304.
    for n, path in enumerate(ARTICLES, 1):
        server.routes[path] = Route(article_page(f"Story {n}", PARAS), conditional=False)
    server.routes["/news/"] = Route(listing_page([(path, f"Story {n}") for n, path in enumerate(ARTICLES, 1)]))
    out = tmp_path / "output"
    # [lifecycle] at its defaults: re-checks on, recheck_interval_hours 6.
    cfg = write_loopback_config(
        tmp_path / "newsmon.toml",
        [
            {
                "id": "site",
                "homepage": f"{server.url}/",
                "sections": [{"id": "news", "kind": "listing", "url": f"{server.url}/news/", "link_css": "div.item a"}],
            }
        ],
        crawler={"output_dir": str(out), "timeout": 30},
    )
    assert DEFAULTS["recheck_interval_hours"] == 6 and DEFAULTS["recheck_max"] > len(ARTICLES)

    def run(expected_article_requests: int) -> None:
        server.clear_log()
        proc = newsmon("run", "--config", str(cfg), timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert article_requests(server) == expected_article_requests, (server.log, proc.stdout, proc.stderr)

    run(len(ARTICLES))  # the first run stores them
    run(0)  # a rerun at once: stored seconds ago, nothing is due
    assert rows(out, "SELECT * FROM article_checks") == []

    # Five hours later: still within the interval of the first fetch.
    shift(out, "articles", "first_seen", 5)
    run(0)
    # Two more hours (7 since the first fetch): every article is re-checked, once.
    shift(out, "articles", "first_seen", 2)
    run(len(ARTICLES))
    checks = rows(out, "SELECT outcome FROM article_checks")
    assert [c["outcome"] for c in checks] == ["unchanged"] * len(ARTICLES)

    # The re-check is the last fetch now: a rerun right after it requests nothing…
    run(0)
    # …until the interval has passed since that re-check too.
    shift(out, "article_checks", "checked_at", 7)
    run(len(ARTICLES))


def test_due_articles_counts_the_first_fetch_as_a_check(tmp_path):
    out = tmp_path / "output"
    run_id = new_run(out)
    cases = {  # name: (first fetched, last re-checked or None, suspected gone?)
        "new": (ago(hours=1), None, False),  # fetched an hour ago: not due
        "aged": (ago(hours=7), None, False),  # fetched 7 h ago, never re-checked: due
        "fresh-check": (ago(days=2), ago(hours=1), False),
        "old-check": (ago(days=2), ago(hours=7), False),
        "suspect-fresh": (ago(days=2), ago(hours=1), True),
        "suspect-old": (ago(days=2), ago(hours=7), True),
    }
    ids = {}
    for name, (first_seen, checked_at, suspect) in cases.items():
        ids[name] = store_article(
            out, run_id, SECTION, f"http://site.test/news/{name}.html", name, PARAS, at=first_seen
        )
        conn = state.connect(out)
        try:
            if checked_at:
                conn.execute(
                    "INSERT INTO article_checks(article_id, checked_at, http_status, outcome) VALUES (?, ?, 200, ?)",
                    (ids[name], checked_at, "gone" if suspect else "unchanged"),
                )
            if suspect:
                conn.execute(
                    "INSERT INTO pending_deletions(article_id, checks, since, last_checked, cause, "
                    "http_status) VALUES (?, 1, ?, ?, 'HTTP 404', 404)",
                    (ids[name], checked_at, checked_at),
                )
        finally:
            conn.close()
    later_run = new_run(out)

    def due(**table) -> list[str]:
        conn = state.connect(out)
        try:
            found = due_articles(conn, later_run, {**DEFAULTS, **table})
        finally:
            conn.close()
        by_id = {v: k for k, v in ids.items()}
        return [by_id[r["id"]] for r in found]

    # Suspicions first, then never re-checked, then the longest unchecked.
    assert due() == ["suspect-old", "aged", "old-check"]
    assert due(recheck_interval_hours=0.5) == [
        "suspect-old",
        "suspect-fresh",
        "aged",
        "new",
        "old-check",
        "fresh-check",
    ]
    assert due(recheck_interval_hours=8) == []
    # The run that stored an article never re-checks it, whatever the interval.
    conn = state.connect(out)
    try:
        assert due_articles(conn, run_id, {**DEFAULTS, "recheck_interval_hours": 0}) == []
    finally:
        conn.close()
