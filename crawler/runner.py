"""One cycle: crawl → post-crawl stages (translate, section lifecycle + alerts, digest).

This is the only module that starts Scrapy. A cycle is: open a run row, crawl every selected section
(Scrapy, in this process), then call each post-crawl stage in order. A stage that fails is logged and
recorded in the run summary; it never stops the stages after it.

Stage contract: ``stage(ctx: CycleContext) -> dict | None`` (a JSON-able summary for the run row).
"""

from __future__ import annotations

import importlib
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from crawler import state
from crawler.config import Config
from crawler.items import utc_now

log = logging.getLogger(__name__)

# Dotted paths "module:function", run in this order after the crawl.
POST_CRAWL_STAGES = [
    "crawler.translation.stage:run_stage",   # issue 3: translate pending zh/ru items
    "crawler.sections:run_stage",            # issue 4: section lifecycle, article re-checks, events
    "crawler.alerts:run_stage",              # issue 4: alerts.jsonl + Apprise delivery
    "crawler.digest:run_stage",              # issue 5: digest.txt / digest.html, search index
]


@dataclass
class CycleContext:
    """What a post-crawl stage gets: the config, the run, and the crawl's per-section report."""

    config: Config
    output_dir: Path
    run_id: int
    day: str                                   # YYYY-MM-DD of this run's items.jsonl
    crawl: dict[str, Any] = field(default_factory=dict)     # section key → counts/errors
    stages: dict[str, Any] = field(default_factory=dict)    # stage name → its summary

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
    conn = state.connect(output_dir)
    try:
        conn.execute("UPDATE runs SET finished_at=?, status=?, summary=? WHERE id=?",
                     (utc_now(), status, json.dumps(summary, ensure_ascii=False), run_id))
    finally:
        conn.close()


def run_stages(ctx: CycleContext, stages: list[str] = POST_CRAWL_STAGES) -> None:
    for dotted in stages:
        module_name, func_name = dotted.split(":")
        started = time.monotonic()
        try:
            func = getattr(importlib.import_module(module_name), func_name)
            ctx.stages[module_name] = func(ctx) or {}
        except Exception as exc:  # one failing stage never stops the others
            log.error("stage %s failed: %s: %s", module_name, type(exc).__name__, exc, exc_info=True)
            ctx.stages[module_name] = {"error": f"{type(exc).__name__}: {exc}"}
        log.info("stage %s took %.1f s", module_name, time.monotonic() - started)
