"""The run a crawl belongs to, as the spiders and pipelines see it (from the NEWSMON_* settings).

``newsmon run`` passes its run id, day and output directory; a bare ``scrapy crawl`` has none, so the
crawl opens a run row of its own and closes it when the spider closes. A bare ``scrapy crawl`` is a debugging
crawl: it writes to a new scratch directory (``scratch_output``), never into the archive, where it would count
as a run and its items as news, unless ``-s NEWSMON_OUTPUT_DIR=DIR`` names one.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass
class RunInfo:
    output_dir: Path
    run_id: int
    day: str
    refetch: bool = False
    owns_run: bool = False

    def close(self) -> None:
        if self.owns_run:
            from crawler.runner import finish_run

            finish_run(self.output_dir, self.run_id, "ok", {"note": "bare scrapy crawl"})
            self.owns_run = False


def from_settings(settings) -> RunInfo:
    from crawler.runner import start_run

    output_dir = settings.get("NEWSMON_OUTPUT_DIR")
    run_id = settings.get("NEWSMON_RUN_ID")
    if output_dir is None and run_id is None:
        output_dir = scratch_output()
    elif output_dir is None:
        from crawler.config import load_config

        output_dir = load_config(settings.get("NEWSMON_CONFIG")).output_dir
    output_dir = Path(output_dir)
    owns = run_id is None
    if owns:
        run_id = start_run(output_dir)
    return RunInfo(
        output_dir,
        int(run_id),
        settings.get("NEWSMON_DAY") or date.today().isoformat(),
        settings.getbool("NEWSMON_REFETCH"),
        owns,
    )


def scratch_output() -> Path:
    """A new directory for a bare ``scrapy crawl`` (under the system's temporary directory), named in the log."""
    folder = Path(tempfile.mkdtemp(prefix="newsmon-scrapy-"))
    log.warning(
        "a bare scrapy crawl is a debugging crawl: it writes to %s, not to your archive "
        "(-s NEWSMON_OUTPUT_DIR=DIR to choose the directory)",
        folder,
    )
    return folder
