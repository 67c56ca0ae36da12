"""newsmon sources list|check"""

from __future__ import annotations

import argparse
import re
import sys

from crawler.commands._options import add_config, load

HELP = "list the configured sources and sections, or validate a sources file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "Examples:\n  newsmon sources list\n  newsmon sources check --config my-sources.toml"
    parser.add_argument("action", choices=["list", "check"], help="list: show sections; check: validate")
    add_config(parser)


def run(args: argparse.Namespace) -> int:
    if args.action == "check":
        return check(args)
    config = load(args)
    for source in config.sources:
        print(f"{source.id}  {source.name}")
        for sec in source.sections:
            langs = ",".join(sec.languages) or "?"
            print(f"  {sec.key:<36} {sec.kind:<8} {langs:<6} {sec.url}")
    return 0


def _file_line(problem: str) -> tuple[str, int]:
    """``(file, line)`` of a ``file:line: …`` message (others first, in their order)."""
    found = re.match(r"^(.*?):(\d+): ", problem)
    return (found[1], int(found[2])) if found else ("", 0)


def check(args: argparse.Namespace) -> int:
    """Every problem of the file in one pass: those of its sources and sections, then those of the rest
    (selectors, crons, feature tables) in the sections that loaded."""
    from crawler.checks import check_config
    from crawler.config import ConfigProblems

    try:
        config, problems, unloaded = load(args), [], []
    except ConfigProblems as exc:
        config, problems, unloaded = exc.config, list(exc.problems), exc.unloaded
    later = check_config(config, unloaded)
    if problems and not config.sections:  # every section has a problem: nothing to schedule follows
        later = [p for p in later if not p.startswith("no sections configured")]
    problems = sorted(problems + later, key=_file_line)
    for problem in problems:
        print(f"newsmon: error: {problem}", file=sys.stderr)
    if problems:
        return 2
    print(f"ok: {len(config.sources)} sources, {len(config.sections)} sections ({' + '.join(config.files)})")
    return 0
