"""One crawl job's work: its host group crawled in a process of its own, its reports stored for the cycle.

A process per job because Twisted's reactor starts once per process (as the scheduler's cycles are
subprocesses). The process dies with its worker (``PR_SET_PDEATHSIG``): a worker killed mid-crawl leaves
no crawl behind it still requesting from the host while another worker takes the job over.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import logging
import os
import signal
import sys
from pathlib import Path

from crawler.exceptions import NewsmonError
from crawler.items import utc_now

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1
SAVE_REPORTS = (
    "INSERT INTO cycle_crawls(run_id, group_key, reports, finished_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT(run_id, group_key) DO UPDATE SET reports = excluded.reports, "
    "finished_at = excluded.finished_at"
)


class CrawlProcessFailed(NewsmonError):
    """The crawl process of a job ended without storing its reports (the job fails; procrastinate retries)."""


async def crawl_apart(
    config_path: str | None,
    output_dir: str,
    run_id: int,
    day: str,
    lock: str,
    sections: list[str],
    refetch: bool,
    level: int,
) -> None:
    request = {
        "config": config_path,
        "output_dir": str(output_dir),
        "run_id": run_id,
        "day": day,
        "lock": lock,
        "sections": sections,
        "refetch": refetch,
        "level": level,
    }
    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r}); "
        "from crawler.jobs.crawljob import child_main; child_main()"
    )
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, json.dumps(request), stdin=asyncio.subprocess.DEVNULL
    )
    try:
        returncode = await child.wait()
    except asyncio.CancelledError:  # the worker stops: its crawl stops with it
        child.terminate()
        await child.wait()
        raise
    if returncode != 0:
        raise CrawlProcessFailed(f"crawl of {', '.join(sections)} ended with exit status {returncode}")


def die_with_parent() -> None:
    """Linux: SIGKILL this process when the worker that started it dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the crawl ends by itself
        return
    if os.getppid() == 1:  # the worker died before prctl took effect
        os._exit(1)


def child_main() -> None:
    """The crawl process: ``argv[1]`` = the request as JSON."""
    die_with_parent()
    request = json.loads(sys.argv[1])
    logging.basicConfig(level=request["level"], format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.exit(crawl_group(request))


def crawl_group(request: dict) -> int:
    from crawler import runner
    from crawler.config import load_config
    from crawler.crawl import settings as scrapy_settings
    from crawler.crawl.store import storage_failure

    config = load_config(request["config"], output_dir=request["output_dir"]).select(request["sections"])
    settings = scrapy_settings.for_config(
        config,
        output_dir=str(config.output_dir),
        run_id=request["run_id"],
        day=request["day"],
        **({"refetch": True} if request["refetch"] else {}),
    )
    reports, interrupted = runner.crawl(config.sections, settings)
    if storage_failure() is not None:
        log.error("%s", storage_failure())
        return 3
    if interrupted:
        return 4
    save_reports(config.output_dir, request["run_id"], request["lock"], reports)
    return 0


def save_reports(output_dir: str | Path, run_id: int, lock: str, reports: dict) -> None:
    from crawler import state

    conn = state.connect(output_dir)
    try:
        conn.execute(SAVE_REPORTS, (run_id, lock, json.dumps(reports, ensure_ascii=False), utc_now()))
    finally:
        conn.close()
