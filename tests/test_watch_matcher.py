"""Watch phrases: the matcher's rules and the [[watch]] validation (pure functions, no I/O)."""

from __future__ import annotations

import pytest

from crawler.config import load_config
from crawler.exceptions import ConfigError
from crawler.watch.matcher import Matcher
from crawler.watch.settings import Watch, watches_of


def item(title="", text="", title_en=None, text_en=None, section="kremlin-ru/news") -> dict:
    return {"id": "x", "section_key": section, "title": title, "text": text, "title_en": title_en, "text_en": text_en}


def hits(watch: Watch, **fields) -> dict:
    return {h.name: h for h in Matcher([watch]).match(item(**fields))}


@pytest.mark.parametrize(
    "text, matched",
    [
        ("President Xi Jinping arrived.", True),
        ("XI JINPING arrived.", True),  # case
        ("Xi  Jinping\narrived.", True),  # any whitespace between the words
        ("Xinhua reported.", False),  # word boundary: Xi is not Xinhua
        ("XiJinping", False),
    ],
)
def test_latin_phrases_match_whole_words_in_any_case(text, matched):
    assert bool(hits(Watch("Xi", ("Xi Jinping", "Xi")), text=text)) is matched


def test_a_trailing_star_matches_russian_inflections_and_nothing_before_the_stem():
    watch = Watch("Putin", ("Путин*",))
    for form in ("Путин", "Путина", "Путину", "Путиным", "Путине", "ПУТИНА"):
        hit = hits(watch, text=f"Встреча с {form} состоялась.")["Putin"]
        assert hit.found == (form,) and hit.phrases == ("Путин*",)
    assert not hits(watch, text="Распутин и распутина")  # the stem starts a word
    assert not hits(Watch("Putin", ("Путин",)), text="Встреча с Путиным")  # no star: the exact word only


def test_yo_and_ye_are_one_letter():
    assert hits(Watch("Lavrov", ("Сергей Лавров",)), text="Сергей Лавров заявил")
    assert hits(Watch("Fyodor", ("Фёдор*",)), text="Федору сообщили")
    assert hits(Watch("Fyodor", ("Федор",)), text="Фёдор сообщил")["Fyodor"].found == ("Фёдор",)


def test_chinese_phrases_match_as_substrings():
    watch = Watch("Xi", ("习近平",))
    hit = hits(watch, title="习近平主席致贺信", text="中方表示，习近平主席的贺信阐明了")["Xi"]
    assert hit.fields == ("title", "text") and hit.found == ("习近平",)
    assert not hits(watch, text="习近主席")
    assert hits(Watch("APEC", ("APEC",)), text="出席APEC会议")  # a Latin word beside Han characters
    assert hits(Watch("JP", ("岸田*",)), text="岸田文雄首相")  # a star on a CJK phrase changes nothing


def test_english_phrase_finds_a_chinese_item_through_its_translation():
    watch = Watch("Xi", ("Xi Jinping",))
    zh = dict(title="习近平会见王毅", text="习近平会见王毅。")
    assert not hits(watch, **zh)  # not translated yet
    hit = hits(watch, **zh, title_en="Xi Jinping meets Wang Yi", text_en="Xi Jinping met Wang Yi.")["Xi"]
    assert hit.fields == ("title_en", "text_en")
    both = hits(Watch("Xi", ("Xi Jinping", "习近平")), **zh, title_en="Xi Jinping meets Wang Yi")["Xi"]
    assert both.phrases == ("Xi Jinping", "习近平") and both.fields == ("title", "text", "title_en")
    field = {k: v for k, v in both.as_field().items() if k != "contexts"}
    assert field == {
        "name": "Xi",
        "phrases": ["Xi Jinping", "习近平"],
        "found": ["Xi Jinping", "习近平"],
        "in": ["title", "text", "title_en"],
    }
    assert [c["in"] for c in both.as_field()["contexts"]] == ["title", "text"]


def test_exclude_phrases_drop_the_item_from_that_watch_only():
    putin = Watch("Putin", ("Putin",), exclude=("Putin Street", "улица Путина"))
    other = Watch("Grozny", ("Grozny",))
    matcher = Matcher([putin, other])
    assert [h.name for h in matcher.match(item(text="Putin visited Grozny."))] == ["Putin", "Grozny"]
    assert [h.name for h in matcher.match(item(text="Putin Street in Grozny was renamed."))] == ["Grozny"]
    assert [h.name for h in matcher.match(item(text="Путин", text_en="Putin Street"))] == []


def test_sections_filter_on_source_slash_section():
    watch = Watch("Lavrov", ("Lavrov",), sections=("mid/*", "tass-*/politics"))
    assert hits(watch, text="Lavrov said", section="mid/news")
    assert hits(watch, text="Lavrov said", section="tass-en/politics")
    assert not hits(watch, text="Lavrov said", section="tass-en/economy")
    assert not hits(watch, text="Lavrov said", section="kremlin-en/news")


def test_found_forms_keep_the_text_s_case_and_the_fields_their_order():
    hit = hits(
        Watch("Putin", ("Putin*", "Путин*")), title="Путину доложили", text="PUTIN and putin", text_en="Putin's visit"
    )["Putin"]
    assert hit.phrases == ("Putin*", "Путин*") and hit.fields == ("title", "text", "text_en")
    assert hit.found == ("PUTIN", "Путину")  # one form per spelling, case aside


def test_missing_or_null_fields_are_skipped():
    assert Matcher([Watch("X", ("X",))]).match({"id": "x", "title": None, "text": None}) == []


# ---------------------------------------------------------------- the [[watch]] entries


def config_of(tmp_path, text: str):
    path = tmp_path / "user.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_watches_are_read_normalised_and_the_shipped_default_has_none(tmp_path):
    assert watches_of(load_config()) == []
    config = config_of(
        tmp_path,
        '[[watch]]\nname = "Kremlin"\nphrases = ["Путин*", "  Xi   Jinping "]\n'
        'sections = ["kremlin-*/*"]\nexclude = ["Putin Street"]\n'
        '[[watch]]\nname = "Off"\nphrases = ["x"]\nenabled = false\n',
    )
    assert watches_of(config) == [Watch("Kremlin", ("Путин*", "Xi Jinping"), ("kremlin-*/*",), ("Putin Street",))]


@pytest.mark.parametrize(
    "body, line, words",
    [  # the second entry's header is line 5
        ('name = "A"\nphrases = ["x"]\nphrase = ["y"]\n', 8, "[[watch]] #2.phrase: unknown key"),
        ('name = "A"\nphrases = "Putin"\n', 7, "[[watch]] #2.phrases: expected list, got str"),
        ('name = "A"\nphrases = []\n', 7, "[[watch]] #2.phrases: required"),
        ('name = "two words"\nphrases = ["x"]\n', 6, "[[watch]] #2.name: required: one word"),
        ('phrases = ["x"]\n', 5, "[[watch]] #2: required: one word"),
        ('name = "A"\nphrases = ["Pu*tin"]\n', 7, "only one trailing *"),
        ('name = "A"\nphrases = ["*"]\n', 7, "at least one letter"),
        ('name = "A"\nphrases = [""]\n', 7, "expected non-empty strings"),
        ('name = "A"\nphrases = ["x"]\nexclude = [3]\n', 8, "[[watch]] #2.exclude: expected non-empty strings"),
        ('name = "A"\nphrases = ["x"]\nsections = [""]\n', 8, "[[watch]] #2.sections: expected fnmatch patterns"),
        ('name = "Ok"\nphrases = ["y"]\n', 6, "[[watch]] #2.name: duplicate name 'Ok'"),
    ],
)
def test_a_bad_entry_is_one_message_at_its_file_and_line(tmp_path, body, line, words):
    config = config_of(tmp_path, f'[[watch]]\nname = "Ok"\nphrases = ["x"]\n\n[[watch]]\n{body}')
    with pytest.raises(ConfigError) as err:
        watches_of(config)
    assert str(err.value).startswith(f"{tmp_path / 'user.toml'}:{line}: "), str(err.value)
    assert words in str(err.value)


def test_a_watch_table_instead_of_an_array_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"\[watch\]: expected an array of tables \(\[\[watch\]\]\)"):
        watches_of(config_of(tmp_path, '[watch]\nname = "A"\n'))
