"""newsmon schedule: run cycles by themselves (nightly by default), until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse

from crawler.commands._options import add_config, add_output, load

HELP = "run crawl cycles on a schedule (nightly by default) until stopped; see also `newsmon status`"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Examples:\n"
        "  newsmon schedule --config my-sources.toml          # run until SIGTERM/Ctrl-C\n"
        "  newsmon schedule --dry-run                         # show jobs and next run times\n"
        "Schedule: [schedule] in the config (nightly cron, time zone, misfire grace, lock);\n"
        'a section\'s `cron` ("0 */2 * * *", "0 16 * * * Asia/Shanghai") overrides it.'
    )
    add_config(parser)
    add_output(parser)
    parser.add_argument("--dry-run", action="store_true", help="print the jobs and their next run times, exit")
    parser.add_argument(
        "--every",
        metavar="SECONDS",
        type=_positive,
        help="run every section every SECONDS instead of by cron (testing, demos)",
    )


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def run(args: argparse.Namespace) -> int:
    from crawler.ops import logfile, scheduler
    from crawler.ops.lock import SCHEDULER_LOCK_NAME, CycleLock
    from crawler.ops.plan import load_settings, plan_jobs

    config = load(args)
    settings = load_settings(config)
    jobs = plan_jobs(config, settings, every=args.every)
    if args.dry_run:
        return _print_plan(jobs, settings)
    log_path = logfile.enable(config)
    with CycleLock(config.output_dir, name=SCHEDULER_LOCK_NAME, what="scheduler"):
        daemon = scheduler.Daemon(
            config.output_dir, settings, jobs, scheduler.cycle_argv(args.config, config.output_dir, args.verbose)
        )
        _print_plan(jobs, settings)
        print(f"log: {log_path or 'none ([logging] file is empty)'}; stop with SIGTERM or Ctrl-C", flush=True)
        return daemon.run()


def _print_plan(jobs, settings) -> int:
    from datetime import datetime

    now = datetime.now(settings.timezone)
    for job in jobs:
        nxt = job.trigger.get_next_fire_time(None, now)
        print(f"{job.job_id}\n  next run: {nxt.isoformat() if nxt else 'never'}\n  sections: {', '.join(job.sections)}")
    return 0
