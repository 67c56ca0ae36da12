"""One cycle: restore → crawl → post-crawl stages → day-file export.

This is the only module that starts Scrapy. A cycle is: open a run row; restore what an earlier run left
undone (temp files of killed processes swept, runs left ``running`` closed, day files the DB has items for
written); crawl every selected section (Scrapy, in this process); call each post-crawl stage of the feature
registry (``crawler.features``) in order; export the days whose items changed. A stage that fails is logged
and recorded in the run summary; it never stops the stages after it. A full disk stops storing at once and
ends the run ``failed`` with one line naming the path (``CycleResult.storage_error``).

Stage contract: ``stage(ctx: CycleContext) -> dict | None`` (a JSON-able summary for the run row).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy.utils.misc import load_object

from crawler import state
from crawler.config import Config, Section
from crawler.crawl.beside import INTERVAL_SECONDS as BESIDE_SECONDS
from crawler.crawl.beside import BesideCrawl
from crawler.exceptions import NewsmonError
from crawler.features import post_crawl_stages
from crawler.items import utc_now
from crawler.store import dayfiles
from crawler.store.diskspace import StorageError, is_disk_full

log = logging.getLogger(__name__)

# Dotted paths "module.function", run in this order after the crawl (the feature registry's order).
POST_CRAWL_STAGES = post_crawl_stages()


@dataclass
class CycleContext:
    """What a post-crawl stage gets: the config, the run, and the crawl's per-section report."""

    config: Config
    output_dir: Path
    run_id: int
    day: str  # YYYY-MM-DD of this run's items.jsonl
    crawl: dict[str, Any] = field(default_factory=dict)  # section key → counts/errors
    stages: dict[str, Any] = field(default_factory=dict)  # stage name → its summary
    seconds: dict[str, float] = field(default_factory=dict)  # step (restore, crawl, each stage, export) → wall s

    def timed(self, step: str, started: float) -> None:
        self.seconds[step] = round(time.monotonic() - started, 3)

    def db(self):
        return state.connect(self.output_dir)


def today() -> str:
    return date.today().isoformat()


def start_run(output_dir: Path) -> int:
    conn = state.connect(output_dir)
    try:
        cur = conn.execute("INSERT INTO runs(started_at) VALUES (?)", (utc_now(),))
        return int(cur.lastrowid)
    finally:
        conn.close()


def finish_run(output_dir: Path, run_id: int, status: str, summary: dict) -> None:
    """Record how the run ended. On a full disk this may fail too: logged, and the run row stays
    ``running`` for the next run to close as ``interrupted``."""
    try:
        conn = state.connect(output_dir)
        try:
            conn.execute(
                "UPDATE runs SET finished_at=?, status=?, summary=? WHERE id=?",
                (utc_now(), status, json.dumps(summary, ensure_ascii=False), run_id),
            )
        finally:
            conn.close()
    except (OSError, sqlite3.Error) as exc:
        log.error("could not record the end of run %s (%s): %s", run_id, status, exc)


def restore(output_dir: Path, run_id: int) -> None:
    """What earlier runs left undone: temp files of killed processes, runs left ``running``, day files
    missing what the DB holds (a kill, a full disk)."""
    dayfiles.sweep(output_dir)
    conn = state.connect(output_dir)
    try:
        from crawler.crawl.store import close_interrupted_runs

        interrupted = close_interrupted_runs(conn, run_id)
        if interrupted:
            log.warning("run(s) %s were interrupted; their stored items are kept", ", ".join(map(str, interrupted)))
        report = dayfiles.export_changed(conn, output_dir)
        if report.written:
            log.warning(
                "day file(s) %s written from the state DB (an earlier run could not finish them)",
                ", ".join(report.written),
            )
    finally:
        conn.close()


def export(output_dir: Path) -> dict:
    """Write the day files whose items changed, then drop the feed rows every reader has read (temp files
    were swept by ``restore``)."""
    return dayfiles.export_now(output_dir, sweep_first=False).as_dict()


def run_stages(ctx: CycleContext, stages: list[str] = POST_CRAWL_STAGES) -> None:
    for dotted in stages:
        module_name = dotted.rsplit(".", 1)[0]
        started = time.monotonic()
        try:
            ctx.stages[module_name] = load_object(dotted)(ctx) or {}
        except Exception as exc:  # one failing stage never stops the others
            # A full disk (the stage's files or the state DB) in one line, which the export at the end says
            # again; anything else with its traceback, for a bug report.
            full = isinstance(exc, StorageError) or is_disk_full(exc)
            why = str(exc) if full else f"{type(exc).__name__}: {exc}"
            log.error("stage %s failed: %s", module_name, why, exc_info=not full)
            ctx.stages[module_name] = {"error": f"{type(exc).__name__}: {exc}"}
        ctx.timed(module_name, started)
        log.info("stage %s took %.1f s", module_name, ctx.seconds[module_name])


# -- the crawl ---------------------------------------------------------------------------------------

SPIDER_CLASSES = {
    "listing": "spiders.listing.ListingSpider",
    "feed": "spiders.feed.FeedSpider",
    "sitemap": "spiders.sitemap.SitemapSpider",
}


@dataclass
class CycleResult:
    run_id: int
    day: str
    status: str  # ok | errors | failed | offline | interrupted
    output_dir: Path
    crawl: dict[str, dict]  # section key → counts and errors (SectionReport.as_dict)
    stages: dict[str, Any]
    storage_error: str | None = None  # what could not be written (a full disk): the run's last line

    @property
    def landed(self) -> int:
        return sum(r["landed"] for r in self.crawl.values())

    def errors_by_source(self) -> dict[str, list[str]]:
        """Source id → its sections' errors, each prefixed by the section id."""
        out: dict[str, list[str]] = defaultdict(list)
        for key, report in self.crawl.items():
            source, section = key.split("/", 1)
            out[source] += [f"{section}: {e}" for e in report["errors"]]
        return {k: v for k, v in out.items() if v}


def run_cycle(config: Config, source_ids: list[str] | None = None, refetch: bool = False) -> CycleResult:
    """One cycle: crawl the selected sections (Scrapy, in this process), then the post-crawl stages.

    Scrapy's reactor cannot be restarted, so this runs once per process (the scheduler starts one
    subprocess per cycle). ``refetch`` requests articles even when already stored."""
    from crawler.crawl import settings as scrapy_settings
    from crawler.crawl.store import storage_failure

    config = config.select(source_ids)
    scrapy_settings.crawler_table(config)  # a bad [crawler] table fails before a run is opened
    output_dir, day = config.output_dir, today()
    # A SIGTERM while the run's row is written is held (dying of it would leave the row 'running') and raised
    # once the run can be recorded as interrupted.
    held: list[int] = []
    previous = _on_sigterm(lambda signum, _frame: held.append(signum))
    try:
        run_id = start_run(output_dir)
    except (OSError, sqlite3.Error) as exc:
        _restore_sigterm(previous)
        raise NewsmonError(f"{output_dir}: cannot open the state database: {exc}") from None
    ctx = CycleContext(config, output_dir, run_id, day)
    status, storage_error = "failed", None
    _on_sigterm(_raise_interrupted)
    try:
        if held:
            raise CycleInterrupted(signal.Signals(held[0]).name)
        started = time.monotonic()
        restore(output_dir, run_id)
        ctx.timed("restore", started)
        settings = scrapy_settings.for_config(
            config, output_dir=str(output_dir), run_id=run_id, day=day, **({"refetch": True} if refetch else {})
        )
        started = time.monotonic()
        beside = BesideCrawl(output_dir, config)
        ctx.crawl, interrupted = crawl(config.sections, settings, beside)
        ctx.stages["beside_crawl"] = beside.finish()
        ctx.timed("crawl", started)
        _on_sigterm(_raise_interrupted)  # Scrapy's own handlers served the crawl; ours cover the stages again
        if storage_failure() is not None:
            raise storage_failure()
        if interrupted:
            status = "interrupted"
        else:
            run_stages(ctx)
            status = crawl_status(ctx.crawl, {s.key: s.url for s in config.sections})
        started = time.monotonic()
        ctx.stages["export"] = export(output_dir)
        ctx.timed("export", started)
    except StorageError as exc:  # a full disk: what is stored stays, the next run with space lands the rest
        status, storage_error = "failed", str(exc)
        ctx.stages["storage"] = {"error": storage_error}
    except KeyboardInterrupt:  # SIGINT, or SIGTERM outside the crawl (CycleInterrupted)
        status = "interrupted"
        raise
    finally:
        finish_run(output_dir, run_id, status, {"sections": ctx.crawl, "stages": ctx.stages, "seconds": ctx.seconds})
        _restore_sigterm(previous)
    return CycleResult(run_id, day, status, output_dir, ctx.crawl, ctx.stages, storage_error)


class CycleInterrupted(KeyboardInterrupt):
    """SIGTERM before or after the crawl (Scrapy handles it during the crawl). Unwinding through
    ``run_cycle`` records the run as interrupted instead of leaving a 'running' row behind."""


def _raise_interrupted(signum, _frame):
    raise CycleInterrupted(signal.Signals(signum).name)


def _on_sigterm(handler):
    """Handle SIGTERM with ``handler``; returns the previous handler (None off the main thread, where Python
    cannot set one)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, handler)


def _restore_sigterm(previous) -> None:
    if previous is not None:
        _on_sigterm(previous)


def crawl_status(crawl: dict[str, dict], urls: dict[str, str] | None = None) -> str:
    """ok: every section answered (links skipped alone leave it ok); offline: no host answered, every one
    failing at the network level (``crawler.lifecycle.offline``: the machine's failure, not the sections');
    failed: no section answered; errors: anything in between (or article failures). ``urls``: section key →
    entry URL, naming the hosts."""
    from crawler.lifecycle import offline

    if not crawl:
        return "ok"
    entry_failed = sum(1 for r in crawl.values() if r["entry_error"])
    if entry_failed == len(crawl):
        return "offline" if offline.verdict(crawl, urls or {}) is not None else "failed"
    return "errors" if entry_failed or any(r["failed"] for r in crawl.values()) else "ok"


def host_groups(sections: list[Section]) -> list[list[Section]]:
    """Sections that share a source or an entry-point host, in config order. A group is crawled one
    section after another, so a site never sees more than one request at a time (a source's feeds and
    listings often live on different hosts but link articles on the same ones); groups run side by side."""
    group_of: dict[str, int] = {}
    groups: list[list[Section]] = []
    for section in sections:
        keys = (f"source:{section.source_id}", f"host:{urlsplit(section.url).netloc.lower()}")
        found = sorted({group_of[k] for k in keys if k in group_of})
        if not found:
            groups.append([])
            found = [len(groups) - 1]
        target = found[0]
        for other in found[1:]:  # this section joins two groups: merge them
            groups[target] += groups[other]
            groups[other] = []
            group_of.update({k: target for k, g in group_of.items() if g == other})
        groups[target].append(section)
        group_of.update({k: target for k in keys})
    return [g for g in groups if g]


def crawl(sections: list[Section], settings: dict, beside: BesideCrawl | None = None) -> tuple[dict[str, dict], bool]:
    """Crawl ``sections`` with one CrawlerProcess, ``beside`` handing stage work to the extraction workers
    meanwhile; returns (per-section reports, interrupted?)."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.crawl.settings")
    from scrapy.crawler import CrawlerProcess
    from twisted.internet import defer

    from crawler.crawl.report import SectionReport
    from crawler.crawl.store import storage_failure

    class Process(CrawlerProcess):
        stopping = False

        def _signal_shutdown(self, signum, frame):  # SIGINT/SIGTERM: finish in-flight work, start nothing new
            Process.stopping = True
            super()._signal_shutdown(signum, frame)

    process = Process(dict(settings, LOG_INSTALL_ROOT_HANDLER=False))
    quiet_scrapy_logs()  # after Scrapy's own logging set-up, which resets logger levels
    reports = {s.key: SectionReport(s.key) for s in sections}

    @defer.inlineCallbacks
    def crawl_group(group: list[Section]):
        for section in group:
            report = reports[section.key]
            if Process.stopping:
                report.entry_failed("not crawled: the run was interrupted")
                continue
            if storage_failure() is not None:
                report.entry_failed("not crawled: storing stopped (disk full)", quiet=True)
                continue
            report.started = time.monotonic()
            try:
                yield process.crawl(spider_class(section), section=section, report=report)
            except Exception as exc:  # a spider that cannot even start fails its section only
                log.debug("crawl of %s failed to start", section.key, exc_info=True)
                report.entry_failed(f"crawl failed: {type(exc).__name__}: {exc}")
                report.finish()

    def start_groups():
        done = defer.DeferredList([crawl_group(g) for g in host_groups(sections)])
        done.addBoth(_stop_reactor)

    if sections:
        from scrapy.utils.reactor import install_reactor

        install_reactor(settings.get("TWISTED_REACTOR") or "twisted.internet.asyncioreactor.AsyncioSelectorReactor")
        from twisted.internet import reactor

        # Start the crawls once the reactor runs, so that even crawls failing at once stop it.
        reactor.callWhenRunning(start_groups)
        if beside is not None:
            from twisted.internet.task import LoopingCall

            ticks = LoopingCall(beside.tick)
            reactor.callWhenRunning(ticks.start, BESIDE_SECONDS, now=False)
        try:
            process.start(stop_after_crawl=False)
        finally:
            from crawler.extract.analysis import close_shared_pool

            close_shared_pool()  # extraction workers (and a beside-crawl task in flight: it ends first)
    return {k: r.as_dict() for k, r in reports.items()}, Process.stopping


def _stop_reactor(_result) -> None:
    """Stop the reactor once every group is done — unless a signal's graceful shutdown already is."""
    from twisted.internet import error, reactor

    try:
        reactor.stop()
    except error.ReactorNotRunning:
        pass


def spider_class(section: Section):
    """The generic spider of the section's kind, with the section's politeness overrides applied as
    per-crawler settings (Scrapy reads ``custom_settings`` when it builds the crawler)."""
    from scrapy.utils.misc import load_object

    base = load_object(SPIDER_CLASSES[section.kind])
    if section.download_delay is None:
        return base
    overrides = {"DOWNLOAD_DELAY": section.download_delay, "AUTOTHROTTLE_START_DELAY": section.download_delay}
    return type(base.__name__, (base,), {"custom_settings": overrides})


def quiet_scrapy_logs() -> None:
    """Scrapy's own lines repeat what the spiders report as one warning per problem (retries, robots.txt
    fetch errors, ignored HTTP statuses, with tracebacks): hide those unless debugging (-vv)."""
    if logging.getLogger().getEffectiveLevel() <= logging.DEBUG:
        return
    for noisy in (
        "scrapy.downloadermiddlewares.retry",
        "scrapy.downloadermiddlewares.robotstxt",
        "scrapy.spidermiddlewares.httperror",
    ):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    # Scrapy's progress lines (INFO) only when the user asked for -v.
    verbose = any(h.level <= logging.INFO for h in logging.getLogger().handlers if not _is_file(h))
    logging.getLogger("scrapy").setLevel(logging.INFO if verbose else logging.WARNING)
    # Per-crawler set-up dumps (middleware lists, settings, stats: ~60 lines per section) only at -vv.
    for setup in ("scrapy.statscollectors", "scrapy.middleware", "scrapy.addons", "scrapy.crawler", "scrapy.utils.log"):
        logging.getLogger(setup).setLevel(logging.WARNING)


def _is_file(handler: logging.Handler) -> bool:
    return isinstance(handler, logging.FileHandler)
