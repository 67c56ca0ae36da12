"""Keyword in context of a watch hit (crawler/watch/context.py): the sentence around the match, in the original
and in the English paragraph kept beside it. Pure functions, no I/O."""

from __future__ import annotations

import html

from crawler.watch.context import MAX_CHARS, MAX_CONTEXTS, contexts_of, highlight
from crawler.watch.matcher import Matcher
from crawler.watch.settings import Watch

RU = [
    "Первая новость дня. Ничего о нём.",
    "Сначала погода. Владимир Путин провёл встречу в Кремле. Потом спорт.",
    "Последний абзац.",
]
EN = [
    "The first news of the day. Nothing about him.",
    "The weather first. Vladimir Putin held a meeting in the Kremlin. Then sport.",
    "The last paragraph.",
]


def item(**over) -> dict:
    base = {
        "id": "x",
        "section_key": "kremlin-ru/news",
        "lang": "ru",
        "title": "Заседание",
        "title_en": "Meeting",
        "paragraphs": RU,
        "text": "\n\n".join(RU),
        "paragraphs_en": EN,
        "text_en": "\n\n".join(EN),
    }
    return {**base, **over}


def marked(side: dict) -> list[str]:
    return [side["text"][a:b] for a, b in side["marks"]]


def test_the_sentence_of_the_match_and_its_english_from_the_same_paragraph():
    [ctx] = contexts_of(item(), ["Путин*", "Putin"])
    assert (ctx["in"], ctx["paragraph"]) == ("text", 1)
    assert ctx["original"]["text"] == "Владимир Путин провёл встречу в Кремле."
    assert ctx["english"]["text"] == "Vladimir Putin held a meeting in the Kremlin."
    assert marked(ctx["original"]) == ["Путин"] and marked(ctx["english"]) == ["Putin"]


def test_without_a_match_in_english_the_sentence_at_the_same_place_is_shown():
    [ctx] = contexts_of(item(), ["Путин*"])
    assert ctx["english"] == {"text": "Vladimir Putin held a meeting in the Kremlin.", "marks": []}
    [ctx] = contexts_of(item(), ["held a meeting"])  # an English phrase on a Russian item
    assert ctx["original"] == {"text": "Владимир Путин провёл встречу в Кремле.", "marks": []}
    assert marked(ctx["english"]) == ["held a meeting"]


def test_title_first_then_paragraphs_at_most_a_few():
    paragraphs = [f"Путин сказал {n}." for n in range(6)]
    found = contexts_of(
        item(title="Путин и погода", paragraphs=paragraphs, paragraphs_en=None, text_en=None, title_en=None), ["Путин"]
    )
    assert len(found) == MAX_CONTEXTS
    assert [(c["in"], c["paragraph"]) for c in found] == [("title", None), ("text", 0), ("text", 1)]
    assert all(c["english"] is None for c in found)  # not translated yet


def test_an_english_item_has_no_second_language_and_chinese_sentences_split_on_their_stops():
    [ctx] = contexts_of(item(lang="en", title="On sport", paragraphs=EN, paragraphs_en=None), ["Kremlin"])
    assert ctx["english"] is None and ctx["original"]["text"] == "Vladimir Putin held a meeting in the Kremlin."
    zh = item(
        lang="zh",
        title="无关",
        paragraphs=["今天天气很好。习近平主席会见了客人。大家很高兴。"],
        paragraphs_en=["The weather is fine today. President Xi Jinping met the guests. Everyone is happy."],
    )
    [ctx] = contexts_of(zh, ["习近平", "Xi Jinping"])
    assert ctx["original"]["text"] == "习近平主席会见了客人。" and marked(ctx["original"]) == ["习近平"]
    assert ctx["english"]["text"] == "President Xi Jinping met the guests." and marked(ctx["english"]) == ["Xi Jinping"]


def test_a_long_sentence_is_cut_around_its_match_and_the_marks_still_point_at_it():
    long = "Слово " * 200 + "Путину " + "слово " * 200 + "конец."
    [ctx] = contexts_of(item(paragraphs=[long], paragraphs_en=None, title="—"), ["Путин*"])
    text = ctx["original"]["text"]
    assert text.startswith("…") and text.endswith("…") and len(text) <= MAX_CHARS + 2
    assert marked(ctx["original"]) == ["Путину"]


def test_highlight_marks_matches_and_escapes_the_rest():
    snippet = {"text": "<b>Путин</b> & co", "marks": [[3, 8]]}
    assert highlight(snippet, lambda w: f"**{w}**") == "<b>**Путин**</b> & co"
    assert (
        highlight(snippet, lambda w: f"<mark>{html.escape(w)}</mark>", html.escape)
        == "&lt;b&gt;<mark>Путин</mark>&lt;/b&gt; &amp; co"
    )
    assert highlight({"text": "abc", "marks": [[2, 9]]}, str.upper) == "abc"  # a damaged mark: ignored
    assert highlight(None, str.upper) == ""


def test_the_watch_matcher_keeps_the_contexts_with_each_hit():
    [hit] = Matcher([Watch("Kremlin", ("Путин*",), exclude=("улица Путина",))]).match(item())
    assert hit.as_field()["contexts"] == contexts_of(item(), ["Путин*"])
