"""In ``newsmon run`` the translation models live in a process of their own, one model at a time, and go with
it; a failure there is one error line and leaves the items pending. Real runs, a tiny real Argos model.

A ``sitecustomize`` on the runs' PYTHONPATH (it loads in every Python process of the run) records which
process loads which model and how many are loaded at once, and can kill the translation process as the
kernel's out-of-memory killer would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.localsite import write_loopback_config
from crawler.store import items as item_store
from tests.alerting import rows
from tests.sitesrv import Route
from tests.tinymodel import build_package

ZH = (
    "习近平会见王毅",
    [
        "习近平会见王毅。中俄两国人民友谊源远流长！双方同意加强合作；会谈在友好气氛中举行……",
        "外交部发言人毛宁主持例行记者会。记者问：中方对此有何评论？普京总统访问北京。",
    ],
)
RU = (
    "Путин провёл переговоры с Си Цзиньпином",
    [
        "Президент России Владимир Путин провёл переговоры с Председателем КНР Си Цзиньпином. В.Путин заявил, что "
        "отношения двух стран находятся на беспрецедентно высоком уровне!",
        "Министр иностранных дел Сергей Лавров встретился с Ван И, т.е. с главой МИД Китая. Официальный "
        "представитель МИД Мария Захарова ответила на вопросы журналистов.",
    ],
)
ENGLISH = (
    "Talks in the Kremlin",
    [
        "The President of Russia held talks with the President of China in the "
        "Kremlin on Monday, the press service said in a statement.",
        "Foreign Minister Sergei Lavrov met Wang Yi; the talks were held in a friendly "
        "atmosphere and covered trade, energy and security in the region.",
    ],
)

SITECUSTOMIZE = """
import os
import sys

sys.path.insert(0, os.environ["TEST_ROOT"])      # site runs before `python -m` puts the checkout on sys.path

if os.environ.get("TEST_RUN_LOG"):
    import atexit
    import json

    def _record_run():
        if sys.argv[1:2] == ["run"]:                 # the run's own process (the translation one runs -c)
            with open(os.environ["TEST_RUN_LOG"], "w") as log:
                json.dump({"pid": os.getpid(), "ctranslate2": "ctranslate2" in sys.modules}, log)

    atexit.register(_record_run)

if os.environ.get("TEST_ENGINE_LOG"):
    import json
    from crawler.translation import engine as _engine

    _loaded = set()
    _init, _close, _translate = _engine.Engine.__init__, _engine.Engine.close, _engine.Engine.translate

    def __init__(self, package, settings):
        _init(self, package, settings)
        _loaded.add(id(self))
        with open(os.environ["TEST_ENGINE_LOG"], "a") as log:
            log.write(json.dumps({"pid": os.getpid(), "lang": package.from_code, "loaded": len(_loaded)}) + "\\n")

    def close(self):
        _loaded.discard(id(self))
        _close(self)

    def translate(self, sentences, progress=None):
        if os.environ.get("TEST_KILL_TRANSLATION"):
            os.kill(os.getpid(), 9)                  # as the out-of-memory killer ends a process
        if os.environ.get("TEST_SLOW_TRANSLATION"):
            import time
            time.sleep(120)
        return _translate(self, sentences, progress)

    _engine.Engine.__init__, _engine.Engine.close, _engine.Engine.translate = __init__, close, translate
"""


@pytest.fixture(scope="module")
def packages(tmp_path_factory) -> Path:
    """zh→en and ru→en, installed (unzipped) into one packages dir."""
    from crawler.translation import models

    folder = tmp_path_factory.mktemp("argos")
    target = folder / "packages"
    for seed, lang in enumerate(("zh", "ru")):
        models.install_file(build_package(folder, lang=lang, seed=seed), target)
    return target


@pytest.fixture
def site(site_server):
    pages = {"/news/zh.html": ZH, "/news/ru.html": RU, "/news/en.html": ENGLISH}
    for path, (title, paragraphs) in pages.items():
        body = "".join(f"<p>{p}</p>" for p in paragraphs)
        site_server.routes[path] = Route(
            f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            f"<article><h1>{title}</h1>{body}</article></body></html>".encode()
        )
    links = "".join(f"<li><a href='{path}'>{path}</a></li>" for path in pages)
    site_server.routes["/news/"] = Route(f"<html><body><ul>{links}</ul></body></html>".encode())
    return site_server


def run_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    home = tmp_path / "home"
    root = str(Path(__file__).resolve().parent.parent)
    return {
        "PYTHONPATH": str(site),
        "TEST_ROOT": root,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_CACHE_HOME": str(home / "cache"),
        **extra,
    }


def config(tmp_path: Path, server, packages: Path, out: Path, enabled: bool = True) -> Path:
    sections = [{"id": "news", "kind": "listing", "url": f"{server.url}/news/", "link_pattern": r"/news/\w+\.html$"}]
    return write_loopback_config(
        tmp_path / f"newsmon-{enabled}.toml",
        [{"id": "site", "sections": sections}],
        crawler={"output_dir": str(out)},
        translation={
            "enabled": enabled,
            "packages_dir": str(packages),
            "beam_size": 2,
            "batch_size": 8,
            "max_decoding_length": 12,
        },
    )


def translations(out: Path) -> dict[str, dict]:
    """lang → the item's translation fields (``translated_at`` left out: a time)."""
    got = {}
    for row in rows(out, "SELECT json FROM items"):
        item = item_store.loads(row["json"])
        translation = {k: v for k, v in item["translation"].items() if k != "translated_at"}
        got[item["lang"]] = {
            "title_en": item.get("title_en"),
            "paragraphs_en": item.get("paragraphs_en"),
            "translation": translation,
        }
    return got


def day_file_statuses(out: Path) -> dict[str, str]:
    return {
        item["lang"]: item["translation"]["status"]
        for path in out.glob("*/items.jsonl")
        for item in map(json.loads, path.read_text().splitlines())
    }


def test_models_load_in_a_process_of_their_own_one_at_a_time(tmp_path, site, packages, newsmon):
    out = tmp_path / "output"
    engine_log, run_log = tmp_path / "engines.jsonl", tmp_path / "run.json"
    env = run_env(tmp_path, TEST_ENGINE_LOG=str(engine_log), TEST_RUN_LOG=str(run_log))
    proc = newsmon("run", "--config", str(config(tmp_path, site, packages, out)), "-v", env=env, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    loads = [json.loads(line) for line in engine_log.read_text().splitlines()]
    assert sorted(load["lang"] for load in loads) == ["ru", "zh"]
    assert {load["loaded"] for load in loads} == {1}  # never two models at once
    assert len({load["pid"] for load in loads}) == 1  # one translation process…
    run = json.loads(run_log.read_text())
    assert loads[0]["pid"] != run["pid"]
    assert run["ctranslate2"] is False  # the run's process never loads CTranslate2
    # …whose log records reach the run's own console (-v: INFO)
    assert sum("loaded translate-zh_en" in line for line in proc.stderr.splitlines()) == 1, proc.stderr
    got = translations(out)
    assert got["zh"]["translation"]["status"] == got["ru"]["translation"]["status"] == "done"
    assert got["en"]["translation"]["status"] == "not_needed"
    assert day_file_statuses(out) == {"zh": "done", "ru": "done", "en": "not_needed"}

    # The same items translated by `newsmon translate --pending` (in its own process, as before): the same
    # English, field for field.
    apart = tmp_path / "apart"
    newsmon("run", "--config", str(config(tmp_path, site, packages, apart, enabled=False)), env=env, check=True)
    assert translations(apart)["zh"]["translation"]["status"] == "pending"
    newsmon(
        "translate",
        "--pending",
        "--config",
        str(config(tmp_path, site, packages, apart)),
        "--output",
        str(apart),
        env=env,
        check=True,
    )
    assert translations(apart) == got


def test_a_killed_translation_process_is_one_error_and_the_items_stay_pending(tmp_path, site, packages, newsmon):
    out = tmp_path / "output"
    cfg = config(tmp_path, site, packages, out)
    killed = run_env(tmp_path, TEST_ENGINE_LOG=str(tmp_path / "engines.jsonl"), TEST_KILL_TRANSLATION="1")
    proc = newsmon("run", "--config", str(cfg), env=killed, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr  # the crawl itself went well
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1, proc.stderr
    assert "translation failed: the translation process was killed by SIGKILL" in errors[0]
    assert "2 item(s) stay pending" in errors[0]
    assert (
        "stage crawler.translation.stage failed: translation failed: the translation process was killed" in proc.stdout
    )
    assert day_file_statuses(out) == {"zh": "pending", "ru": "pending", "en": "not_needed"}
    assert {lang: t["translation"]["status"] for lang, t in translations(out).items()} == {
        "zh": "pending",
        "ru": "pending",
        "en": "not_needed",
    }

    # The next run, nothing new crawled, translates them.
    again = newsmon("run", "--config", str(cfg), env=run_env(tmp_path), timeout=180)
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stdout + again.stderr
    assert day_file_statuses(out) == {"zh": "done", "ru": "done", "en": "not_needed"}


def test_an_exception_in_the_translation_process_is_one_error(tmp_path, site, packages, newsmon):
    out = tmp_path / "output"
    cfg = config(tmp_path, site, packages, out)
    (out / "memory-is-a-directory").mkdir(parents=True)  # the translation memory cannot be opened
    cfg.write_text(cfg.read_text().replace("[translation]", '[translation]\nmemory = "memory-is-a-directory"'))
    proc = newsmon("run", "--config", str(cfg), env=run_env(tmp_path), timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1, proc.stderr
    assert "translation failed: OperationalError: unable to open database file; 2 item(s) stay pending" in errors[0]
    assert day_file_statuses(out) == {"zh": "pending", "ru": "pending", "en": "not_needed"}


def test_sigterm_while_translating_ends_the_translation_process_too(tmp_path, site, packages):
    out = tmp_path / "output"
    engine_log = tmp_path / "engines.jsonl"
    env = {**os.environ, **run_env(tmp_path, TEST_ENGINE_LOG=str(engine_log), TEST_SLOW_TRANSLATION="1")}
    env.pop("NEWSMON_CONFIG", None)
    cfg = config(tmp_path, site, packages, out)
    run = subprocess.Popen(
        [sys.executable, "-m", "crawler", "run", "--config", str(cfg)],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (engine_log.exists() and engine_log.read_text()) and time.monotonic() < deadline:
            time.sleep(0.1)
        child = json.loads(engine_log.read_text().splitlines()[0])["pid"]  # loaded a model, now translating
        run.send_signal(signal.SIGTERM)
        _stdout, stderr = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 130, stderr
    assert "Traceback" not in stderr
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)  # gone, not left behind holding a model
    assert rows(out, "SELECT status FROM runs") == [{"status": "interrupted"}]
    assert day_file_statuses(out) == {"zh": "pending", "ru": "pending", "en": "not_needed"}
