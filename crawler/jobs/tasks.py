"""The jobs newsmon puts on the queue (a procrastinate blueprint, registered as ``newsmon:<name>``).

Each job gets the worker's config through procrastinate's job context (``newsmon worker`` passes it as
additional context): jobs carry section keys, item ids and run numbers, never paths, so workers on other
machines use their own config file and their own mount of the shared output directory.
"""

from __future__ import annotations

import asyncio
import logging

from procrastinate import Blueprint, JobContext, RetryStrategy

from crawler.jobs import crawljob, cycle, translate
from crawler.jobs.queue import RETRY_STALLED_CRON

log = logging.getLogger(__name__)
blueprint = Blueprint()

# A crawl or translation job whose process fails (a crash, a full disk) is tried once more, later.
RETRY_ONCE = RetryStrategy(max_attempts=2, wait=5)


def _worker(context: JobContext) -> dict:
    return context.additional_context


@blueprint.task(name="crawl_group", queue="crawl", pass_context=True, retry=RETRY_ONCE)
async def crawl_group(
    context: JobContext, run_id: int, day: str, lock: str, sections: list[str], refetch: bool = False
) -> None:
    """Crawl one host group's sections, one after another, in a crawl process of their own."""
    worker = _worker(context)
    await crawljob.crawl_apart(
        worker["config_path"], worker["output_dir"], run_id, day, lock, sections, refetch, worker["level"]
    )


@blueprint.task(name="translate_batch", queue="translation", pass_context=True, retry=RETRY_ONCE)
async def translate_batch(context: JobContext, item_ids: list[str]) -> None:
    """Translate these pending items (a batch of the cycle's), with this worker's loaded models."""
    summary = await asyncio.get_running_loop().run_in_executor(
        translate.EXECUTOR, translate.translate_items, _worker(context)["config"], item_ids
    )
    log.info("translated a batch of %d item(s): %s", len(item_ids), summary)


@blueprint.task(name="close_cycle", queue="crawl", pass_context=True)
async def close_cycle(
    context: JobContext,
    run_id: int,
    day: str,
    sections: list[str],
    crawl_jobs: list[int],
    translation_jobs: list[int] | None = None,
) -> None:
    """Once every crawl job of the cycle ended: the translation batches; once those ended: the other stages
    and the export. Until then it looks again a little later (a new job, so no worker waits on it)."""
    await cycle.close_step(context.app, _worker(context)["config"], run_id, day, sections, crawl_jobs, translation_jobs)


@blueprint.periodic(cron=RETRY_STALLED_CRON)
@blueprint.task(name="retry_stalled", queue="crawl", queueing_lock="retry_stalled", pass_context=True)
async def retry_stalled(context: JobContext, timestamp: int) -> None:
    """Jobs of workers that stopped sending heartbeats (killed, their machine down) back to the queue."""
    await cycle.retry_stalled(context.app)
