"""newsmon as a package: the wheel built from this tree holds every file the code reads at run time, states
its version and licence once, and installed alone in a fresh venv (its declared dependencies only, from a
local wheelhouse: no network) gives a ``newsmon`` whose commands work outside the repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

import crawler
from tests import wheelhouse
from tests.test_crawl_bad_input import closed_port as free_port
from tests.tinymodel import build_package

pytestmark = pytest.mark.e2e  # pip builds and installs in subprocesses; newsmon runs in a fresh venv

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_FOLDERS = ("crawler", "spiders", "pipelines")
SOURCE_FILES = ("pyproject.toml", "README.md", "LICENSE")


def pip(*args: str, timeout: float = 300) -> None:
    """This interpreter's pip, ignoring the user's pip configuration (indexes, find-links)."""
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--isolated", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def shipped_files() -> list[str]:
    """Every file of the package folders under version control: modules and the data the code opens."""
    proc = subprocess.run(["git", "ls-files", "--", *PACKAGE_FOLDERS], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip("not a git checkout: the shipped files cannot be listed")
    return [name for name in proc.stdout.splitlines() if (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built offline from a copy of the tree (setuptools' build/ must not leak stale files)."""
    work = tmp_path_factory.mktemp("build")
    source = work / "source"
    for folder in PACKAGE_FOLDERS:
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in SOURCE_FILES:
        shutil.copy(ROOT / name, source / name)
    pip("wheel", "--no-index", "--no-deps", "--no-build-isolation", "--wheel-dir", str(work / "dist"), str(source))
    (built,) = (work / "dist").glob("newsmon-*.whl")
    return built


def wheel_metadata(wheel: Path):
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return Parser().parsestr(zf.read(name).decode("utf-8"))


def test_the_wheel_holds_every_file_the_code_reads(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    missing = [name for name in shipped_files() if name not in names]
    assert not missing, f"not in the wheel: {missing}"
    for data in (
        "crawler/defaults.toml",
        "crawler/translation/glossary.toml",
        "crawler/store/schema/0001_core.sql",
        "crawler/demo/kremlin-en/feed-news.atom.xml",
    ):
        assert data in names
    tops = {name.split("/")[0] for name in names}
    assert tops == {*PACKAGE_FOLDERS, f"newsmon-{crawler.__version__}.dist-info"}  # no tests, no benchmarks


def test_version_and_licence_are_stated_once(wheel):
    meta = wheel_metadata(wheel)
    assert meta["Version"] == crawler.__version__ and wheel.name.startswith(f"newsmon-{crawler.__version__}-")
    assert meta["License-Expression"] == "MIT" and meta["License"] is None
    with zipfile.ZipFile(wheel) as zf:
        licence = zf.read(f"newsmon-{crawler.__version__}.dist-info/licenses/LICENSE").decode("utf-8")
    assert licence.startswith("MIT License") and licence == (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "argostranslate" not in " ".join(meta.get_all("Requires-Dist"))


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv holding the wheel and its declared dependencies only; its bin directory."""
    work = tmp_path_factory.mktemp("fresh")
    house = work / "wheelhouse"
    wheelhouse.build(wheelhouse.requirements_of_wheel(wheel), house)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(work / "venv")], check=True, timeout=120)
    pip(
        "--python",
        str(work / "venv" / "bin" / "python"),
        "install",
        "--quiet",
        "--no-index",
        "--no-compile",
        "--find-links",
        str(house),
        str(wheel),
    )
    return work / "venv" / "bin"


@pytest.fixture
def outside(tmp_path) -> tuple[Path, dict[str, str]]:
    """A working directory outside the repository and an environment that cannot reach it."""
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "ARGOS_", "NEWSMON_", "VIRTUAL_ENV"))}
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_CACHE_HOME=str(home / "cache"),
        PATH=f"{os.path.dirname(sys.executable)}:/usr/bin:/bin",
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    return work, env


def run(bin_dir: Path, outside, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    work, env = outside
    return subprocess.run(
        [str(bin_dir / args[0]), *args[1:]],
        cwd=work,
        env={**env, **extra_env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_installed_package_runs_from_its_own_files(installed, outside):
    proc = run(
        installed,
        outside,
        "python",
        "-c",
        "import crawler, spiders, pipelines, json; print(json.dumps("
        "[m.__file__ for m in (crawler, spiders, pipelines)]))",
    )
    assert proc.returncode == 0, proc.stderr
    assert all(path.startswith(str(installed.parent)) for path in json.loads(proc.stdout))
    proc = run(installed, outside, "python", "-c", "import argostranslate")
    assert proc.returncode == 1 and "ModuleNotFoundError" in proc.stderr  # never installed, never needed
    assert run(installed, outside, "newsmon", "--version").stdout.strip() == f"newsmon {crawler.__version__}"


@pytest.fixture(scope="module")
def model_files(tmp_path_factory) -> list[str]:
    """Tiny real zh→en and ru→en .argosmodel files (tests/tinymodel.py)."""
    folder = tmp_path_factory.mktemp("models")
    return [str(build_package(folder, lang=lang, seed=i)) for i, lang in enumerate(("zh", "ru"))]


def install_models(installed, outside, files: list[str]) -> subprocess.CompletedProcess:
    return run(installed, outside, "newsmon", "models", "install", *(a for f in files for a in ("--file", f)))


def test_installed_models_commands_work_without_argostranslate(installed, outside, model_files):
    proc = run(installed, outside, "newsmon", "models", "list")
    assert proc.returncode == 1 and "missing: zh→en, ru→en" in proc.stdout, proc.stdout + proc.stderr
    proc = install_models(installed, outside, model_files)
    assert proc.returncode == 0, proc.stderr
    listing = run(installed, outside, "newsmon", "models", "list")
    assert listing.returncode == 0 and "zh→en  translate-zh_en" in listing.stdout, listing.stdout + listing.stderr
    removed = run(installed, outside, "newsmon", "models", "remove", "ru")
    assert removed.returncode == 0 and "removed ru→en" in removed.stdout, removed.stderr


def test_installed_demo_lands_and_translates_the_bundled_pages(installed, outside, model_files):
    """The demo's pages, the migrations and the defaults come from the installed package; with models
    installed, its Russian pages are translated in the stage's own process, which imports the installed
    package too."""
    work, _env = outside
    assert install_models(installed, outside, model_files).returncode == 0
    proc = run(installed, outside, "newsmon", "demo", "--output", "demo-out", NEWSMON_DEMO_PORT=str(free_port()))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    items = [
        json.loads(line)
        for f in (work / "demo-out").glob("*/items.jsonl")
        for line in f.read_text("utf-8").splitlines()
    ]
    assert len(items) == len({i["id"] for i in items}) >= 11
    assert all(i["title"] and i["paragraphs"] for i in items)
    status = {(i["lang"], i["translation"]["status"]) for i in items}
    assert status == {("en", "not_needed"), ("ru", "done")}, status
