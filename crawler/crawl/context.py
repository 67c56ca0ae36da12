"""The run a crawl belongs to, as the spiders and pipelines see it (from the NEWSMON_* settings).

``newsmon run`` passes its run id, day and output directory; a bare ``scrapy crawl`` has none, so the
crawl opens a run row of its own and closes it when the spider closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path


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
    if output_dir is None:
        from crawler.config import load_config

        output_dir = load_config(settings.get("NEWSMON_CONFIG")).output_dir
    output_dir = Path(output_dir)
    run_id = settings.get("NEWSMON_RUN_ID")
    owns = run_id is None
    if owns:
        run_id = start_run(output_dir)
    return RunInfo(output_dir, int(run_id), settings.get("NEWSMON_DAY") or date.today().isoformat(),
                   settings.getbool("NEWSMON_REFETCH"), owns)
