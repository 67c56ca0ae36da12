"""`newsmon demo` lands the bundled Kremlin pages, English and Russian, without network, from any directory, once,
under their real URLs whatever port its server has; its Russian items wait for a model, its watch hits both
languages in context, its Russian section has a subject. The English pages are the tests' Kremlin fixtures too,
kept once, with their origin and licence in pages.json."""

from __future__ import annotations

import json
from importlib import resources

from crawler.demo_site import demo_files, russian_page, russian_texts
from crawler.items import item_id
from tests.conftest import run_newsmon
from tests.recorded import RECORDED, recorded
from tests.test_crawl_bad_input import closed_port as free_port
from tests.tinymodel import build_package


def demo_items(out) -> list[dict]:
    return [json.loads(line) for f in out.glob("*/items.jsonl") for line in f.read_text("utf-8").splitlines()]


def test_demo_lands_english_and_russian_items_under_their_real_urls_whatever_the_port(tmp_path):
    out = tmp_path / "demo-out"
    env = {"ARGOS_PACKAGES_DIR": str(tmp_path / "no-models")}
    first = run_newsmon("demo", "--output", str(out), cwd=tmp_path, env={**env, "NEWSMON_DEMO_PORT": str(free_port())})
    assert first.returncode == 0, first.stdout + first.stderr
    items = demo_items(out)
    assert len(items) == len({i["id"] for i in items}) == 11 + len(russian_texts())
    # The ids of a real crawl: the hash of the real URL, not of a loopback one.
    assert all(
        i["id"] == item_id(i["canonical_url"])
        and i["url"].startswith(("http://en.kremlin.ru/events/", "http://kremlin.ru/events/"))
        for i in items
    ), [i["url"] for i in items]
    assert all(i["title"] and i["paragraphs"] for i in items)
    russian = [i for i in items if i["lang"] == "ru"]
    assert sorted(i["url"].rsplit("/", 1)[1] for i in russian) == sorted(russian_texts())
    assert all(i["translation"]["status"] == "pending" for i in russian)  # no model installed here
    assert all(i["translation"]["status"] == "not_needed" for i in items if i["lang"] == "en")
    assert "Launching motor traffic on completed sections of Taurida motorway" in first.stdout
    assert "Владимир Путин встретится с Президентом Бразилии Дилмой Руссефф" in first.stdout
    assert first.stdout.strip().splitlines()[-1].startswith("translation: no zh→en, ru→en model installed")
    # The watch hits the event in both languages, with the matched words in their sentence.
    hits = {i["lang"]: w for i in items for w in i.get("watch", []) if w["name"] == "Brazil"}
    assert set(hits) == {"en", "ru"} and hits["ru"]["found"] == ["Бразилии"], hits
    assert "Президентом [Бразилии] Дилмой" in first.stdout and "President of [Brazil] Dilma" in first.stdout
    assert "subject of kremlin-ru/news: 2 of 2 new item(s) on it" in first.stdout, first.stdout

    again = run_newsmon("demo", "--output", str(out), cwd=tmp_path, env={**env, "NEWSMON_DEMO_PORT": str(free_port())})
    assert again.returncode == 0 and "nothing new" in again.stdout, again.stdout + again.stderr
    assert sorted(i["id"] for i in demo_items(out)) == sorted(i["id"] for i in items)


def test_with_the_ru_model_installed_the_demo_translates_its_russian_items(tmp_path):
    from crawler.translation import models

    packages = tmp_path / "packages"
    models.install_file(build_package(tmp_path, lang="ru", seed=1), packages)  # random weights: state, not meaning
    out = tmp_path / "demo-out"
    proc = run_newsmon("demo", "--output", str(out), cwd=tmp_path, env={"ARGOS_PACKAGES_DIR": str(packages)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    russian = [i for i in demo_items(out) if i["lang"] == "ru"]
    assert russian and all(i["translation"]["status"] == "done" and i["text_en"] for i in russian)
    assert all(f"{i['id']}  ru done" in proc.stdout for i in russian), proc.stdout
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("translation: no zh→en model installed") and "newsmon models install zh " in last


def test_each_russian_page_is_the_recorded_english_markup_marked_reconstructed():
    readme = (resources.files("crawler") / "demo" / "README.md").read_text("utf-8")
    files = demo_files()
    for ident, text in russian_texts().items():
        page = russian_page(files[f"news-{ident}.html"], text).decode("utf-8")
        assert page.startswith("<!-- newsmon demo: RECONSTRUCTED page") and '<html lang="ru"' in page
        assert text["title"] in page and all(p in page for p in text["paragraphs"])
        assert (
            f"kremlin-ru/news-{ident}.json" in readme and f"http://kremlin.ru/events/president/news/{ident}" in readme
        )


def test_bundled_pages_are_kept_once_with_their_origin_and_licence():
    pages = {p["file"]: p for p in json.loads((RECORDED / "pages.json").read_text("utf-8"))["pages"]}
    bundled = [f"kremlin-en/{name}" for name in demo_files()]
    assert bundled
    for name in bundled:
        assert pages[name]["license"].startswith("CC BY 4.0") and pages[name]["commit"], name
        assert not (RECORDED / name).exists(), f"{name}: a second copy under tests/resources/recorded"
    missing = [name for name in pages if not recorded(name).is_file()]
    assert not missing, missing
