"""Language detection: seeded (repeatable across processes), zh normalised, mixed pages per paragraph."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from crawler.extract import language
from crawler.extract.extraction import extract_article
from crawler.extract.language import detect_language, detect_text
from tests.recorded import recorded

ROOT = Path(__file__).resolve().parent.parent
SHORT_TEXTS = [
    "中俄关系",
    "外交部发言人",
    "習近平會見",
    "Путин заявил",
    "Мир",
    "Putin said",
    "ok",
    "Да, конечно",
    "Hello world again",
    "Привет мир",
]
ZH = "新华社北京4月24日电，国家主席习近平向首届中国－拉美和加勒比国家航天合作论坛致贺信。"
RU = "Президент России Владимир Путин провёл переговоры с премьер-министром Малайзии в Кремле."
EN = "The President of Russia held talks with the Prime Minister of Malaysia in the Kremlin today."


def _detect_in_fresh_process() -> list:
    code = (
        "import json, sys; from crawler.extract.language import detect_text; "
        "print(json.dumps([detect_text(t) for t in json.load(sys.stdin)]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(SHORT_TEXTS),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [tuple(x) for x in json.loads(proc.stdout)]


def test_results_repeat_across_processes_on_short_text():
    here = [detect_text(t) for t in SHORT_TEXTS]
    assert _detect_in_fresh_process() == here
    assert [detect_text(t) for t in SHORT_TEXTS] == here
    assert here[0][0] == here[1][0] == here[2][0] == "zh"


def test_main_languages():
    assert detect_language([ZH]).lang == "zh"
    assert detect_language([RU]).lang == "ru"
    assert detect_language([EN]).lang == "en"
    assert 0.9 <= detect_language([EN]).confidence <= 1.0


def test_russian_shortcut_leaves_other_cyrillic_languages_to_langdetect():
    assert detect_text(RU) == ("ru", 1.0)
    assert detect_text("Президент України Володимир Зеленський провів переговори з прем'єр-міністром.")[0] == "uk"
    assert detect_text("Президентът на България проведе разговори с министър-председателя днес.")[0] == "bg"


def test_chinese_variants_are_normalised_to_zh():
    traditional = "中華人民共和國外交部發言人在例行記者會上回答了記者的提問，談到兩國關係。"
    assert detect_text(traditional)[0] == "zh"
    assert detect_text("今日は良い天気ですね。私は学校に行きます。")[0] == "ja"


def test_mixed_page_gets_per_paragraph_languages():
    result = detect_language([RU, EN, ZH, RU])
    assert result.lang == "ru"
    assert result.paragraph_langs == ["ru", "en", "zh", "ru"]


def test_single_language_page_with_short_answers_is_not_mixed():
    page = recorded("kremlin-en/news-57246.html").read_text(encoding="utf-8")
    got = extract_article(page, "http://en.kremlin.ru/events/president/news/57246")
    result = detect_language(got.paragraphs, got.title)
    assert (result.lang, result.paragraph_langs) == ("en", None)


def test_empty_body_falls_back_to_title_then_to_nothing():
    assert detect_language([], title=RU).lang == "ru"
    empty = detect_language(["", "  "])
    assert (empty.lang, empty.confidence, empty.paragraph_langs) == (None, 0.0, None)
    assert detect_language(["12345 — 678"]).lang is None


OTHER_LATIN = {
    "fr": "Le président de la Russie a tenu des entretiens avec le Premier ministre de la Malaisie au Kremlin "
    "aujourd'hui, et les deux dirigeants ont discuté de la coopération économique entre leurs pays.",
    "de": "Der Präsident Russlands führte heute im Kreml Gespräche mit dem Premierminister Malaysias, und die "
    "beiden Staatschefs erörterten die wirtschaftliche Zusammenarbeit zwischen ihren Ländern.",
    "es": "El presidente de Rusia mantuvo hoy conversaciones con el primer ministro de Malasia en el Kremlin, y "
    "ambos dirigentes hablaron de la cooperación económica entre sus países.",
    "it": "Il presidente della Russia ha tenuto oggi colloqui con il primo ministro della Malesia al Cremlino, e i "
    "due leader hanno discusso della cooperazione economica tra i loro paesi.",
    "nl": "De president van Rusland voerde vandaag in het Kremlin gesprekken met de premier van Maleisië, en de "
    "twee leiders bespraken de economische samenwerking tussen hun landen.",
    "pt": "O presidente da Rússia manteve hoje conversações com o primeiro-ministro da Malásia no Kremlin, e os "
    "dois dirigentes discutiram a cooperação económica entre os seus países.",
}


def test_english_shortcut_leaves_other_latin_languages_to_langdetect():
    for lang, text in OTHER_LATIN.items():
        assert not language._is_english(text, len(language.LETTER.findall(text))), lang
        assert detect_text(text)[0] == lang
    assert detect_text(EN) == ("en", 1.0)  # the shortcut: its confidence is the share of Latin letters


def test_english_shortcut_answers_as_langdetect_on_every_recorded_text():
    from tests.test_language_sample import CASES

    decided = 0
    for name, paragraphs, _title in CASES:
        texts = [p for p in paragraphs if p and p.strip()]
        for text in ([language._sample(texts)] if texts else []) + [language._head(p, 300) for p in texts]:
            letters = len(language.LETTER.findall(text))
            if letters and language._is_english(text, letters):
                decided += 1
                assert language.detect_langs(text)[0].lang == "en", (name, text)
    assert decided >= 450, "the shortcut decides the English texts of any length (499 of them)"


def test_the_profiles_load_into_the_same_table_langdetect_builds():
    """crawler.extract.profiles builds langdetect's n-gram probabilities with numpy: every n-gram, every
    language, in the same order, to the last bit."""
    from langdetect import detector_factory

    from crawler.extract import profiles

    theirs = detector_factory.DetectorFactory()
    theirs.load_profile(detector_factory.PROFILES_DIRECTORY)
    ours = profiles.load_factory()
    assert ours.langlist == theirs.langlist and len(ours.langlist) == 55
    assert len(ours.word_lang_prob_map) == len(theirs.word_lang_prob_map)
    languages = len(theirs.langlist)
    differing = [
        word
        for word, probabilities in theirs.word_lang_prob_map.items()
        if word not in ours.word_lang_prob_map or ours.word_lang_prob_map[word] != probabilities[:languages]
    ]
    assert differing == []


def test_detection_reads_the_profiles_this_module_loads():
    """langdetect, asked after the profiles were dropped, finds the table loaded here (not its own lists)."""
    from langdetect import detector_factory

    from crawler.extract import profiles

    profiles.unload()
    assert detect_text(OTHER_LATIN["de"])[0] == "de"
    assert isinstance(detector_factory._factory.word_lang_prob_map, profiles.WordProbabilities)
