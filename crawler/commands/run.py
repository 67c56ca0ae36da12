"""newsmon run — one crawl cycle over the configured sections, with a per-section summary."""

from __future__ import annotations

import argparse
import sys

from crawler.commands._options import add_config, add_output, load
from crawler.features import stage_words

HELP = f"run one crawl cycle: crawl, then the post-crawl stages ({', '.join(stage_words())})"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Examples:\n  newsmon run\n  newsmon run --source kremlin-en --source tass-en\n"
        "  newsmon run --config my-sources.toml --output /srv/newsmon"
    )
    add_config(parser)
    parser.add_argument(
        "--source",
        metavar="ID",
        action="append",
        dest="sources",
        help="only this source (or source/section); repeatable",
    )
    add_output(parser)
    parser.add_argument("--refetch", action="store_true", help="fetch articles again even when already stored")
    parser.add_argument(
        "--distributed",
        action="store_true",
        help="put the cycle on the job queue for `newsmon worker` processes (one crawl job per "
        "host group, translation in batches) and wait for it; needs [state] url (PostgreSQL)",
    )
    wait = parser.add_mutually_exclusive_group()
    wait.add_argument(
        "--wait",
        dest="wait",
        action="store_true",
        default=False,
        help="if another cycle is running on this output directory, wait for it to finish",
    )
    wait.add_argument(
        "--no-wait",
        dest="wait",
        action="store_false",
        help="if another cycle is running, exit at once (status 75) naming it (default)",
    )


def run(args: argparse.Namespace) -> int:
    from crawler.exceptions import LockHeld
    from crawler.ops import logfile
    from crawler.ops.lock import LOCK_BUSY_EXIT, CycleLock
    from crawler.runner import run_cycle

    config = load(args)
    logfile.enable(config)
    try:
        lock = CycleLock(config.output_dir, wait=args.wait).acquire()  # never two cycles at once
    except LockHeld as exc:
        print(f"newsmon: {exc}", file=sys.stderr)
        return LOCK_BUSY_EXIT
    with lock:
        if args.distributed:
            from crawler.jobs.enqueue import run_distributed

            result = run_distributed(config, source_ids=args.sources, refetch=args.refetch)
        else:
            result = run_cycle(config, source_ids=args.sources, refetch=args.refetch)
    print_summary(result)
    print_models_hint(config)
    return exit_status(result)


def print_models_hint(config, out=None) -> None:
    """The run's last line when a translation model is missing, whether or not an item landed: a new user's
    first run lands nothing to translate yet, and this is where they learn how to install the models."""
    line = models_hint(config)
    if line:
        print(f"\n{line}", file=out or sys.stdout)


def models_hint(config) -> str | None:
    """``translation: no zh→en, ru→en model installed …; install with: newsmon models install zh ru …``, or None
    when every configured language has its model (or translation is switched off)."""
    from crawler.translation import models
    from crawler.translation.settings import settings_of

    settings = settings_of(config)
    if not settings.enabled:
        return None
    dirs = models.package_dirs(settings.packages_dir)
    have = {p.from_code for p in models.installed(dirs) if p.to_code == settings.target}
    missing = [lang for lang in settings.languages if lang not in have]
    if not missing:
        return None
    pairs = ", ".join(f"{lang}→{settings.target}" for lang in missing)
    return (
        f"translation: no {pairs} model installed ({'/'.join(missing)} items stay pending, untranslated); "
        f"install with: {models.INSTALL_HINT.format(langs=' '.join(missing))}"
    )


def exit_status(result) -> int:
    """0 when every section answered and every article landed; 1 otherwise (monitoring can alert)."""
    return 0 if result.status == "ok" else 1


def print_summary(result, out=None) -> None:
    out = out or sys.stdout
    from crawler.crawl.report import status_of
    from crawler.wording import plural

    header = (
        f"{'section':<34} {'links':>6} {'new':>5} {'fetched':>7} {'failed':>6} {'skipped':>7} {'seconds':>8}  status"
    )
    print(header, file=out)
    for key, r in sorted(result.crawl.items()):
        print(
            f"{key:<34} {r['links_found']:>6} {r['new']:>5} {r['fetched']:>7} {r['failed']:>6} "
            f"{r.get('skipped', 0):>7} {r['seconds']:>8.1f}  {status_of(r)}",
            file=out,
        )
    items = result.output_dir / result.day / "items.jsonl"
    print(f"\nrun {result.run_id}: {result.status}; {plural(result.landed, 'new item')} in {items}", file=out)
    for stage, summary in result.stages.items():
        if stage != "storage" and isinstance(summary, dict) and summary.get("error"):
            print(f"stage {stage} failed: {summary['error']}", file=out)
    errors = result.errors_by_source()
    if errors:
        print("\nerrors by source:", file=out)
        for source, lines in sorted(errors.items()):
            print(f"  {source}:", file=out)
            for line in lines:
                print(f"    {line}", file=out)
    skips = {key: r["skips"] for key, r in sorted(result.crawl.items()) if r.get("skips")}
    if skips:
        print("\nskipped (not requested):", file=out)
        for key, lines in skips.items():
            reasons = ", ".join(f"{n:,} {reason}" for reason, n in result.crawl[key]["skipped_reasons"].items())
            print(f"  {key} ({reasons}):", file=out)
            for line in lines:
                print(f"    {line}", file=out)
    if result.storage_error:
        print(f"\nnewsmon: error: {result.storage_error}", file=sys.stderr)
