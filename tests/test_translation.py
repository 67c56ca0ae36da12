"""Offline translation end to end, with a tiny but real Argos package built at test time.

The package (random-weight CTranslate2 Transformer + SentencePiece trained on a few lines) is installed
through ``newsmon models install`` and run through the same code as a real one. Random weights make garbage
words, deterministically: the tests check structure, status fields, determinism, the memory and the
glossary — never meaning.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import sys
import threading
from contextlib import closing
from pathlib import Path

import pytest

from crawler import state
from crawler.config import load_config
from crawler.items import content_hash, empty_translation
from crawler.runner import CycleContext
from crawler.store import dayfiles
from crawler.store import items as item_store
from crawler.translation.settings import TranslationSettings
from crawler.translation.stage import run_stage, translate_pending
from tests.tinymodel import build_package

pytestmark = pytest.mark.usefixtures("state_backend")  # every test on SQLite and on PostgreSQL

DAY1, DAY2 = "2026-11-27", "2026-11-28"
CONFIG = """\
[translation]
beam_size = 2
batch_size = 8
max_decoding_length = 12
"""


@pytest.fixture(scope="session")
def packages(tmp_path_factory) -> dict[str, Path]:
    """Real .argosmodel files for zh→en and ru→en (built once per session, under a second each)."""
    folder = tmp_path_factory.mktemp("argos-files")
    return {lang: build_package(folder, lang=lang, seed=i) for i, lang in enumerate(("zh", "ru"))}


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """A private Argos home: packages dir, data/config/cache dirs (Argos creates them on import)."""
    home = tmp_path / "home"
    return {
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "ARGOS_PACKAGES_DIR": str(tmp_path / "packages"),
    }


@pytest.fixture
def workdir(tmp_path) -> Path:
    (tmp_path / "config.toml").write_text(CONFIG, encoding="utf-8")
    return tmp_path


def make_item(ident: str, lang: str, title, paragraphs, paragraph_langs=None) -> dict:
    item = {
        "id": ident,
        "source": "test",
        "section": "news",
        "section_key": "test/news",
        "url": f"http://127.0.0.1/{ident}",
        "canonical_url": f"http://127.0.0.1/{ident}",
        "title": title,
        "paragraphs": paragraphs,
        "text": "\n\n".join(paragraphs) if isinstance(paragraphs, list) else paragraphs,
        "lang": lang,
        "lang_confidence": 0.99,
        "paragraph_langs": paragraph_langs,
        "content_hash": content_hash(title, paragraphs if isinstance(paragraphs, list) else [paragraphs]),
        "version": 1,
    }
    item.update(empty_translation(lang))
    return item


def store_items(output: Path, day: str, items: list[dict]) -> None:
    """Items as the crawl stores them: one ``items`` row each (through the item store), then <day>/items.jsonl
    exported from the DB."""
    with closing(state.connect(output)) as conn:
        with state.transaction(conn):
            for item in items:
                assert item_store.insert(conn, item, day), f"item {item['id']} is already stored"
        dayfiles.export_changed(conn, output)


def rows(output: Path) -> dict[str, dict]:
    conn = state.connect(output)
    try:
        return {r["id"]: item_store.loads(r["json"]) for r in conn.execute("SELECT id, json FROM items")}
    finally:
        conn.close()


def lines(output: Path, day: str) -> list[dict]:
    return dayfiles.read_items(output, day)


ZH = make_item(
    "zh1",
    "zh",
    "习近平会见王毅",
    ["习近平会见王毅。中俄两国人民友谊源远流长！", "双方同意加强合作；会谈在友好气氛中举行……", "普京总统访问北京。"],
)
RU = make_item(
    "ru1",
    "ru",
    "Путин провёл переговоры с Си Цзиньпином",
    [
        "Президент России Владимир Путин провёл переговоры. В.Путин заявил, что всё хорошо!",
        "The Kremlin published an English summary.",
        "Министр иностранных дел Сергей Лавров встретился с Ван И, т.е. с главой МИД Китая.",
    ],
    ["ru", "en", "ru"],
)
EN = make_item("en1", "en", "President held talks", ["The President of Russia held talks."])


def install(newsmon, env, *files: Path) -> None:
    args = [a for f in files for a in ("--file", str(f))]
    newsmon("models", "install", *args, env=env, check=True)


def test_install_from_file_then_list(newsmon, env, packages, tmp_path):
    bad = tmp_path / "not-a-model.argosmodel"
    bad.write_bytes(b"definitely not a zip")
    proc = newsmon("models", "install", "--file", str(bad), env=env)
    assert proc.returncode == 2 and "not an Argos package" in proc.stderr and "Traceback" not in proc.stderr
    assert newsmon("models", "list", env=env).returncode == 1  # nothing installed: attention needed
    proc = newsmon("models", "install", "--file", str(packages["zh"]), "--file", str(packages["ru"]), env=env)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in Path(env["ARGOS_PACKAGES_DIR"]).iterdir()) == [
        "translate-ru_en-1_0",
        "translate-zh_en-1_0",
    ]
    listing = newsmon("models", "list", env=env, check=True).stdout
    assert "zh→en  translate-zh_en" in listing and "ru→en  translate-ru_en" in listing
    assert "missing" not in listing


@pytest.fixture
def index_server(tmp_path, packages):
    """The Argos package index and its files, on loopback (what `models install zh ru` downloads)."""
    root = tmp_path / "index"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    entries = []
    for lang, path in packages.items():
        shutil.copy(path, root / path.name)
        entries.append(
            {
                "type": "translate",
                "from_code": lang,
                "to_code": "en",
                "package_version": "1.0",
                "argos_version": "1.9",
                "links": [base + path.name],
            }
        )
    (root / "index.json").write_text(json.dumps(entries), encoding="utf-8")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield base
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_install_from_the_package_index(newsmon, env, index_server):
    proc = newsmon("models", "install", "zh", "ru", env={**env, "ARGOS_PACKAGE_INDEX": index_server})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("installed ") == 2
    assert "translate-zh_en" in newsmon("models", "list", env=env, check=True).stdout


def test_install_without_network_says_how_to_install_offline(newsmon, env):
    proc = newsmon("models", "install", "zh", env={**env, "ARGOS_PACKAGE_INDEX": "http://127.0.0.1:9/"})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "needs the Internet" in proc.stderr and "--file PATH.argosmodel" in proc.stderr


def test_no_model_keeps_items_pending_with_one_warning(newsmon, env, workdir):
    out = workdir / "output"
    store_items(out, DAY1, [ZH, RU, EN])
    before = (out / DAY1 / "items.jsonl").read_bytes()
    proc = newsmon("translate", "--pending", "--output", str(out), "--config", str(workdir / "config.toml"), env=env)
    assert proc.returncode == 1
    warnings = [line for line in proc.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1 and "newsmon models install ru zh" in warnings[0], proc.stderr
    assert (out / DAY1 / "items.jsonl").read_bytes() == before
    assert {i: r["translation"]["status"] for i, r in rows(out).items()} == {
        "zh1": "pending",
        "ru1": "pending",
        "en1": "not_needed",
    }


def test_translate_pending_updates_rows_and_lines_in_place(newsmon, env, packages, workdir):
    install(newsmon, env, packages["zh"], packages["ru"])
    out = workdir / "output"
    store_items(out, DAY1, [ZH, EN])
    store_items(out, DAY2, [RU])
    proc = newsmon("translate", "--pending", "--output", str(out), "--config", str(workdir / "config.toml"), env=env)
    assert proc.returncode == 0, proc.stderr
    assert "2 translated, 0 failed" in proc.stdout
    assert "translate: sentences:" in proc.stderr  # plain progress lines: not a terminal
    by_id = {item["id"]: item for item in lines(out, DAY1) + lines(out, DAY2)}
    assert [i["id"] for i in lines(out, DAY1)] == ["zh1", "en1"] and [i["id"] for i in lines(out, DAY2)] == ["ru1"]
    assert rows(out) == by_id  # DB rows and JSONL lines agree
    for ident, source in (("zh1", ZH), ("ru1", RU)):
        item = by_id[ident]
        assert len(item["paragraphs_en"]) == len(source["paragraphs"])
        assert all(isinstance(p, str) and p for p in item["paragraphs_en"]) and item["title_en"]
        assert item["text_en"] == "\n\n".join(item["paragraphs_en"])
        assert item["paragraphs"] == source["paragraphs"] and item["title"] == source["title"]
        t = item["translation"]
        assert t["status"] == "done" and t["error"] is None and t["translated_at"]
        assert t["model"] == {"name": f"translate-{ident[:2]}_en", "version": "1.0"}
        assert t["engine"].startswith("ctranslate2 ")
    assert by_id["ru1"]["paragraphs_en"][1] == "The Kremlin published an English summary."  # English kept
    assert by_id["en1"] == EN  # English item untouched: not_needed
    again = newsmon("translate", "--pending", "--output", str(out), env=env, check=True)
    assert again.stdout.strip() == "nothing to translate"


def _settings(env: dict, **over) -> TranslationSettings:
    return TranslationSettings(
        packages_dir=env["ARGOS_PACKAGES_DIR"], beam_size=2, batch_size=8, max_decoding_length=12, **over
    )


def _reset_to_pending(out: Path, items: list[dict]) -> None:
    """Put the untranslated versions back (through the item store) and export the day files."""
    with closing(state.connect(out)) as conn:
        with state.transaction(conn):
            for item in items:
                item_store.replace(conn, item)
        dayfiles.export_changed(conn, out)


def test_rerun_is_served_entirely_from_the_memory(newsmon, env, packages, workdir, monkeypatch):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    install(newsmon, env, packages["zh"], packages["ru"])
    out = workdir / "output"
    store_items(out, DAY1, [ZH, RU])
    config = load_config(workdir / "config.toml", output_dir=out)
    first = run_stage(CycleContext(config, out, run_id=1, day=DAY1))  # the post-crawl stage contract
    dayfiles.export_now(out)  # what the runner does after the post-crawl stages
    assert first["done"] == 2 and first["model_calls"] > 0 and first["by_model"] > 0
    assert not {"argostranslate.translate", "stanza", "torch"} & set(sys.modules)  # the light path only
    translated = {i["id"]: i for i in lines(out, DAY1)}
    _reset_to_pending(out, [ZH, RU])
    assert [i["translation"]["status"] for i in lines(out, DAY1)] == ["pending", "pending"]
    second = translate_pending(_settings(env), out)
    dayfiles.export_now(out)
    assert second["done"] == 2
    assert second["model_calls"] == 0 and second["by_model"] == 0
    assert second["from_memory"] == first["from_memory"] + first["by_model"]
    for item in lines(out, DAY1):  # same English, deterministic
        assert {k: item[k] for k in ("title_en", "paragraphs_en")} == {
            k: translated[item["id"]][k] for k in ("title_en", "paragraphs_en")
        }
    assert len(lines(out, DAY1)) == 2


def test_glossary_names_always_match(newsmon, env, packages, workdir, tmp_path):
    install(newsmon, env, packages["zh"], packages["ru"])
    (tmp_path / "names.toml").write_text('[zh]\n"毛宁" = "Spokesperson Mao Ning"\n', encoding="utf-8")
    (workdir / "config.toml").write_text(CONFIG + f'glossary = "{tmp_path / "names.toml"}"\n', encoding="utf-8")
    out = workdir / "output"
    zh = make_item("zh2", "zh", "毛宁主持记者会", ["习近平会见王毅。", "普京总统访问北京。"])
    ru = make_item("ru2", "ru", "Путиным и Лавровым довольны", ["Встреча Владимира Путина с Си Цзиньпином."])
    store_items(out, DAY1, [zh, ru])
    newsmon(
        "translate", "--pending", "--output", str(out), "--config", str(workdir / "config.toml"), env=env, check=True
    )
    got = {i["id"]: i for i in lines(out, DAY1)}
    assert "Spokesperson Mao Ning" in got["zh2"]["title_en"]
    assert "Xi Jinping" in got["zh2"]["paragraphs_en"][0] and "Wang Yi" in got["zh2"]["paragraphs_en"][0]
    assert "Putin" in got["zh2"]["paragraphs_en"][1]
    assert "Putin" in got["ru2"]["title_en"] and "Lavrov" in got["ru2"]["title_en"]
    assert "Vladimir Putin" in got["ru2"]["paragraphs_en"][0] and "Xi Jinping" in got["ru2"]["paragraphs_en"][0]
    english = json.dumps([got["zh2"]["paragraphs_en"], got["ru2"]["paragraphs_en"]], ensure_ascii=False)
    assert not any(name in english for name in ("习近平", "王毅", "普京", "Путин", "Цзиньпин"))


def test_one_failing_item_loses_no_other(newsmon, env, packages, workdir):
    install(newsmon, env, packages["zh"], packages["ru"])
    out = workdir / "output"
    broken = make_item("zh-bad", "zh", "标题", ["段落。"])
    broken["paragraphs"] = ["第一段。", None]  # a hand-edited line, say
    store_items(out, DAY1, [ZH, broken, RU])
    proc = newsmon("translate", "--pending", "--output", str(out), "--config", str(workdir / "config.toml"), env=env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "2 translated, 1 failed" in proc.stdout
    got = {i["id"]: i for i in lines(out, DAY1)}
    assert len(lines(out, DAY1)) == 3 and rows(out) == got
    assert got["zh-bad"]["translation"]["status"] == "failed"
    assert "paragraphs" in got["zh-bad"]["translation"]["error"] and got["zh-bad"]["paragraphs_en"] is None
    assert got["zh-bad"]["paragraphs"] == ["第一段。", None]  # the original is kept as it was
    assert got["zh1"]["translation"]["status"] == got["ru1"]["translation"]["status"] == "done"
    retry = newsmon("translate", "--failed", "--output", str(out), env=env)
    assert retry.returncode == 1 and "1 item(s): 0 translated, 1 failed" in retry.stdout
    assert {i["id"]: i for i in lines(out, DAY1)}["zh1"] == got["zh1"]


def test_a_broken_model_fails_its_language_only(newsmon, env, packages, workdir):
    install(newsmon, env, packages["zh"], packages["ru"])
    model_bin = Path(env["ARGOS_PACKAGES_DIR"]) / "translate-ru_en-1_0" / "model" / "model.bin"
    model_bin.write_bytes(model_bin.read_bytes()[:1000])  # a truncated copy, say
    out = workdir / "output"
    store_items(out, DAY1, [ZH, RU])
    proc = newsmon("translate", "--pending", "--output", str(out), "--config", str(workdir / "config.toml"), env=env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert sum("cannot load model translate-ru_en" in line for line in proc.stderr.splitlines()) == 1
    got = {i["id"]: i for i in lines(out, DAY1)}
    assert got["zh1"]["translation"]["status"] == "done"
    assert got["ru1"]["translation"]["status"] == "failed"
    assert "cannot load model translate-ru_en 1.0" in got["ru1"]["translation"]["error"]
