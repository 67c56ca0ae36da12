"""``newsmon schedule``: an APScheduler 3 ``BlockingScheduler`` that runs cycles by themselves.

* Each cycle is a fresh subprocess, ``python -m crawler run --source … --wait|--no-wait``: Twisted's
  reactor starts once per process, so ``ReactorNotRestartable`` cannot happen however long this runs.
  The subprocess takes the cycle lock (``crawler.ops.lock``), so a manual ``newsmon run`` never overlaps.
* One worker thread: cycles never overlap inside the scheduler either; a job that comes due while
  another cycle runs waits for it, within the misfire grace time, or is recorded as missed.
* Job state lives in the state DB (``schema/50-schedule.sql``), not in APScheduler's SQLAlchemy store:
  the jobs are rebuilt from the config on every start, and only ``next_run_at`` (plus the runs history)
  needs to survive. A restarted scheduler gives each job its stored next run time (or the scheduled time
  of a cycle that was interrupted), and APScheduler's misfire handling then runs it once, late, or
  records it as missed. (``SQLAlchemyJobStore`` + ``replace_existing=True`` would instead recompute the
  next run from "now" on every start, silently dropping the run missed while the scheduler was down, and
  would pickle our callables into the DB, and add SQLAlchemy as a dependency.)
* A failing cycle is logged and counted (``schedule_runs.status = 'failed'``); the scheduler goes on.
* SIGTERM/SIGINT: forwarded once to the running cycle (its own process group, so a terminal's Ctrl-C
  reaches it once, through us), whose Scrapy shutdown finishes the in-flight items; we wait for it
  (``stop_timeout_seconds``, then SIGKILL), record the run as interrupted and exit 0.
"""

from __future__ import annotations

import collections
import logging
import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from apscheduler.events import (
    EVENT_JOB_ADDED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    EVENT_SCHEDULER_STARTED,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler

from crawler import state
from crawler.ops import store
from crawler.ops.lock import LOCK_BUSY_EXIT
from crawler.ops.plan import PlannedJob, ScheduleSettings

log = logging.getLogger(__name__)
cycle_log = logging.getLogger("crawler.cycle")  # the relayed output of each cycle subprocess
TAIL_LINES = 15


class CycleProcess:
    """Runs one ``newsmon run`` subprocess at a time, relaying its output lines into our log."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._guard = threading.Lock()
        self.stop_signal: int | None = None

    def run(self, argv: list[str]) -> tuple[int, list[str]]:
        env = dict(os.environ, PYTHONUNBUFFERED="1", NEWSMON_LOG_RELAYED="1")
        with self._guard:
            if self.stop_signal is not None:
                return -self.stop_signal, ["not started: the scheduler is stopping"]
            self._proc = subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                text=True,
                errors="replace",
                start_new_session=True,
            )
        tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        assert self._proc.stdout is not None  # stdout=PIPE
        for line in self._proc.stdout:
            cycle_log.info("%s", line.rstrip())
            tail.append(line.rstrip())
        code = self._proc.wait()
        with self._guard:
            self._proc = None
        return code, list(tail)

    def forward(self, signum: int) -> bool:
        """Send ``signum`` to the running cycle; remember it so no new cycle starts. True if sent."""
        with self._guard:
            self.stop_signal = signum
            if self._proc is None or self._proc.poll() is not None:
                return False
            os.kill(self._proc.pid, signum)
            return True

    def kill(self) -> None:
        with self._guard:
            if self._proc is not None and self._proc.poll() is None:
                os.killpg(self._proc.pid, signal.SIGKILL)


class _CycleExecutor(ThreadPoolExecutor):
    """One worker; tells the daemon each submission's scheduled time (APScheduler 3 keeps it inside)."""

    def __init__(self, on_submit) -> None:
        super().__init__(max_workers=1)
        self._on_submit = on_submit

    def _do_submit_job(self, job, run_times):
        self._on_submit(job.id, run_times[-1])
        super()._do_submit_job(job, run_times)


class Daemon:
    """The long-running scheduler process."""

    def __init__(self, output_dir: Path, settings: ScheduleSettings, jobs: list[PlannedJob], run_argv) -> None:
        self.output_dir = output_dir
        self.settings = settings
        self.jobs = jobs
        self.run_argv = run_argv  # callable: (sections, wait) -> argv of one cycle
        self.cycle = CycleProcess()
        self.stopping = False
        self._scheduled: dict[str, datetime] = {}
        self._idle = threading.Event()
        self._idle.set()
        self.scheduler = BlockingScheduler(
            timezone=settings.timezone,
            executors={"default": _CycleExecutor(self._scheduled.__setitem__)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": settings.misfire_grace_seconds},
        )

    def run(self) -> int:
        started = store.process_started(self.output_dir)
        store.save_jobs(self.output_dir, [(j.job_id, j.sections) for j in self.jobs])
        self.scheduler.add_listener(
            self._on_event,
            EVENT_JOB_ADDED
            | EVENT_JOB_SUBMITTED
            | EVENT_JOB_MAX_INSTANCES
            | EVENT_JOB_MISSED
            | EVENT_SCHEDULER_STARTED,
        )
        for job in self.jobs:
            self._add(job)
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.scheduler.start()  # blocks until shutdown
            self._wait_for_cycle()
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
            store.process_stopped(self.output_dir, started)
        log.info("scheduler stopped")
        return 0

    def _add(self, job: PlannedJob) -> None:
        kwargs = {}
        resume = store.resume_time(self.output_dir, job.job_id)
        if resume is not None:
            kwargs["next_run_time"] = resume
        elif job.start_now:
            kwargs["next_run_time"] = datetime.now(UTC)
        self.scheduler.add_job(self._run_job, job.trigger, args=(job,), id=job.job_id, name=job.job_id, **kwargs)
        log.info(
            "scheduled %s for %s%s",
            job.job_id,
            ", ".join(job.sections),
            f" (resuming at {resume.isoformat()})" if resume else "",
        )

    # -- one cycle ---------------------------------------------------------------------------------
    def _run_job(self, job: PlannedJob) -> None:
        if self.stopping:
            return
        self._idle.clear()
        try:
            self._run_cycle(job)
        except Exception:  # never let one cycle's trouble stop the scheduler
            log.exception("scheduled cycle %s could not run", job.job_id)
        finally:
            self._idle.set()

    def _run_cycle(self, job: PlannedJob) -> None:
        scheduled = self._scheduled.pop(job.job_id, datetime.now(UTC))
        row = store.start_run(self.output_dir, job.job_id, scheduled)
        before = store.last_run_id(self.output_dir)
        log.info("cycle %s starting (%d sections)", job.job_id, len(job.sections))
        code, tail = self.cycle.run(self.run_argv(job.sections, self.settings.lock == "wait"))
        after = store.last_run_id(self.output_dir)
        run_id = after if after > before else None
        status = self._status(code, run_id)
        detail = None if status == "ok" else "\n".join(tail)
        store.finish_run(self.output_dir, row, status, code, run_id, detail)
        level = {"ok": logging.INFO, "interrupted": logging.WARNING, "skipped": logging.WARNING}.get(
            status, logging.ERROR
        )
        log.log(level, "cycle %s %s (exit status %s)", job.job_id, status, code)

    def _status(self, code: int, run_id: int | None) -> str:
        """interrupted (we were stopping) | skipped (lock held) | the run's own status | failed."""
        if self.stopping:
            return "interrupted"
        if code == LOCK_BUSY_EXIT:
            return "skipped"
        if run_id is not None and code in (0, 1):  # `newsmon run` finished: ok | errors | failed
            return store.run_status(self.output_dir, run_id) or "failed"
        return "ok" if code == 0 else "failed"

    # -- events and signals ------------------------------------------------------------------------
    def _on_event(self, event) -> None:
        if event.code == EVENT_SCHEDULER_STARTED:
            if self.stopping:  # a signal came before the scheduler ran
                self.scheduler.shutdown(wait=False)
            return
        if event.code == EVENT_JOB_MISSED:
            store.record_missed(
                self.output_dir,
                event.job_id,
                event.scheduled_run_time,
                f"missed by more than {self.settings.misfire_grace_seconds} s",
            )
            log.error("run of %s scheduled at %s was missed", event.job_id, event.scheduled_run_time)
            return
        job = self.scheduler.get_job(event.job_id)
        if job is not None:
            store.set_next_run(self.output_dir, job.id, job.next_run_time)

    def _on_signal(self, signum: int, _frame) -> None:
        name = signal.Signals(signum).name
        first = not self.stopping
        self.stopping = True
        sent = self.cycle.forward(signum)
        log.warning(
            "%s: %s%s",
            name,
            "stopping" if first else "stopping harder",
            "; the running cycle finishes its in-flight items" if sent and first else "",
        )
        if first:
            threading.Thread(target=self._shutdown, daemon=True).start()

    def _shutdown(self) -> None:
        try:
            self.scheduler.shutdown(wait=False)
        except SchedulerNotRunningError:
            pass  # not started yet: the STARTED listener stops it

    def _wait_for_cycle(self) -> None:
        if self._idle.wait(self.settings.stop_timeout_seconds):
            return
        log.error("the running cycle did not stop within %s s: killing it", self.settings.stop_timeout_seconds)
        self.cycle.kill()
        self._idle.wait()


def cycle_argv(config_path: str | None, output_dir: Path, verbose: int):
    """The argv builder of one cycle: ``python -m crawler run`` for the given sections."""

    def build(sections: tuple[str, ...], wait: bool) -> list[str]:
        argv = [
            sys.executable,
            "-m",
            "crawler",
            *(["-v"] * max(verbose, 1)),
            "run",
            "--output",
            str(output_dir),
            "--wait" if wait else "--no-wait",
        ]
        if config_path:
            argv += ["--config", str(config_path)]
        if state.database_url():  # the state in PostgreSQL: the cycle goes to `newsmon worker`s
            argv.append("--distributed")
        for key in sections:
            argv += ["--source", key]
        return argv

    return build
