"""`newsmon schedule` for real: a scheduler process, cycles as subprocesses against the loopback site,
real signals, real SQLite. A seconds-level trigger (`--every`) stands in for the nightly cron."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler import state
from crawler.config import load_config
from crawler.exceptions import ConfigError
from crawler.ops.lock import CycleLock, current_holder
from crawler.ops.plan import load_settings, plan_jobs
from tests.conftest import run_newsmon
from tests.schedsite import (
    ARTICLE_IDS,
    LISTING,
    ROOT,
    db_ids,
    hold_lock,
    jsonl_ids,
    make_config,
    query,
    release,
    serve_site,
)
from tests.sitesrv import Route


def start_scheduler(cfg: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "crawler", "schedule", "--config", str(cfg), "--output", str(out), *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 60) -> tuple[int, str]:
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=timeout)
    return proc.returncode, out


def wait_for(predicate, proc: subprocess.Popen, timeout: float = 60, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc.poll() is not None:
            raise AssertionError(f"scheduler exited ({proc.returncode}) before {what}:\n{proc.stdout.read()}")
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"timed out waiting for {what}:\n{proc.communicate()[0]}")


def finished_runs(out: Path) -> list[tuple]:
    try:
        return query(
            out, "SELECT status, scheduler_pid, run_id FROM schedule_runs WHERE finished_at IS NOT NULL ORDER BY id"
        )
    except sqlite3.OperationalError:  # the scheduler has not created its tables yet
        return []


def assert_consistent(out: Path) -> set[str]:
    """No partial or duplicated JSONL line; the JSONL, items and articles hold the same ids."""
    lines = jsonl_ids(out)
    assert len(lines) == len(set(lines)), "duplicated JSONL line"
    items, articles = db_ids(out)
    assert set(lines) == items == articles
    return set(lines)


# -- the plan ------------------------------------------------------------------------------------------


def test_sections_sharing_a_schedule_share_one_job_and_zones_apply(tmp_path):
    cfg = tmp_path / "plan.toml"
    sections = [("a", None), ("b", "0 */2 * * *"), ("c", "0 16 * * * Asia/Shanghai"), ("d", None)]
    cfg.write_text(
        'replace_default_sources = true\n[schedule]\ntimezone = "Europe/Moscow"\n'
        '[[sources]]\nid = "s"\n'
        + "".join(
            f'[[sources.sections]]\nid = "{sid}"\nkind = "feed"\nurl = "http://127.0.0.1/{sid}"\n'
            + (f'cron = "{cron}"\n' if cron else "")
            for sid, cron in sections
        ),
        encoding="utf-8",
    )
    config = load_config(cfg)
    jobs = {j.job_id: j for j in plan_jobs(config, load_settings(config))}
    assert {k: v.sections for k, v in jobs.items()} == {
        "cron 0 2 * * * Europe/Moscow": ("s/a", "s/d"),
        "cron 0 */2 * * * Europe/Moscow": ("s/b",),
        "cron 0 16 * * * Asia/Shanghai": ("s/c",),
    }
    noon = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    nightly = jobs["cron 0 2 * * * Europe/Moscow"].trigger.get_next_fire_time(None, noon)
    beijing = jobs["cron 0 16 * * * Asia/Shanghai"].trigger.get_next_fire_time(None, noon)
    assert nightly.astimezone(UTC) == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert beijing.astimezone(UTC) == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def test_a_bad_cron_names_its_section(tmp_path, newsmon):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(
        'replace_default_sources = true\n[[sources]]\nid = "s"\n[[sources.sections]]\nid = "x"\n'
        'kind = "feed"\nurl = "http://127.0.0.1/x"\ncron = "0 25 * * *"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="section s/x: cron"):
        plan_jobs(load_config(cfg), load_settings(load_config(cfg)))
    proc = newsmon("schedule", "--dry-run", "--config", str(cfg))
    assert proc.returncode == 2 and "s/x" in proc.stderr and "Traceback" not in proc.stderr


# -- the daemon ----------------------------------------------------------------------------------------


def test_three_cycles_in_one_scheduler_process_and_a_failing_one_does_not_stop_it(tmp_path, site_server):
    serve_site(site_server)
    site_server.routes[LISTING] = Route(b"<html><body>down</body></html>", status=500)
    out = tmp_path / "out"
    cfg = make_config(tmp_path, site_server)
    proc = start_scheduler(cfg, out, "--every", "1")
    wait_for(lambda: len(finished_runs(out)) >= 1, proc, what="the first (failing) cycle")
    serve_site(site_server)  # the site is back
    runs = wait_for(
        lambda: sum(r[0] == "ok" for r in finished_runs(out)) >= 2 and finished_runs(out),
        proc,
        what="two good cycles after the failing one(s)",
    )
    statuses = [r[0] for r in runs]
    failed = statuses.index("ok")  # ≥ 1: the cycle(s) that ran while the site was down
    second = run_newsmon("schedule", "--config", str(cfg), "--output", str(out), "--every", "1")
    assert second.returncode == 2 and f"another scheduler is running on {out} (pid {proc.pid}" in second.stderr
    status = json.loads(run_newsmon("status", "--json", "--config", str(cfg), "--output", str(out)).stdout)
    assert status["scheduler"]["running"] and status["scheduler"]["pid"] == proc.pid
    assert status["scheduler"]["jobs"][0]["job_id"] == "every 1s"
    assert status["scheduler"]["last_7_days"]["failed"] == failed
    code, log = stop(proc, signal.SIGINT)  # Ctrl-C stops it as cleanly as SIGTERM
    assert code == 0, log
    assert failed >= 1 and statuses == ["failed"] * failed + ["ok", "ok"], log
    assert {r[1] for r in runs} == {proc.pid}  # one scheduler process ran them all
    assert len({r[2] for r in runs}) == len(runs) >= 3  # separate cycles (runs rows)
    assert "ReactorNotRestartable" not in log and "Traceback" not in log
    assert len(assert_consistent(out)) == len(jsonl_ids(out)) == len(ARTICLE_IDS)  # landed once
    assert query(out, "SELECT stopped_at IS NOT NULL FROM scheduler_processes") == [(1,)]
    logfile = (out / "logs" / "newsmon.log").read_text(encoding="utf-8")
    assert "crawler.cycle" in logfile and "kremlin/news" in logfile  # cycle output relayed into the log


def test_sigterm_mid_cycle_leaves_consistent_output_and_a_restart_completes_the_work(tmp_path, site_server):
    ids = serve_site(site_server, copies=3, delay=0.3)  # slow articles: SIGTERM lands mid-crawl
    cfg = make_config(tmp_path, site_server).read_text(encoding="utf-8")
    cfg_path = tmp_path / "slow.toml"
    cfg_path.write_text(cfg.replace("concurrent_per_domain = 4", "concurrent_per_domain = 1"), encoding="utf-8")
    out = tmp_path / "out"
    proc = start_scheduler(cfg_path, out, "--every", "600")  # a first run at once, the next in 10 min
    wait_for(lambda: len(jsonl_ids(out)) >= 2, proc, what="the first items")
    code, log = stop(proc)
    assert code == 0, log
    landed = assert_consistent(out)
    assert 2 <= len(landed) < len(ids), log
    assert query(out, "SELECT status FROM runs") == [("interrupted",)]
    assert [r[0] for r in finished_runs(out)] == ["interrupted"]
    assert current_holder(out) is None
    with CycleLock(out):  # released
        pass

    serve_site(site_server, copies=3)  # fast again
    proc = start_scheduler(cfg_path, out, "--every", "600")  # the restart resumes the interrupted run
    wait_for(lambda: len(finished_runs(out)) >= 2, proc, timeout=60, what="the resumed cycle")
    code, log = stop(proc)
    assert code == 0, log
    assert [r[0] for r in finished_runs(out)] == ["interrupted", "ok"], log
    scheduled = query(out, "SELECT scheduled_for FROM schedule_runs ORDER BY id LIMIT 2")
    assert scheduled[0] == scheduled[1]  # the same run time, run again after the restart
    final = assert_consistent(out)
    assert landed < final and len(final) == len(jsonl_ids(out)) == len(ids)


def test_a_second_run_waits_or_exits_naming_the_holder(tmp_path, site_server, newsmon):
    serve_site(site_server)
    cfg, out = make_config(tmp_path, site_server), tmp_path / "out"
    holder = hold_lock(out, 2)
    refused = newsmon("run", "--config", str(cfg), "--output", str(out), "--no-wait")
    assert refused.returncode == 75
    assert f"pid {holder.pid}" in refused.stderr and "Traceback" not in refused.stderr
    started = time.monotonic()
    waited = newsmon("run", "--config", str(cfg), "--output", str(out), "--wait")
    assert waited.returncode == 0, waited.stderr
    assert release(holder) == 0
    assert time.monotonic() - started >= 1.0
    assert len(jsonl_ids(out)) == len(ARTICLE_IDS)


def test_a_restart_runs_what_was_missed_within_the_grace_time_and_records_the_rest(tmp_path, site_server):
    serve_site(site_server)
    cfg = make_config(
        tmp_path,
        site_server,
        extra='cron = "0 0 1 1 *"\n[[sources.sections]]\nid = "again"\n'
        f'kind = "listing"\nurl = "{site_server.url}{LISTING}"\nlink_pattern = "/news/\\\\d+$"\n'
        'cron = "0 0 2 1 *"\n',
    )
    out = tmp_path / "out"
    now = datetime.now(UTC)
    due, too_late = (now - timedelta(seconds=30)).isoformat(), (now - timedelta(hours=2)).isoformat()
    with closing(state.connect(out)) as conn:  # what a scheduler stopped before these runs left behind
        conn.executemany(
            "INSERT INTO schedule_jobs(job_id, sections, next_run_at, updated_at) VALUES (?,?,?,?)",
            [
                ("cron 0 0 1 1 * UTC", '["kremlin/news"]', due, due),
                ("cron 0 0 2 1 * UTC", '["kremlin/again"]', too_late, too_late),
            ],
        )
    proc = start_scheduler(cfg, out)
    wait_for(lambda: len(finished_runs(out)) >= 2, proc, what="the missed runs")
    code, log = stop(proc)
    assert code == 0, log
    rows = query(out, "SELECT job_id, scheduled_for, status FROM schedule_runs ORDER BY job_id")
    assert rows == [("cron 0 0 1 1 * UTC", due, "ok"), ("cron 0 0 2 1 * UTC", too_late, "missed")]
    nxt = dict(query(out, "SELECT job_id, next_run_at FROM schedule_jobs"))
    assert nxt["cron 0 0 1 1 * UTC"].startswith(f"{now.year + 1}-01-01T00:00:00")
    assert nxt["cron 0 0 2 1 * UTC"].startswith(f"{now.year + 1}-01-02T00:00:00")


def test_a_cycle_that_does_not_stop_in_time_is_killed_and_the_next_run_repairs(tmp_path, site_server):
    ids = serve_site(site_server, delay=6.0)  # a download outlasts the stop timeout
    cfg = make_config(tmp_path, site_server).read_text(encoding="utf-8")
    cfg_path = tmp_path / "stubborn.toml"
    cfg_path.write_text(
        cfg.replace("stop_timeout_seconds = 60", "stop_timeout_seconds = 1").replace(
            "concurrent_per_domain = 4", "concurrent_per_domain = 1"
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    proc = start_scheduler(cfg_path, out, "--every", "600")
    wait_for(lambda: site_server.requests_for(LISTING) >= 1, proc, what="the listing fetch")
    time.sleep(1.0)  # the first article download is under way
    code, log = stop(proc)
    assert code == 0 and "killing it" in log, log
    assert query(out, "SELECT status, exit_code FROM schedule_runs") == [("interrupted", -signal.SIGKILL)]
    lines = jsonl_ids(out)  # no partial line, no duplicate …
    assert len(lines) == len(set(lines)) and set(lines) <= db_ids(out)[0] == db_ids(out)[1]
    assert current_holder(out) is None

    serve_site(site_server)
    done = run_newsmon("run", "--config", str(cfg_path), "--output", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(assert_consistent(out)) == len(ids)  # … and the next run completes the work


def test_a_scheduled_cycle_skips_when_told_to_and_a_manual_run_holds_the_lock(tmp_path, site_server):
    serve_site(site_server)
    cfg = make_config(tmp_path, site_server)
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("[schedule]", '[schedule]\nlock = "skip"'), encoding="utf-8")
    out = tmp_path / "out"
    holder = hold_lock(out, 60)
    try:
        proc = start_scheduler(cfg, out, "--every", "600")
        wait_for(lambda: finished_runs(out), proc, what="the skipped cycle")
        code, log = stop(proc)
    finally:
        release(holder, kill=True)
    assert code == 0, log
    ((status, detail),) = query(out, "SELECT status, detail FROM schedule_runs")
    assert status == "skipped" and f"pid {holder.pid}" in detail
    assert query(out, "SELECT count(*) FROM runs") == [(0,)]  # nothing ran beside the holder
