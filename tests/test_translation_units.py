"""Translation building blocks without a model: sentence splitting, the glossary, the memory, settings."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

from crawler.exceptions import ConfigError
from crawler.translation.glossary import Glossary, load_glossary
from crawler.translation.memory import TranslationMemory
from crawler.translation.settings import TranslationSettings
from crawler.translation.splitter import split_sentences


def test_chinese_splits_on_end_marks_and_keeps_closing_quotes():
    text = "习近平会见王毅。他说：“我们很好！”然后呢？双方同意；会谈继续……完"
    assert split_sentences(text, "zh") == [
        "习近平会见王毅。",
        "他说：“我们很好！”",
        "然后呢？",
        "双方同意；",
        "会谈继续……",
        "完",
    ]


def test_russian_keeps_initials_and_abbreviations_inside_a_sentence():
    text = (
        "В.Путин встретился с С. Лавровым, т.е. с Министром. Затем В. В. Путин уехал в г. Москва. "
        "В 2024 г. Он сказал: «Да!» Потом — ничего... И т.д. Конец."
    )
    assert split_sentences(text, "ru") == [
        "В.Путин встретился с С. Лавровым, т.е. с Министром.",
        "Затем В. В. Путин уехал в г. Москва.",
        "В 2024 г.",
        "Он сказал: «Да!»",
        "Потом — ничего...",
        "И т.д.",
        "Конец.",
    ]


def test_split_never_loses_text_and_caps_run_on_sentences():
    text = "Лавров заявил, " * 60 + "и всё."
    pieces = split_sentences(text, "ru", max_chars=100)
    assert all(len(p) <= 100 for p in pieces) and len(pieces) > 5
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")


def test_glossary_matches_russian_inflected_forms_whole_words_only():
    g = load_glossary()
    protected, names = g.protect("Встреча Владимира Путина с Лавровым; Путину и Захаровой. лавров венок.", "ru")
    assert protected == "Встреча Vladimir Putin с Lavrov; Putin и Zakharova. лавров венок."
    assert names == ["Vladimir Putin", "Zakharova", "Lavrov", "Putin"]
    assert g.protect("Путинизм", "ru") == ("Путинизм", [])


def test_glossary_protects_chinese_names_and_cuts_pieces_around_them():
    g = load_glossary()
    protected, names = g.protect("习近平会见王毅，普京。", "zh")
    assert protected == "Xi Jinping 会见 Wang Yi，Putin。" and names == ["Xi Jinping", "Wang Yi", "Putin"]
    assert Glossary.segments(protected, names) == [
        ("Xi Jinping", True),
        ("会见", False),
        ("Wang Yi", True),
        ("，", False),
        ("Putin", True),
        ("。", False),
    ]


def test_glossary_repair_corrects_variants_and_reports_a_lost_name():
    g = load_glossary()
    assert g.repair("Si Jinping and XI JINPING met.", ["Xi Jinping"], "ru") == "Xi Jinping and Xi Jinping met."
    assert g.repair("The leaders met.", ["Xi Jinping"], "ru") is None


def test_user_glossary_overrides_and_extends(tmp_path):
    user = tmp_path / "names.toml"
    user.write_text('[zh]\n"普京" = "Vladimir Putin"\n"中方" = "the Chinese side"\n', encoding="utf-8")
    g = load_glossary(user)
    assert g.protect("中方欢迎普京", "zh") == (
        "the Chinese side 欢迎 Vladimir Putin",
        ["Vladimir Putin", "the Chinese side"],
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ('[ru]\n"Путин" = 3\n', "[ru] 'Путин': expected"),
        ('[ru]\n"Путин" = { en = "Putin", spelling = [] }\n', "unknown key(s) spelling"),
        ("[ru\n", "not valid TOML"),
    ],
)
def test_bad_glossary_file_is_one_clear_error(tmp_path, text, message):
    user = tmp_path / "names.toml"
    user.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"names\.toml") as err:
        load_glossary(user)
    assert message in str(err.value)


def test_memory_is_keyed_by_model_name_and_version(tmp_path):
    memory = TranslationMemory(tmp_path / "tm.sqlite")
    v1, v2 = {"name": "translate-zh_en", "version": "1.0"}, {"name": "translate-zh_en", "version": "1.9"}
    memory.store(v1, {"你好。": "Hello.", "谢谢。": "Thanks."})
    assert memory.lookup(v1, ["你好。", "再见。"]) == {"你好。": "Hello."}
    assert memory.lookup(v2, ["你好。"]) == {}
    memory.close()
    assert TranslationMemory(tmp_path / "tm.sqlite").lookup(v1, ["谢谢。"]) == {"谢谢。": "Thanks."}


def test_memory_keeps_a_digest_of_the_input_not_its_text(tmp_path):
    memory = TranslationMemory(tmp_path / "tm.sqlite")
    model = {"name": "translate-ru_en", "version": "1.9"}
    memory.store(model, {"Путин провёл совещание.": "Putin held a meeting."})
    memory.close()
    raw = (tmp_path / "tm.sqlite").read_bytes()
    assert "Путин".encode() not in raw and b"Putin held a meeting." in raw
    assert TranslationMemory(tmp_path / "tm.sqlite").lookup(model, ["Путин провёл совещание."]) == {
        "Путин провёл совещание.": "Putin held a meeting."
    }


def test_a_memory_of_the_earlier_layout_is_converted_on_opening(tmp_path):
    path = tmp_path / "tm.sqlite"
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            "CREATE TABLE memory (model TEXT NOT NULL, version TEXT NOT NULL, source TEXT NOT NULL, "
            "target TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (model, version, source)) "
            "WITHOUT ROWID"
        )
        conn.executemany(
            "INSERT INTO memory VALUES (?, ?, ?, ?, ?)",
            [
                ("translate-zh_en", "1.0", "你好。", "Hello.", "2026-11-01T00:00:00Z"),
                ("translate-zh_en", "1.9", "你好。", "Hi.", "2026-11-02T00:00:00Z"),
                ("translate-ru_en", "1.9", "Спасибо.", "Thanks.", "2026-11-02T00:00:00Z"),
            ],
        )
    memory = TranslationMemory(path)
    assert memory.count() == 3
    assert memory.lookup({"name": "translate-zh_en", "version": "1.0"}, ["你好。"]) == {"你好。": "Hello."}
    assert memory.lookup({"name": "translate-zh_en", "version": "1.9"}, ["你好。"]) == {"你好。": "Hi."}
    assert memory.lookup({"name": "translate-ru_en", "version": "1.9"}, ["Спасибо."]) == {"Спасибо.": "Thanks."}
    memory.close()
    with closing(sqlite3.connect(path)) as conn:
        assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'memory'").fetchone()


@pytest.mark.parametrize(
    "table, key",
    [
        ({"beam_size": 0}, "beam_size"),
        ({"batch_size": "32"}, "batch_size"),
        ({"languages": "zh"}, "languages"),
        ({"beam": 4}, "beam"),
        ({"compute_type": "int4"}, "compute_type"),
    ],
)
def test_bad_translation_settings_name_the_key(table, key):
    with pytest.raises(ConfigError, match=rf"\[translation\] {key}:"):
        TranslationSettings.from_table(table)
