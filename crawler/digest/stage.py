"""The daily digest: ``output/<day>/digest.txt`` (for grep) and ``digest.html`` (to read), and the search index.

``run_stage`` is the post-crawl stage (last in ``crawler.runner.POST_CRAWL_STAGES``): it brings the
archive search index up to date, then writes the day's digest from the stored data and the live crawl
report. ``build`` does the same for any day (``newsmon digest --date D``). Both files are written
atomically, so a reader (or an e-mail job) never sees half a digest.

The run's own day keeps its digest plain, for grep and the browser. The digests of earlier days are
gzipped by the stage (``digest.txt.gz``, ``digest.html.gz``: ``zgrep term output/*/digest.txt*`` searches
every day, plain or not): they repeat the day file's text (the HTML holds every paragraph, original and
English), a fifth of it once gzipped. A day whose digest is still to be sent to a channel stays plain until it
is (``crawler.digest.mail`` sends it from its file), and ``newsmon digest --date D`` writes a day plain again.
"""

from __future__ import annotations

import gzip
import logging
import re
import sqlite3
from pathlib import Path

from crawler import state
from crawler.config import Config
from crawler.digest import html as digest_html
from crawler.digest import mail, search
from crawler.digest import text as digest_text
from crawler.digest.data import load_day, summary_counts
from crawler.digest.settings import settings
from crawler.items import utc_now
from crawler.lifecycle import diffview
from crawler.store.diskspace import StorageError, write_atomic

log = logging.getLogger(__name__)


def build(
    output_dir: str | Path,
    day: str,
    config: Config | None = None,
    *,
    crawl: dict | None = None,
    run_id: int | None = None,
    conn=None,
) -> dict:
    """Write ``<output_dir>/<day>/digest.txt`` (and ``.html``). Returns a summary with the paths."""
    output_dir = Path(output_dir)
    opts = settings(config)
    own = conn is None
    conn = conn or state.connect(output_dir)
    try:
        data = load_day(conn, output_dir, day, config, crawl=crawl, run_id=run_id)
    finally:
        if own:
            conn.close()
    folder = output_dir / day
    folder.mkdir(parents=True, exist_ok=True)
    generated = utc_now()
    for name in DIGEST_FILES:  # an earlier copy, gzipped: the plain file written now replaces it
        (folder / f"{name}.gz").unlink(missing_ok=True)
    paths = [folder / "digest.txt"]
    write_atomic(paths[0], digest_text.render(data, opts.paragraphs, generated).encode("utf-8"))
    if opts.html:
        paths.append(folder / "digest.html")
        write_atomic(paths[1], digest_html.render(data, opts.paragraphs, generated).encode("utf-8"))
    # the pages the edit blocks link (output/diffs/), rewritten when a version's English has arrived since
    diffview.write_pages(output_dir, [diff for diff in data.edits.values() if diff.complete])
    log.info(
        "digest %s: %d items, %d alerts, %d sections in trouble",
        day,
        len(data.items),
        len(data.alerts),
        len(data.trouble),
    )
    return {**summary_counts(data), "paths": [str(p) for p in paths]}


def run_stage(ctx) -> dict:
    """Post-crawl stage: write the day's digest, bring the search index up to date, then send the digest to
    the channels that want it (``crawler.digest.mail``; a failed send never fails the stage).

    A failing index never costs the digest: it is logged and reported in the stage summary (the items
    stay unread on the item change feed; ``newsmon search --rebuild`` repairs a damaged index)."""
    opts = settings(ctx.config)
    conn = ctx.db()
    try:
        summary = build(ctx.output_dir, ctx.day, ctx.config, crawl=ctx.crawl, run_id=ctx.run_id, conn=conn)
        if opts.search_index:
            try:
                summary["indexed"] = search.update_index(conn)
            except sqlite3.DatabaseError as exc:
                log.error("search index update failed: %s (run `newsmon search --rebuild`)", exc)
                summary["index_error"] = f"{type(exc).__name__}: {exc}"
        else:  # no index kept: the feed is read past, so it can be pruned (`search --rebuild` catches up)
            search.skip_changes(conn)
        summary["mailed"] = mail.deliver(conn, ctx.config, ctx.output_dir, ctx.day, summary)
        try:
            summary["gzipped"] = gzip_old_digests(conn, ctx.output_dir, ctx.day)
        except (OSError, StorageError) as exc:  # the plain files stay: the next run tries again
            log.warning("digests of earlier days not gzipped: %s", exc)
    finally:
        conn.close()
    return summary


DIGEST_FILES = ("digest.txt", "digest.html")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def gzip_old_digests(conn: sqlite3.Connection, output_dir: str | Path, today: str) -> int:
    """Gzip the plain digests of the days before ``today`` (each written whole, then the plain file removed),
    except those a channel has still to be sent. Returns the files gzipped."""
    waiting = {r[0] for r in conn.execute("SELECT DISTINCT day FROM digest_deliveries WHERE status != 'delivered'")}
    done = 0
    for name in DIGEST_FILES:
        for plain in Path(output_dir).glob(f"*/{name}"):
            day = plain.parent.name
            if not _DAY.match(day) or day >= today or day in waiting:
                continue
            write_atomic(plain.with_name(f"{name}.gz"), gzip.compress(plain.read_bytes(), compresslevel=9, mtime=0))
            plain.unlink()
            done += 1
    if done:
        log.info("digests of earlier days: %d file(s) gzipped", done)
    return done
