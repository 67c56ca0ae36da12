"""Thin command-line front. Each command lives in ``crawler/commands/<name>.py`` and exposes

    HELP = "one line"
    def add_arguments(parser): ...      # flags; the parser's epilog should carry an example
    def run(args) -> int: ...           # exit status

The commands are the core ones below plus those each feature of the registry declares
(``crawler.features``: ``Feature(commands=("watch",))``), so a feature adds a command without editing this
file. Module-level imports in command modules stay light (heavy imports go inside ``run``) so that
``newsmon --help`` is instant.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import os
import sys

from crawler import __version__, features
from crawler.alerts import redact
from crawler.exceptions import NewsmonError

log = logging.getLogger("newsmon")


# Commands of no one feature: the cycle, the demo, the sources and the status of everything.
CORE_COMMANDS = ("run", "demo", "sources", "status")


def command_name(module: str) -> str:
    """``import_`` → ``import`` (a command may be named by a Python keyword), ``a_b`` → ``a-b``."""
    return module.rstrip("_").replace("_", "-")


def command_modules() -> dict[str, object]:
    """Command name → its module: the core commands and the feature registry's, sorted by name."""
    found = {}
    for module in (*CORE_COMMANDS, *features.commands()):
        found[command_name(module)] = importlib.import_module(f"crawler.commands.{module}")
    return dict(sorted(found.items()))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsmon",
        description="Multilingual news-monitoring crawler.",
        epilog="Example: newsmon run --source kremlin-en",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"newsmon {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in command_modules().items():
        cmd = sub.add_parser(
            name, help=module.HELP, description=module.HELP, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        # SUPPRESS: "newsmon -v run" keeps the top-level count (a sub-parser default of 0 would reset it).
        cmd.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        module.add_arguments(cmd)
        cmd.set_defaults(handler=module.run)
    return parser


def setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    # The console keeps this level even when the log file (crawler.ops.logfile.enable) lowers the root's.
    for handler in logging.getLogger().handlers:
        if type(handler) is logging.StreamHandler:
            handler.setLevel(level)
            handler.addFilter(redact.RedactFilter())  # configured secrets never reach the console


def main(argv: list[str] | None = None) -> int:
    """The process's entry (the ``newsmon`` script, ``python -m crawler``): its exit status."""
    # Every command's stdout and stderr (summaries, listings, errors, tracebacks) mask the secrets of the
    # URLs registered with crawler.alerts.redact.protect.
    try:
        with redact.guarded_streams():
            status = _main(argv)
            sys.stdout.flush()  # inside the try: the last buffered lines may meet a closed pipe
        return status
    except BrokenPipeError as exc:
        if stdout_closed():
            return reader_gone()
        print(f"newsmon: error: {exc}", file=sys.stderr)  # another pipe or socket: a real error
        return 2
    finally:
        # The command is done and the process exits. Python's last collection at exit traverses every object
        # left (0.2 s after a crawl of 1,000 pages) to find cycles the exit frees anyway; frozen, it skips them.
        # Teardown is otherwise as before: the atexit handlers (logging's flush) run, and modules are cleared.
        gc.freeze()


def stdout_closed() -> bool:
    """Whether standard output is a pipe whose reader has gone (poll reports an error on its write end)."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.__stdout__.fileno(), select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _fd, events in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return True  # no way to ask: the usual cause is the reader


def reader_gone() -> int:
    """The reader of stdout went away (``newsmon search … | head``): that is how a pipe says "enough", so it
    ends the command quietly, as it ends grep. Stdout is pointed at /dev/null, so that Python's own flush at
    exit meets no closed pipe either. Exit status 141, a shell's for a command ended by SIGPIPE."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    return 141


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    setup_logging(args.verbose)
    try:
        return int(args.handler(args) or 0)
    except NewsmonError as exc:
        print(f"newsmon: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        raise  # main: the reader has gone, no error to print
    except OSError as exc:  # an unwritable output directory, a full disk: one line, not a traceback
        log.debug("OS error", exc_info=True)
        print(f"newsmon: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("newsmon: interrupted", file=sys.stderr)
        return 130
