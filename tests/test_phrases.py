"""One phrase syntax (crawler/phrases.py) for watches, section subjects and search: the same phrase finds the
same items in all three, and a phrase none of them can match is refused by each with the same words."""

from __future__ import annotations

import re
from contextlib import closing

import pytest

from crawler import state
from crawler.config import load_config
from crawler.digest import search
from crawler.exceptions import ConfigError
from crawler.lifecycle.subject import measure
from crawler.phrases import PhraseError, parse, split_query
from crawler.watch.matcher import Matcher
from crawler.watch.settings import Watch, watches_of
from tests import digestkit


@pytest.mark.parametrize(
    "phrase, text, matched",
    [
        ("Путин*", "встреча с Путиным", True),  # a word ending
        ("Путин*", "Распутин", False),  # … of a whole word
        ("Путин", "встреча с Путиным", False),  # no star: the whole word only
        ("Путин", "ПУТИН сказал", True),  # any case
        ("ёлка", "елка", True),
        ("елка", "Ёлка", True),  # ё = е both ways
        ("Xi Jinping", "Xi\n Jinping", True),  # a space matches any whitespace
        ("Xi", "Xinhua", False),
        ("习近平", "国家主席习近平会见", True),  # Chinese: a substring
        ("APEC", "出席APEC会议", True),  # Latin beside Han characters is a whole word
    ],
)
def test_a_phrase_matches_as_documented(phrase, text, matched):
    assert bool(parse(phrase).search(text)) is matched


def test_match_offsets_are_offsets_in_the_text_as_written():
    text = "Её слова о Путине"
    found = parse("путин*").search(text)
    assert text[found.start() : found.end()] == "Путине"
    found = parse("ее").search(text)
    assert text[found.start() : found.end()] == "Её"


@pytest.mark.parametrize(
    "bad, words",
    [
        ("Пу*тин", "only one trailing *"),
        ("Путин**", "only one trailing *"),
        ("*", "at least one letter or digit"),
        ("Путин *", "* must follow a letter or digit"),
        ("", "expected non-empty strings"),
    ],
)
def test_a_phrase_that_cannot_match_is_refused_saying_what_to_write(bad, words):
    with pytest.raises(PhraseError, match=words.replace("*", r"\*")):
        parse(bad)


def test_a_query_is_phrases_words_or_quoted():
    assert split_query('Путин* "Xi  Jinping" 两国') == ["Путин*", "Xi Jinping", "两国"]
    assert split_query('unbalanced "quote') == ["unbalanced", "quote"]


# ---------------------------------------------------------------- the same phrase in all three

PHRASES = ["Путин*", "Путина", "Xi", "Xi*", "两国人民", "our peoples", "интересах наших народов", "МАЛАЙЗИИ"]


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    out = tmp_path_factory.mktemp("phrases")
    items = digestkit.standard_day(out)
    with closing(state.connect(out)) as conn:
        search.update_index(conn)
    return out, list(items.values())


@pytest.mark.parametrize("phrase", PHRASES)
def test_watch_subject_and_search_find_the_same_items(archive, phrase):
    out, items = archive
    watched = {item["id"] for item in items if Matcher([Watch("w", (phrase,))]).match(item)}
    on_subject = {item["id"] for item in items if measure("s/s", 1, "", [item], (phrase,)).on_subject}
    with closing(state.connect(out)) as conn:
        found = {hit.doc["id"] for hit in search.search(conn, f'"{phrase}"', limit=100).hits}
    assert watched == on_subject == found
    assert found or phrase == "Путина" and not any("Путина" in (i.get("text") or "") for i in items)


def test_a_bad_phrase_is_refused_by_watch_subject_and_search_alike(tmp_path, archive, newsmon):
    expected = "only one trailing * is supported"
    cfg = tmp_path / "watch.toml"
    cfg.write_text('[[watch]]\nname = "K"\nphrases = ["Пу*тин"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"watch.toml:3: \[\[watch\]\] #1.phrases: 'Пу\*тин': " + re.escape(expected)):
        watches_of(load_config(cfg))
    cfg = tmp_path / "sources.toml"
    cfg.write_text(
        '[[sources]]\nid = "s"\nname = "S"\n[[sources.sections]]\nid = "n"\nkind = "listing"\nurl = "http://x.test/"\n'
        'link_css = "a"\nsubject = ["Пу*тин"]\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"sources.toml:\d+: .*subject: 'Пу\*тин': " + re.escape(expected)):
        load_config(cfg)
    proc = newsmon("search", "Пу*тин", "--output", str(archive[0]))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"newsmon: error: query term 'Пу*тин': {expected} (a word ending, as in \"Путин*\")"
