"""newsmon worker — take crawl and translation jobs from the queue (PostgreSQL), on this machine."""

from __future__ import annotations

import argparse
import logging
import socket
import sys

from crawler.commands._options import add_config, add_output, load

HELP = "take crawl and translation jobs of distributed cycles from the queue (needs [state] url: PostgreSQL)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Examples:\n  newsmon worker\n  newsmon worker --queue crawl --concurrency 4\n"
        "  newsmon worker --queue translation      # on the machine with the GPU"
    )
    add_config(parser)
    add_output(parser)
    parser.add_argument(
        "--queue",
        choices=("crawl", "translation", "all"),
        default="all",
        help="which jobs: crawl (host groups, the cycle's closing stages), translation "
        "(batches of items) or all (default)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=2,
        metavar="N",
        help="jobs run side by side (default 2; each crawl job is a process of its own)",
    )
    parser.add_argument("--name", default=None, help="this worker's name in the queue (default: host:pid)")


def run(args: argparse.Namespace) -> int:
    import os

    from crawler.jobs.app import make_app
    from crawler.jobs.queue import database_url, ensure_schema, worker_options
    from crawler.ops import logfile

    if args.concurrency < 1:
        print("newsmon worker: error: --concurrency must be at least 1", file=sys.stderr)
        return 2
    config = load(args)
    logfile.enable(config)
    url = database_url()
    ensure_schema(url)
    name = args.name or f"{socket.gethostname()}:{os.getpid()}"
    context = {
        "config": config,
        "config_path": args.config,
        "output_dir": str(config.output_dir),
        "level": logging.getLogger().getEffectiveLevel(),
    }
    logging.getLogger(__name__).info("worker %s: queue %s, %d job(s) at a time", name, args.queue, args.concurrency)
    make_app(url).run_worker(**worker_options(args.queue, args.concurrency, name), additional_context=context)
    return 0
