"""The documentation follows the code: the generated references are up to date, every command has an
example in its help and a row in the README's command table, every link between the pages leads somewhere,
and no page or comment points at an issue number or at a file outside the repository."""

from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path

import pytest

from crawler import cli

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def generator():
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["cli.md", "config.md"])
def test_generated_reference_is_up_to_date(name):
    path = ROOT / "docs" / name
    text = generator().outputs()[path]
    assert path.read_text(encoding="utf-8") == text, f"docs/{name} is out of date: run python docs/generate.py"


def test_cli_reference_has_every_command_and_flag():
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for name, sub in generator().subcommands(cli.build_parser()).items():
        assert f"## `newsmon {name}`" in text
        for action in sub._actions:
            for flag in action.option_strings:
                if action.help != "==SUPPRESS==":
                    assert flag in text, f"newsmon {name} {flag} missing from docs/cli.md"


def test_config_reference_has_every_spec_key():
    from crawler import features

    text = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    gen = generator()
    for table, dotted in features.specs():
        section = text.split(f"## `[{table}]`", 1)[1].split("\n## ", 1)[0]
        for key in gen._spec(dotted):
            assert f"| `{key}` |" in section, f"[{table}] {key} missing from docs/config.md"


def test_check_mode_names_a_stale_file(tmp_path, monkeypatch):
    gen = generator()
    monkeypatch.setattr(gen, "DOCS", tmp_path)
    monkeypatch.setattr(gen, "ROOT", tmp_path.parent)
    assert gen.main(["--check"]) == 1  # nothing written yet
    assert gen.main([]) == 0 and gen.main(["--check"]) == 0
    (tmp_path / "cli.md").write_text((tmp_path / "cli.md").read_text() + "\nedited by hand\n")
    assert gen.stale() == [tmp_path / "cli.md"]


def commands():
    return generator().subcommands(cli.build_parser())


def test_every_command_has_an_example_in_its_help():
    missing = [name for name, sub in commands().items() if not re.search(r"^Examples?:", sub.epilog or "", re.M)]
    assert not missing, f"commands without an 'Example:' epilog: {missing}"


def readme_command_rows() -> list[str]:
    text = README.read_text(encoding="utf-8")
    table = text.split("## Commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `newsmon ([\w-]+)` \|", table, re.M)


def test_every_command_has_a_row_in_the_readme_table():
    rows = readme_command_rows()
    assert sorted(rows) == sorted(commands()), "README command table rows differ from the registered commands"


def test_readme_stays_short():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 200


def markdown_files() -> list[Path]:
    return [README, ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_every_relative_link_leads_to_a_file_and_heading():
    broken = []
    for page in markdown_files():
        if not page.exists():
            continue
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists():
                broken.append(f"{page.name}: {target}")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert not broken, broken


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    found = set()
    for heading in re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


ISSUE_REF = re.compile(r"\bissues? ?#?\d+\b|\bissue-\d+\b|\.\./shared/", re.I)


def test_no_issue_numbers_or_outside_paths_in_code_docs_or_comments():
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    hits = []
    for name in files:
        path = ROOT / name
        recorded = name.startswith(("tests/resources/", "crawler/demo/")) and path.suffix != ".md"  # pages as found
        if (
            recorded
            or path.suffix not in {".py", ".md", ".toml", ".sql", ".cfg", ".txt", ".ini", ".sh", ""}
            or not path.is_file()
        ):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if ISSUE_REF.search(line) and path.name != "test_docs.py":
                hits.append(f"{name}:{n}: {line.strip()[:100]}")
    assert not hits, "\n".join(hits)
