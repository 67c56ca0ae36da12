"""Who said it: transcript speakers named once per person, over the recorded Kremlin transcripts (every label
variant they print) and the synthetic Eastern Economic Forum transcripts (the variants no capture has: capitals,
the typo "Fydor", the Russian site's "В.Путин", a pull quote); the watch limited to speakers' turns."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from crawler.config import load_config
from crawler.exceptions import ConfigError
from crawler.extract.extraction import extract_article
from crawler.extract.parsers.kremlin import speaker_turns
from crawler.extract.quotes import quotes_in
from crawler.extract.speakers import (
    distance,
    listed_name,
    name_turns,
    page_names,
    shipped,
    tokens,
    turns_of,
    within_speakers,
    words_close,
)
from crawler.watch.matcher import Matcher
from crawler.watch.settings import Watch, watches_of
from tests.recorded import recorded

SYN = Path(__file__).resolve().parent / "resources" / "synthetic"
EEF_EN = SYN / "kremlin-en-eef-plenary.SYNTHETIC.html"
EEF_RU = SYN / "kremlin-ru-eef-plenary.SYNTHETIC.html"
TRANSCRIPTS = ["52988", "56514", "57246", "62861", "63440", "8043"]  # the recorded pages with turns


def extracted(path: Path, url: str):
    return extract_article(path.read_text(encoding="utf-8"), url)


def item_of(path: Path, url: str, lang: str) -> dict:
    got = extracted(path, url)
    return {
        "id": "x",
        "source": "kremlin",
        "section": "transcripts",
        "section_key": "kremlin/transcripts",
        "url": url,
        "title": got.title,
        "text": "\n\n".join(got.paragraphs),
        "paragraphs": got.paragraphs,
        "lang": lang,
        "published_at": got.published_at,
        "extras": got.extras,
    }


def eef_en() -> dict:
    return item_of(EEF_EN, "http://en.kremlin.ru/events/president/transcripts/77777", "en")


def eef_ru(translated: bool = True) -> dict:
    item = item_of(EEF_RU, "http://kremlin.ru/events/president/transcripts/77777", "ru")
    if translated:  # as the translation stage keeps it: one English paragraph per original paragraph
        item["paragraphs_en"] = [
            f"EN{n}: {p}" if ":" not in p[:40] else f"Label: English of paragraph {n}"
            for n, p in enumerate(item["paragraphs"])
        ]
        item["text_en"] = "\n\n".join(item["paragraphs_en"])
    return item


def labels_to_names(turns: list[dict]) -> dict[str, str]:
    return {t["speaker_label"]: t["speaker"] for t in turns}


# ---------------------------------------------------------------- recorded transcripts


@pytest.mark.parametrize("number", TRANSCRIPTS)
def test_every_turn_of_a_recorded_transcript_keeps_its_label_and_gets_a_name(number):
    import lxml.html

    html = recorded(f"kremlin-en/news-{number}.html").read_text(encoding="utf-8")
    got = extract_article(html, f"http://en.kremlin.ru/events/president/news/{number}")
    printed = [
        t["speaker"] for t in speaker_turns(lxml.html.fromstring(html).cssselect("div.read__internal_content")[0])
    ]
    turns = got.extras["turns"]
    assert [t["speaker_label"] for t in turns] == printed  # as printed, in page order
    assert all(t["speaker"] and set(t) == {"speaker", "speaker_label", "text"} for t in turns)
    # A name is never a title-and-name label: each is one of the page's labels (or the list's name) itself.
    assert all(t["speaker"] in printed or t["speaker"] in {n for _f, n in shipped().full} for t in turns)


def test_recorded_label_variants_name_one_person():
    def names(number: str) -> dict[str, str]:
        html = recorded(f"kremlin-en/news-{number}.html").read_text(encoding="utf-8")
        return labels_to_names(
            extract_article(html, f"http://en.kremlin.ru/events/president/news/{number}").extras["turns"]
        )

    space = names("57246")
    assert space["President of Russia Vladimir Putin"] == space["Vladimir Putin"] == "Vladimir Putin"
    assert space["Sergey Krikalyov"] == space["Sergei Krikalyov"] == "Sergei Krikalyov"  # a spelling slip
    assert (
        space[
            "Executive Director for Manned Space Programmes of the Federal Space Agency, veteran cosmonaut "
            "Sergei Krikalyov"
        ]
        == "Sergei Krikalyov"
    )
    assert space["World’s first woman cosmonaut Valentina Tereshkova"] == "Valentina Tereshkova"
    assert space["Remark"] == "Remark"
    assert len(set(space.values())) == 6
    council = names("8043")
    assert council["Security Council Secretary NIKOLAI PATRUSHEV"] == "Nikolai Patrushev"
    assert council["Csto Secretary General NIKOLAI BORDYUZHA"] == council["Nikolai Bordyuzha"] == "Nikolai Bordyuzha"
    assert council["President of Russia Dmitry Medvedev"] == "Dmitry Medvedev"
    aeroflot = names("52988")
    assert aeroflot["General Director of Aeroflot Russian Airlines Vitaly Savelyev"] == "Vitaly Savelyev"
    assert names("62861") == {"Andrei Vandenko": "Andrei Vandenko", "Vladimir Putin": "Vladimir Putin"}


# ---------------------------------------------------------------- the synthetic forum transcripts


def test_every_label_variant_of_the_forum_transcript():
    turns = eef_en()["extras"]["turns"]
    by_name: dict[str, set[str]] = {}
    for t in turns:
        by_name.setdefault(t["speaker"], set()).add(t["speaker_label"])
    assert by_name == {
        "Fyodor Lukyanov": {
            "Moderator of the plenary session, Research Director of the Valdai Discussion Club Fyodor Lukyanov",
            "Fyodor Lukyanov",
            "Fydor Lukyanov",
        },
        "Vladimir Putin": {"President of Russia Vladimir Putin", "Vladimir Putin", "Vladimir PUTIN"},
        "Ilya Doronov": {"Ilya Doronov"},
    }
    ru = labels_to_names(eef_ru()["extras"]["turns"])
    assert ru == {"Ф.Лукьянов": "Fyodor Lukyanov", "В.Путин": "Vladimir Putin", "И.Доронов": "И.Доронов"}


def test_a_pull_quote_is_kept_once_in_extras_not_in_the_text_or_the_turns():
    item = eef_en()
    quote = "The Far East remains our priority."
    assert item["extras"]["pull_quotes"] == [quote]
    assert item["text"].count(quote) == 1  # the speech itself, once
    assert quote not in item["paragraphs"]
    assert sum(t["text"].count(quote) for t in item["extras"]["turns"]) == 1
    putin = item["extras"]["turns"][1]
    assert putin["text"].endswith("we welcome every partner who wants to work here.")  # nothing appended
    ru = eef_ru()
    assert ru["extras"]["pull_quotes"] == ["Дальний Восток остаётся нашим приоритетом."]
    assert ru["text"].count("Дальний Восток остаётся нашим приоритетом.") == 1


# ---------------------------------------------------------------- naming rules


def test_the_list_names_titles_cases_initials_and_scripts():
    assert listed_name("President of Russia Vladimir Putin") == "Vladimir Putin"
    assert listed_name("Vladimir PUTIN") == listed_name("В.Путин") == listed_name("Владимир Путин") == "Vladimir Putin"
    assert listed_name("Президент России Владимир Владимирович Путин") == "Vladimir Putin"
    assert listed_name("President Xi") == listed_name("国家主席习近平") == listed_name("Си Цзиньпин") == "Xi Jinping"
    assert listed_name("Министр иностранных дел Сергей Лавров") == "Sergei Lavrov"
    assert listed_name("Sergey Lavrov") == listed_name("Лавров") == "Sergei Lavrov"
    assert listed_name("Fydor Lukyanov") == "Fyodor Lukyanov"  # one letter off
    # Not the same person: another first name, a longer surname, a surname after a non-title word.
    assert listed_name("Vitaly Lavrov") == "Vitaly Lavrov"
    assert listed_name("Lyudmila Putina") == "Lyudmila Putina"
    assert listed_name("Putina") == "Putina"
    assert listed_name("Andrei Vandenko") == "Andrei Vandenko"


def test_page_labels_name_unlisted_speakers():
    names = page_names(
        [
            "Chairman of the Board of Example Bank Ivan Petrovsky",
            "Ivan Petrovsky",
            "Petrovsky",
            "IVAN PETROVSKY",
            "Ivan Petrovksy",
            "Ivan Petrovsky",
        ]
    )
    assert set(names.values()) == {"Ivan Petrovsky"}  # title, surname, capitals, typo
    assert page_names(["Ilya Doronov", "Doronov"]) == {"Ilya Doronov": "Ilya Doronov", "Doronov": "Ilya Doronov"}
    # Two people sharing a first name stay two; a surname alone with no full label stays as printed.
    assert page_names(["Anna Kikina", "Anna Kuznetsova", "Question"]) == {
        "Anna Kikina": "Anna Kikina",
        "Anna Kuznetsova": "Anna Kuznetsova",
        "Question": "Question",
    }
    # A typo printed first still gives way to the spelling printed most.
    assert set(page_names(["Sergey Kirillov", "Sergei Kirillov", "Sergei Kirillov"]).values()) == {"Sergei Kirillov"}


def test_edit_distance_is_bounded():
    assert distance("lukyanov", "lukyanov", 1) == 0
    assert distance("fydor", "fyodor", 1) == 1
    assert distance("petrovksy", "petrovsky", 1) == 1  # two letters swapped
    assert distance("tereshkova", "matviyenko", 1) == 2  # stops past the bound
    assert words_close(tokens("Fydor Lukyanov"), tokens("Fyodor Lukyanov"))
    assert not words_close(tokens("Fydr Lukyanov"), tokens("Fyodor Lukyanov"))  # two edits in one word
    assert not words_close(tokens("Ian Lukyanov"), tokens("Ivan Lukyanov"))  # short words: exact only


def test_items_stored_before_turns_were_named_are_named_on_reading():
    item = eef_en()
    item["extras"]["turns"] = [{"speaker": t["speaker_label"], "text": t["text"]} for t in item["extras"]["turns"]]
    turns = turns_of(item)
    assert [t.speaker for t in turns] == [t["speaker"] for t in eef_en()["extras"]["turns"]]
    assert turns[5].label == "Fydor Lukyanov" and turns[5].speaker == "Fyodor Lukyanov"
    assert name_turns([{"speaker": "Vladimir PUTIN", "text": "x"}]) == [
        {"speaker": "Vladimir Putin", "speaker_label": "Vladimir PUTIN", "text": "x"}
    ]


def test_turns_carry_their_paragraphs_and_english():
    item = eef_ru()
    turns = turns_of(item)
    answer = turns[3]
    assert (answer.speaker, answer.start) == ("Vladimir Putin", 4)
    assert item["paragraphs"][4] == "В.Путин: Нет, мы работаем над этим проектом вместе."
    # The English of the labelled paragraph loses its label; the turn's next paragraph follows.
    assert answer.text_en == "English of paragraph 4\n\nEN5: Производство будет здесь."
    assert turns_of(eef_ru(translated=False))[3].text_en is None
    english = turns_of(eef_en())
    assert english[4].text_en == english[4].text and english[4].start == 6


# ---------------------------------------------------------------- quotes and speaker watches


def test_a_quote_comes_with_the_question_it_answers():
    found = quotes_in(eef_en(), ["project together"], ["Putin"])
    assert len(found) == 1
    quote = found[0]
    assert quote.turn.text.startswith("No, we are working on this project together.")
    assert quote.question.speaker == "Ilya Doronov"
    assert quote.question.text.startswith("I would like to ask about Chinese cars.")
    assert quote.fields == ("text",) and quote.matching_paragraphs() == [0]
    cars = quotes_in(eef_en(), ["Chinese car*"])
    assert [(q.turn.speaker, q.turn.label) for q in cars] == [
        ("Ilya Doronov", "Ilya Doronov"),
        ("Fyodor Lukyanov", "Fydor Lukyanov"),
        ("Ilya Doronov", "Ilya Doronov"),
    ]
    assert quotes_in(eef_en(), ["Chinese car*"], ["Vladimir Putin"]) == []
    # The answer to Lukyanov's typo-labelled question: its question is named with the one name.
    putin = quotes_in(eef_en(), ["other subjects"], ["Путин"])
    assert putin[0].question.speaker == "Fyodor Lukyanov" and putin[0].turn.label == "Vladimir PUTIN"


def test_within_speakers_keeps_only_their_words_at_their_paragraphs():
    item = eef_ru()
    view = within_speakers(item, ("Vladimir Putin",))
    assert view["paragraphs"][4] == "Нет, мы работаем над этим проектом вместе."
    assert view["paragraphs"][3] == "" and view["paragraphs"][0] == ""  # Doronov's, the lead
    assert view["paragraphs_en"][4] == "English of paragraph 4"
    assert "title" not in view and "В.Путин" not in view["text"]


def test_a_watch_with_speakers_matches_only_inside_their_turns():
    item = eef_en()
    cars = ("Chinese car*",)
    assert Matcher([Watch("Putin", cars, speakers=("Vladimir Putin",))]).match(item) == []
    assert [h.name for h in Matcher([Watch("Anyone", cars)]).match(item)] == ["Anyone"]
    (hit,) = Matcher([Watch("Doronov", cars, speakers=("Ilya Doronov",))]).match(item)
    assert hit.fields == ("text",) and hit.found == ("Chinese cars",)
    assert [c["paragraph"] for c in hit.contexts] == [5, 10]  # the item's own paragraph numbers
    # The label is not the speaker's words: "Putin" in Putin's turns is nowhere (he never says his name).
    assert Matcher([Watch("Name", ("Putin",), speakers=("Vladimir Putin",))]).match(item) == []
    (ru,) = Matcher([Watch("Ru", ("приоритет*",), speakers=("Путин",))]).match(eef_ru())
    assert ru.found == ("приоритетом",)


def test_a_watch_speakers_entry_must_be_names(tmp_path):
    path = tmp_path / "newsmon.toml"
    path.write_text(
        '[[watch]]\nname = "P"\nphrases = ["Far East"]\nspeakers = ["Vladimir Putin", ""]\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=rf"^{path}:4: \[\[watch\]\] #1.speakers: expected speakers' names"):
        watches_of(load_config(path))
    path.write_text('[[watch]]\nname = "P"\nphrases = ["Far East"]\nspeakers = ["Vladimir  Putin"]\n', encoding="utf-8")
    assert watches_of(load_config(path))[0].speakers == ("Vladimir Putin",)


def test_shipped_list_has_no_form_naming_two_speakers():
    spk = shipped()
    owners = Counter(form for form, _name in spk.full)
    assert all(n == 1 for n in owners.values())
    chinese = Counter(form for form, _name in spk.chinese)
    assert all(n == 1 for n in chinese.values())
