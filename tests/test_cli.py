"""Every command has help with an example, and is reachable; the CLI turns project errors into one line."""

import pkgutil
import re

import pytest

from crawler import commands, features
from crawler.cli import CORE_COMMANDS, build_parser, command_modules

COMMANDS = [
    "alerts",
    "brief",
    "demo",
    "diff",
    "digest",
    "export",
    "import",
    "models",
    "quotes",
    "run",
    "schedule",
    "search",
    "sources",
    "state",
    "status",
    "translate",
    "trend",
    "verify",
    "watch",
    "worker",
]


@pytest.mark.parametrize("name", sorted(command_modules()))
def test_every_command_has_help_and_an_example(name):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[name]
    assert sub.description and len(sub.description) > 10
    assert sub.epilog and "newsmon " + name in sub.epilog


def test_sources_check_names_the_bad_key(tmp_path, newsmon):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[sources]]\nid = "x"\n[[sources.sections]]\nid = "s"\nkind = "listing"\n'
        'url = "http://example.org/"\nlink_css = "a"\nmax_page = 3\n',
        encoding="utf-8",
    )
    proc = newsmon("sources", "check", "--config", str(bad))
    assert proc.returncode == 2
    assert "max_page" in proc.stderr and "bad.toml:8" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_every_command_module_comes_from_the_core_list_or_a_feature():
    """A module in crawler/commands/ that neither lists would silently vanish from the CLI."""
    modules = {info.name for info in pkgutil.iter_modules(commands.__path__) if not info.name.startswith("_")}
    declared = [*CORE_COMMANDS, *features.commands()]
    assert sorted(declared) == sorted(set(declared)), "a command module declared twice"
    assert set(declared) == modules


def test_help_lists_every_command_once(newsmon):
    proc = newsmon("--help", check=True)
    listed = re.findall(r"^    ([a-z-]+) ", proc.stdout, re.M)
    assert listed == COMMANDS
    assert sorted(command_modules()) == COMMANDS


def test_run_help_names_the_stages_in_the_order_they_run():
    run = next(a for a in build_parser()._actions if a.dest == "command").choices["run"]
    assert run.description.endswith(
        "post-crawl stages (translation, watch phrases, stories, section lifecycle "
        "and re-checks, item flags, alerts, Atom feeds, digest)"
    )


# Every date flag of every command, with what else the command needs to get as far as reading it.
DATE_FLAGS = [
    ("search", "--since", ["x"]),
    ("search", "--until", ["x"]),
    ("watch", "--since", []),
    ("digest", "--date", []),
    ("export", "--since", ["x.csv"]),
    ("export", "--until", ["x.csv"]),
    ("alerts", "--since", []),
    ("trend", "--since", ["x"]),
    ("trend", "--until", ["x"]),
    ("brief", "--since", []),
    ("brief", "--until", []),
    ("quotes", "--since", ["x"]),
]


def test_every_date_flag_is_listed_above():
    """A command that grows a date flag is added to DATE_FLAGS (and so to the test below)."""
    found = set()
    for name, sub in next(a for a in build_parser()._actions if a.dest == "command").choices.items():
        found |= {
            (name, flag)
            for action in sub._actions
            for flag in action.option_strings
            if action.metavar in ("YYYY-MM-DD", "DATE")
        }
    assert found == {(name, flag) for name, flag, _ in DATE_FLAGS}


@pytest.mark.parametrize("name, flag, rest", DATE_FLAGS)
def test_every_date_flag_refuses_a_day_that_is_not_in_the_calendar(tmp_path, newsmon, name, flag, rest):
    proc = newsmon(name, flag, "2026-13-01", *rest, "--output", str(tmp_path))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stdout == ""
    assert "'2026-13-01'" in proc.stderr and proc.stderr.strip().splitlines()[-1].count("2026-13-01") == 1
    assert "not a calendar date" in proc.stderr or "expected a date YYYY-MM-DD" in proc.stderr
    assert not list(tmp_path.iterdir())  # nothing created


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path):
    """``newsmon … | head``: the pipe closed under a command that is still writing is no error to print."""
    import os
    import subprocess
    import sys

    from tests import digestkit
    from tests.conftest import ROOT

    digestkit.standard_day(tmp_path)
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line is written
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "crawler", "export", "--format", "jsonl", "-", "--output", str(tmp_path)],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
    finally:
        os.close(write)
    assert proc.stderr == "" and proc.returncode == 141
