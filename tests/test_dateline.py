"""Datelines: where and when wire copy was filed, read from its first words (crawler/extract/dateline.py).

The recorded Xinhua page (tests/resources/recorded/xinhua, a real capture) opens with 新华社巴黎12月9日电 and
was published on 10 December; the SYNTHETIC pages (tests/resources/synthetic, marked so) stand in for the
cases no capture shows: a dateline three days old, a December dateline published in January, TASS in
Russian and English.
"""

from __future__ import annotations

import pytest

from crawler.extract.dateline import dated, find_dateline
from crawler.extract.extraction import extract_article
from tests.crawlsite import REC, SYN


@pytest.mark.parametrize(
    "opening, published, expected",
    [
        (
            "新华社符拉迪沃斯托克9月8日电（记者 李明）俄罗斯总统",
            "2025-09-11T10:00:00+08:00",
            {"place": "符拉迪沃斯托克", "date": "2025-09-08", "raw": "新华社符拉迪沃斯托克9月8日电", "lag_days": 3},
        ),
        (
            "本报莫斯科9月8日电  （记者 张某）",
            "2025-09-08",
            {"place": "莫斯科", "date": "2025-09-08", "raw": "本报莫斯科9月8日电", "lag_days": 0},
        ),
        (
            "МОСКВА, 31 декабря. /ТАСС/. Президент",
            "2026-01-02T10:00:00+03:00",
            {"place": "Москва", "date": "2025-12-31", "raw": "МОСКВА, 31 декабря. /ТАСС/", "lag_days": 2},
        ),
        (
            "ВЛАДИВОСТОК, 5 сентября. /Корр. ТАСС Иван Петров/. Текст",
            "2026-09-05",
            {
                "place": "Владивосток",
                "date": "2026-09-05",
                "raw": "ВЛАДИВОСТОК, 5 сентября. /Корр. ТАСС Иван Петров/",
                "lag_days": 0,
            },
        ),
        (
            "MOSCOW, September 8. /TASS/. Russian President",
            "2025-09-11",
            {"place": "Moscow", "date": "2025-09-08", "raw": "MOSCOW, September 8. /TASS/", "lag_days": 3},
        ),
        (
            "BEIJING, Sept. 8 (Xinhua) -- Chinese",
            "2025-09-08",
            {"place": "Beijing", "date": "2025-09-08", "raw": "BEIJING, Sept. 8 (Xinhua)", "lag_days": 0},
        ),
        (
            "UNITED NATIONS, Sept 8 (Reuters) - The",
            None,
            {"place": "United Nations", "date": None, "raw": "UNITED NATIONS, Sept 8 (Reuters)", "lag_days": None},
        ),
    ],
)
def test_a_dateline_is_read_with_its_year_from_the_publication_date(opening, published, expected):
    assert find_dateline([opening, "Second paragraph."], published) == expected


@pytest.mark.parametrize(
    "opening",
    [
        "The foreign minister arrived in Beijing on Monday, September 8, for talks.",
        "В Москве, 8 сентября — состоялась встреча.",
        "今年9月8日，两国领导人在符拉迪沃斯托克会见。",
        "MOSCOW IS a city, and so on.",
    ],
)
def test_prose_that_merely_names_a_place_and_a_day_is_no_dateline(opening):
    assert find_dateline([opening], "2025-09-08") is None


def test_the_dateline_may_be_the_second_paragraph_but_no_later():
    assert find_dateline(["Lead summary.", "MOSCOW, September 8. /TASS/. Text"], "2025-09-08")["place"] == "Moscow"
    assert find_dateline(["Lead.", "Second.", "MOSCOW, September 8. /TASS/. Text"], "2025-09-08") is None


def test_the_year_is_the_one_closest_before_publication():
    from datetime import date

    assert dated(12, 31, date(2026, 1, 2)) == date(2025, 12, 31)  # December, published in January
    assert dated(1, 2, date(2026, 1, 1)) == date(2026, 1, 2)  # a day ahead: time zones
    assert dated(1, 5, date(2026, 1, 1)) == date(2025, 1, 5)  # days ahead: last year's
    assert dated(2, 29, date(2025, 3, 1)) == date(2024, 2, 29)  # a leap day: the last year that had one
    assert dated(9, 31, date(2025, 10, 1)) is None  # no such day


def test_the_recorded_xinhua_page_carries_its_dateline_in_extras():
    html = (REC / "xinhua/world-2019-12-10-c_1125327450.html").read_text(encoding="utf-8")
    got = extract_article(html, "http://www.xinhuanet.com/world/2019-12/10/c_1125327450.htm")
    assert got.extras["dateline"] == {
        "place": "巴黎",
        "date": "2019-12-09",
        "raw": "新华社巴黎12月9日电",
        "lag_days": 1,
    }


@pytest.mark.parametrize(
    "name, url, expected",
    [
        (
            "xinhua-dateline-vladivostok.SYNTHETIC.html",
            "http://127.0.0.1/world/2026-09/11/c_1.htm",
            ("符拉迪沃斯托克", "2026-09-08", 3),
        ),
        ("tass-ru-dateline.SYNTHETIC.html", "http://127.0.0.1/ekonomika/2900002", ("Москва", "2025-12-30", 3)),
        ("tass-en-dateline.SYNTHETIC.html", "http://127.0.0.1/economy/1900002", ("Vladivostok", "2026-09-05", 0)),
    ],
)
def test_synthetic_wire_pages_carry_their_datelines(name, url, expected):
    got = extract_article((SYN / name).read_text(encoding="utf-8"), url).extras["dateline"]
    assert (got["place"], got["date"], got["lag_days"]) == expected


def test_a_page_without_a_dateline_has_none():
    html = (SYN / "tass-en-article.html").read_text(encoding="utf-8")
    assert "dateline" not in extract_article(html, "http://127.0.0.1/economy/1900001").extras
