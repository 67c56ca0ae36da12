"""Model management without argostranslate: ``newsmon models list | install | remove`` keep Argos' on-disk
layout (a package is its archive's top directory, extracted into Argos' packages directory), find packages
where Argos puts them (its environment variables, its settings.json, its XDG default) and read its index.

Real tiny packages (tests/tinymodel.py), a real index on loopback, the real CLI in a subprocess.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
import zipfile
from pathlib import Path

import pytest

from tests.tinymodel import build_package


@pytest.fixture(scope="module")
def archives(tmp_path_factory) -> dict[str, Path]:
    """zh→en 1.0 and 1.1 and ru→en 1.0 as .argosmodel files."""
    folder = tmp_path_factory.mktemp("argos-files")
    return {
        "zh": build_package(folder, lang="zh"),
        "zh-1.1": build_package(folder, lang="zh", version="1.1"),
        "ru": build_package(folder, lang="ru", seed=1),
    }


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def env(home) -> dict[str, str]:
    """A private home and XDG directories; no $ARGOS_PACKAGES_DIR, so Argos' own default applies."""
    return {
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "ARGOS_PACKAGES_DIR": "",
        "ARGOS_PACKAGE_INDEX": "",
    }


def argos_default_dir(home: Path) -> Path:
    return home / "data" / "argos-translate" / "packages"


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_install_writes_the_archive_as_argos_extracts_it(newsmon, env, home, archives):
    newsmon("models", "install", "--file", str(archives["zh"]), env=env, check=True)
    with zipfile.ZipFile(archives["zh"]) as zf:  # Argos' install: extractall into its packages dir
        expected = {name: zf.read(name) for name in zf.namelist() if not name.endswith("/")}
    installed = tree(argos_default_dir(home))
    assert installed == expected and "translate-zh_en-1_0/metadata.json" in installed


def test_installing_again_replaces_the_installed_copy(newsmon, env, home, archives, tmp_path):
    newsmon("models", "install", "--file", str(archives["zh"]), env=env, check=True)
    other = build_package(tmp_path / "rebuilt", lang="zh", seed=7)  # same name and version, other weights
    newsmon("models", "install", "--file", str(other), env=env, check=True)
    installed = argos_default_dir(home)
    assert [p.name for p in installed.iterdir()] == ["translate-zh_en-1_0"]  # no staging left behind
    with zipfile.ZipFile(other) as zf:
        assert (installed / "translate-zh_en-1_0/model/model.bin").read_bytes() == zf.read(
            "translate-zh_en-1_0/model/model.bin"
        )


def test_packages_installed_by_argospm_are_listed(newsmon, env, home, archives):
    with zipfile.ZipFile(archives["zh"]) as zf:
        zf.extractall(argos_default_dir(home))
    proc = newsmon("models", "list", env=env)
    assert proc.returncode == 1  # ru→en, configured by default, is missing
    assert f"packages directory: {argos_default_dir(home)}" in proc.stdout
    assert "zh→en  translate-zh_en" in proc.stdout and "missing: ru→en" in proc.stdout


def test_argos_settings_json_names_the_packages_dir(newsmon, env, home, tmp_path, archives):
    chosen = tmp_path / "argos-packages"
    (home / "config" / "argos-translate").mkdir(parents=True)
    (home / "config" / "argos-translate" / "settings.json").write_text(
        json.dumps({"ARGOS_PACKAGES_DIR": str(chosen)}), encoding="utf-8"
    )
    newsmon("models", "install", "--file", str(archives["ru"]), env=env, check=True)
    assert [p.name for p in chosen.iterdir()] == ["translate-ru_en-1_0"]
    assert not argos_default_dir(home).exists()


def test_remove_deletes_one_language_and_keeps_the_other(newsmon, env, home, archives):
    newsmon("models", "install", "--file", str(archives["zh"]), "--file", str(archives["ru"]), env=env, check=True)
    proc = newsmon("models", "remove", "ru", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "removed ru→en  translate-ru_en 1.0" in proc.stdout
    assert [p.name for p in argos_default_dir(home).iterdir()] == ["translate-zh_en-1_0"]
    listing = newsmon("models", "list", env=env)
    assert listing.returncode == 1 and "missing: ru→en" in listing.stdout and "zh→en  translate-zh_en" in listing.stdout


def test_remove_of_a_language_not_installed_removes_nothing(newsmon, env, home, archives):
    newsmon("models", "install", "--file", str(archives["zh"]), env=env, check=True)
    proc = newsmon("models", "remove", "zh", "ru", env=env)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "no ru→en package is installed in" in proc.stderr
    assert [p.name for p in argos_default_dir(home).iterdir()] == ["translate-zh_en-1_0"]


def test_remove_takes_every_installed_version(newsmon, env, home, archives):
    newsmon("models", "install", "--file", str(archives["zh"]), "--file", str(archives["zh-1.1"]), env=env, check=True)
    assert newsmon("models", "list", env=env).stdout.count("zh→en") == 2
    proc = newsmon("models", "remove", "zh", env=env, check=True)
    assert proc.stdout.count("removed zh→en") == 2
    assert list(argos_default_dir(home).iterdir()) == []


@pytest.fixture
def index(tmp_path, archives):
    """An Argos package index on loopback: two zh→en versions (the older one listed last) and ru→en."""
    root = tmp_path / "index"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    entries = []
    for key, version in (("zh-1.1", "1.1"), ("ru", "1.0"), ("zh", "1.0")):
        shutil.copy(archives[key], root / archives[key].name)
        lang = key.split("-")[0]
        entries.append(
            {
                "from_code": lang,
                "to_code": "en",
                "package_version": version,
                "argos_version": "1.9",
                "from_name": lang,
                "to_name": "English",
                "links": [base + archives[key].name],
            }
        )
    entries.append(
        {
            "type": "sbd",
            "from_code": "zh",
            "to_code": "en",
            "package_version": "9.0",
            "links": [base + "no-such-file.argosmodel"],
        }
    )  # not a translation package: never picked
    (root / "index.json").write_text(json.dumps(entries), encoding="utf-8")
    (root / "broken").mkdir()
    (root / "broken" / "index.json").write_text('{"not": "a list"}', encoding="utf-8")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield base
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_install_from_the_index_takes_the_newest_version(newsmon, env, home, index):
    proc = newsmon("models", "install", "zh", env={**env, "ARGOS_PACKAGE_INDEX": index})
    assert proc.returncode == 0, proc.stderr
    assert f"{index}index.json" in proc.stdout
    assert [p.name for p in argos_default_dir(home).iterdir()] == ["translate-zh_en-1_1"]
    metadata = json.loads((argos_default_dir(home) / "translate-zh_en-1_1" / "metadata.json").read_text())
    assert metadata["package_version"] == "1.1"


def test_index_named_in_argos_settings_json(newsmon, env, home, index):
    (home / "config" / "argos-translate").mkdir(parents=True)
    (home / "config" / "argos-translate" / "settings.json").write_text(
        json.dumps({"ARGOS_PACKAGE_INDEX": index}), encoding="utf-8"
    )
    proc = newsmon("models", "install", "ru", env=env)
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in argos_default_dir(home).iterdir()] == ["translate-ru_en-1_0"]


def test_an_index_that_is_not_a_list_is_one_clear_error(newsmon, env, index):
    proc = newsmon("models", "install", "zh", env={**env, "ARGOS_PACKAGE_INDEX": index + "broken/"})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "not an Argos package index" in proc.stderr


def test_a_language_missing_from_the_index_names_what_it_has(newsmon, env, index):
    proc = newsmon("models", "install", "uk", env={**env, "ARGOS_PACKAGE_INDEX": index})
    assert proc.returncode == 2 and "no uk→en package (it has: ru, zh)" in proc.stderr


def test_model_commands_never_import_argostranslate(env, archives, tmp_path):
    """Model management runs where argostranslate is not installed: here it cannot be imported at all."""
    import subprocess
    import sys

    blocker = tmp_path / "blocker"
    (blocker / "argostranslate").mkdir(parents=True)
    (blocker / "argostranslate" / "__init__.py").write_text("raise ImportError('argostranslate is blocked')\n")
    code = (
        "import sys; from crawler.cli import main; "
        f"codes = [main(['models', 'install', '--file', {str(archives['zh'])!r}]), main(['models', 'list']), "
        "main(['models', 'remove', 'zh'])]; "
        "assert codes == [0, 1, 0], codes; assert 'argostranslate' not in sys.modules"
    )
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "PATH": "/usr/bin:/bin", "PYTHONPATH": f"{blocker}:{root}"},
    )
    assert proc.returncode == 0, proc.stderr


RECORDED_INDEX = Path(__file__).resolve().parent / "resources" / "argos" / "index.json"
ARGOS_FILES = "https://argos-net.com/v1/"


def test_the_real_index_gives_the_packages_argospm_would_install(newsmon, env, home, tmp_path):
    """The index as Argos serves it (recorded), its download links pointed at loopback copies of the same file
    names: `install zh ru` takes zh→en and ru→en 1.9 (not zt, Traditional Chinese), as argospm would."""
    root = tmp_path / "argos-net"
    root.mkdir()
    text = RECORDED_INDEX.read_text(encoding="utf-8")
    for seed, lang in enumerate(("zh", "ru", "zt")):
        build_package(root, lang=lang, version="1.9", seed=seed)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    (root / "index.json").write_text(text.replace(ARGOS_FILES, base), encoding="utf-8")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        proc = newsmon("models", "install", "zh", "ru", env={**env, "ARGOS_PACKAGE_INDEX": base})
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 0, proc.stderr
    assert ARGOS_FILES in text and text.count(ARGOS_FILES) > 50  # the recorded index, links and all
    assert sorted(p.name for p in argos_default_dir(home).iterdir()) == ["translate-ru_en-1_9", "translate-zh_en-1_9"]
    for lang in ("zh", "ru"):
        assert f"installed {lang}→en  translate-{lang}_en 1.9" in proc.stdout
