"""The cycle job's steps: wait for the crawl jobs, send the translation batches, wait, close the cycle.

Why a job that looks again rather than procrastinate's own mechanism: procrastinate has no dependencies
between jobs, and a job that counted down "groups left" as each crawl ended would miss a crawl job that
failed for good (its count never comes). The cycle job instead reads the state of the cycle's jobs in the
queue: any still ``todo`` or ``doing``, it defers itself again ``POLL_SECONDS`` later and ends (no worker is
held while it waits); once none is, the next step. A crawl job that failed for good leaves its sections
without a report: they are recorded as failed in the run (``no crawl report``), and the cycle goes on.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from crawler import state
from crawler.config import Config
from crawler.crawl.report import SectionReport
from crawler.jobs.queue import POLL_SECONDS, STALLED_AFTER_SECONDS
from crawler.runner import POST_CRAWL_STAGES, CycleContext, crawl_status, export, finish_run, run_stages

log = logging.getLogger(__name__)
TRANSLATION_STAGE = "crawler.translation.stage.run_stage"
UNFINISHED = "SELECT count(*) AS n FROM procrastinate_jobs WHERE id = ANY(%(ids)s) AND status IN ('todo', 'doing')"
NO_REPORT = "no crawl report: its crawl job failed, or a job of an earlier cycle for the same hosts was still queued"


async def retry_stalled(app: Any) -> int:
    """Put the ``doing`` jobs of workers without a recent heartbeat back in the queue; how many."""
    stalled = list(await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_SECONDS))
    for job in stalled:
        log.warning("job %s (%s) of a worker that stopped answering goes back to the queue", job.id, job.task_name)
        await app.job_manager.retry_job(job)
    await app.job_manager.prune_stalled_workers(STALLED_AFTER_SECONDS)
    return len(stalled)


async def unfinished(app: Any, job_ids: list[int]) -> int:
    if not job_ids:
        return 0
    row = await app.connector.execute_query_one_async(UNFINISHED, ids=job_ids)
    return int(row["n"])


async def close_step(
    app: Any,
    config: Config,
    run_id: int,
    day: str,
    sections: list[str],
    crawl_jobs: list[int],
    translation_jobs: list[int] | None,
) -> None:
    """One look at the cycle: wait, translate or close (see the module's docstring)."""
    await retry_stalled(app)
    args = {
        "run_id": run_id,
        "day": day,
        "sections": sections,
        "crawl_jobs": crawl_jobs,
        "translation_jobs": translation_jobs,
    }
    if await unfinished(app, crawl_jobs) or await unfinished(app, translation_jobs or []):
        await again(app, args)
        return
    if translation_jobs is None:
        batches = await asyncio.to_thread(translation_batches, config)
        if batches:
            deferrer = app.configure_task("newsmon:translate_batch")
            ids = [await deferrer.defer_async(item_ids=batch) for batch in batches]
            log.info("run %s: %d translation batch(es) queued", run_id, len(ids))
            await again(app, {**args, "translation_jobs": ids})
            return
    try:
        await asyncio.to_thread(close, config, run_id, day, sections, translation_jobs or [])
    except Exception as exc:  # the run is closed whatever happens: `run --distributed` waits for that
        log.error("run %s: closing the cycle failed: %s: %s", run_id, type(exc).__name__, exc, exc_info=True)
        finish_run(
            config.output_dir,
            run_id,
            "failed",
            {"stages": {"close": {"error": f"{type(exc).__name__}: {exc}"}}, "distributed": True},
        )


async def again(app: Any, args: dict) -> None:
    await app.configure_task("newsmon:close_cycle", schedule_in={"seconds": POLL_SECONDS}).defer_async(**args)


def translation_batches(config: Config) -> list[list[str]]:
    """The pending items of languages with an installed model, in batches of ``items_per_chunk``."""
    from crawler.jobs.translate import workable_items
    from crawler.translation.settings import settings_of

    settings = settings_of(config)
    if not settings.enabled:
        return []
    ids = [item["id"] for _day, item in workable_items(settings, config.output_dir)]
    size = settings.items_per_chunk
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def close(config: Config, run_id: int, day: str, sections: list[str], translation_jobs: list[int]) -> None:
    """The post-crawl stages (translation done by its jobs), the export, the run's status."""
    selected = config.select(sections)
    ctx = CycleContext(selected, config.output_dir, run_id, day)
    ctx.crawl = crawl_reports(config, run_id, sections)
    ctx.stages["crawler.translation.stage"] = translation_summary(config, translation_jobs)
    run_stages(ctx, [s for s in POST_CRAWL_STAGES if s != TRANSLATION_STAGE])
    ctx.stages["export"] = export(config.output_dir)
    status = crawl_status(ctx.crawl, {s.key: s.url for s in selected.sections})
    finish_run(
        config.output_dir,
        run_id,
        status,
        {"sections": ctx.crawl, "stages": ctx.stages, "seconds": ctx.seconds, "distributed": True},
    )
    log.info("run %s: %s", run_id, status)


def crawl_reports(config: Config, run_id: int, sections: list[str]) -> dict[str, dict]:
    """Section key → its report, from what the cycle's crawl jobs stored; a section without one failed."""
    conn = state.connect(config.output_dir)
    try:
        rows = conn.execute("SELECT reports FROM cycle_crawls WHERE run_id = ?", (run_id,)).fetchall()
    finally:
        conn.close()
    reports: dict[str, dict] = {}
    for row in rows:
        reports.update(json.loads(row["reports"]))
    for key in sections:
        if key not in reports:
            missing = SectionReport(key)
            missing.entry_failed(NO_REPORT)
            missing.finish()
            reports[key] = missing.as_dict()
    return {key: reports[key] for key in sections}


def translation_summary(config: Config, translation_jobs: list[int]) -> dict:
    from crawler.translation.settings import settings_of
    from crawler.translation.stage import model_work

    settings = settings_of(config)
    if not settings.enabled:
        return {"enabled": False}
    return {"batches": len(translation_jobs), "pending": sum(model_work(settings, config.output_dir).values())}
