"""Extraction keeps the article's text on pages with the faults real pages have.

Every page here is the recorded Kommersant article (tests/resources/recorded/kommersant/doc-7715044.html,
from flairNLP/fundus, MIT; see pages.json) with one fault injected by the test, as named in each test: stray
bytes in its UTF-8, a control character, comments opening paragraphs, an unclosed ``<noscript>`` notice, its
lead in the <header> repeated by og:description, soft hyphens and zero-width characters inside words, a
contact address as a link-only paragraph. The clean page's extraction is the reference (39 paragraphs, 6,618
characters): with the fault, the same paragraphs must come out (each test's docstring gives what came out
before extraction and decoding handled the fault). Where bare
trafilatura reads the page on its own, its length is the yardstick that the text was not lost. The last
test does it all end to end: `newsmon run` crawling the faulty pages from a loopback server.
"""

from __future__ import annotations

import html as htmllib
import json
import logging
import re

import pytest
import trafilatura
from scrapy.http import HtmlResponse

from crawler.crawl.charset import best_response, utf8_damage
from crawler.exceptions import ExtractionError
from crawler.extract.extraction import extract_article, parse_html
from crawler.extract.walls import CAUSE, find_wall
from crawler.localsite import Route, SiteServer
from tests.conftest import run_newsmon
from tests.crawlsite import CRAWLER_TABLE, section
from tests.recorded import recorded

URL = "https://www.kommersant.ru/doc/7715044"
PAGE = recorded("kommersant/doc-7715044.html")
ORIGINAL = PAGE.read_text(encoding="utf-8")
LAST = "Ходишь-ходишь в Малахитовый зал на эти переговоры годами, а все равно что-то еще происходит."
INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")


def clean():
    return extract_article(ORIGINAL, URL)


def injected(html: str, old: str, new: str, count: int = 1) -> str:
    """``html`` with the first ``count`` occurrences of ``old`` replaced (the fault must land somewhere)."""
    assert html.count(old) >= count, old
    return html.replace(old, new, count)


def bare_chars(html: str) -> int:
    """What trafilatura alone extracts from the page (it parses the page itself)."""
    return len(trafilatura.extract(html, url=URL) or "")


# -- 1. stray bytes in a UTF-8 page ------------------------------------------------------------------------


def stray_dashes(body: bytes, count: int = 10) -> bytes:
    """``count`` em dashes turned into the windows-1252 byte for one (0x97), as a paste from a Windows
    editor leaves them: not UTF-8, but a valid windows-1251 byte (a dash there too)."""
    dash = "—".encode()
    assert body.count(dash) >= count
    return body.replace(dash, b"\x97", count)


def short_page() -> tuple[bytes, list[str]]:
    """The article's paragraphs that have no И and no ‘ on a page of their own, with the clean paragraphs.

    In UTF-8 both carry the byte 0x98, which windows-1251 leaves undefined: the full page could never be
    decoded as windows-1251 without an error, this one can — which is what made a short UTF-8 Russian page
    with a few stray bytes come out as windows-1251 mojibake."""
    paragraphs = [p for p in clean().paragraphs if "И" not in p and "‘" not in p]
    body = "".join(f"<p>{htmllib.escape(p)}</p>" for p in paragraphs)
    page = (
        f'<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8"><title>Легкий троннинг</title></head>'
        f"<body><article><h1>Легкий троннинг</h1>{body}</article></body></html>"
    )
    return page.encode("utf-8"), paragraphs


def decoded(body: bytes, content_type: str = "text/html; charset=utf-8"):
    return best_response(HtmlResponse(URL, body=body, headers={"Content-Type": content_type}))


def test_a_short_utf8_page_with_stray_bytes_stays_utf8():
    """Before: the 10 bad bytes were 0.2% of the page's characters, past the 0.1% limit, and windows-1251
    decoded the page without an error: the 26 paragraphs (4,501 characters) stored as 8,184 characters of
    mojibake (РџСѓС‚РёРЅ…). The 10 bytes are 0.13% of the page's 7,416 non-ASCII bytes."""
    body, paragraphs = short_page()
    faulty = stray_dashes(body)
    assert b"\x98" not in faulty and faulty.decode("cp1251")  # windows-1251 reads every byte of it
    response, note = decoded(faulty)
    assert response.encoding == "utf-8"
    assert note.startswith("10 of ") and "not valid UTF-8; kept UTF-8" in note
    got = extract_article(response.text, URL)
    assert "".join(got.paragraphs).count("\ufffd") == 10
    assert [p.replace("\ufffd", "—") for p in got.paragraphs] == paragraphs
    assert "Путин" in got.text and "РџСѓС‚РёРЅ" not in got.text


def test_the_full_page_with_stray_bytes_says_so_once():
    """Before: on the full page the same 10 bytes passed unnoticed (no warning); now one note counts them."""
    faulty = stray_dashes(PAGE.read_bytes())
    bad, non_ascii = utf8_damage(faulty)
    assert bad == 10 and non_ascii > 20_000
    response, note = decoded(faulty)
    assert response.encoding == "utf-8" and note.startswith(f"10 of {non_ascii} non-ASCII bytes")
    got = extract_article(response.text, URL)
    assert [p.replace("\ufffd", "—") for p in got.paragraphs] == clean().paragraphs


@pytest.mark.parametrize(
    "name, content_type, encoding",
    [
        # Legacy bytes under a UTF-8 label: far below 99% valid, re-decoded as the bytes say.
        (
            "encodings/windows-1251-russian/_chromium_windows-1251_with_no_encoding_specified.html",
            "text/html; charset=utf-8",
            "cp1251",
        ),
        (
            "peoples-daily/culture-2019-0615-c1013-31153719.SYNTHETIC-gbk-bytes.html",
            "text/html; charset=utf-8",
            "gb18030",
        ),
    ],
)
def test_a_page_that_is_not_utf8_is_still_redecoded(name, content_type, encoding):
    response, note = decoded(recorded(name).read_bytes(), content_type)
    assert response.encoding == encoding and f"decoded as {encoding}" in note
    assert "\ufffd" not in response.text


# -- 2. control characters ---------------------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x01", "\x07", "\x08", "\x1b"])
def test_a_control_character_in_a_paragraph_costs_nothing(char):
    """Before: "no article body found" (0 characters; trafilatura discarded the page); bare trafilatura 7,031."""
    faulty = injected(ORIGINAL, "Ходишь-ходишь", f"Ходишь{char}-ходишь")
    got = extract_article(faulty, URL)
    assert got.paragraphs == clean().paragraphs
    assert got.text_chars >= 0.9 * bare_chars(faulty)


def test_a_page_of_control_characters_only_is_still_an_error():
    with pytest.raises(ExtractionError, match="http://example.test/a"):
        extract_article("\x01\x02\x1b", "http://example.test/a")


# -- 3. HTML comments --------------------------------------------------------------------------------------

INLINE_MEDIA = '<!-- inline media --><div class="doc__inline"><img src="/media/1.jpg" alt=""></div>'


def commented(every: int) -> str:
    """Every ``every``-th paragraph of the article opens with a comment (an ad slot marker), and a comment
    precedes a block holding only an image after the article's last paragraph."""
    seen = 0

    def opening(match: re.Match) -> str:
        nonlocal seen
        seen += 1
        return match.group(0) + ("<!-- adfox slot -->" if seen % every == 0 else "")

    faulty = re.sub(r'<p class="doc__text[^"]*">', opening, ORIGINAL)
    assert seen == 39
    return injected(faulty, LAST + "</p>", LAST + "</p>\n" + INLINE_MEDIA)


@pytest.mark.parametrize("every", [1, 2, 3])
def test_paragraphs_opening_with_a_comment_are_kept(every, caplog):
    """Before: every paragraph commented, 257 of 6,618 characters; every second, 3,394 (20 of 39
    paragraphs); every third, 4,427 (27); each time with "readability_lxml failed: Input object is not an
    XML element: HtmlComment" (trafilatura's fallback, which would have found the text)."""
    faulty = commented(every)
    with caplog.at_level(logging.WARNING):
        got = extract_article(faulty, URL)
    assert got.paragraphs == clean().paragraphs
    assert got.text_chars >= 0.9 * bare_chars(faulty)
    assert not [r for r in caplog.records if "readability" in r.getMessage()]


def test_the_parsed_tree_has_no_comments():
    tree = parse_html(commented(1), URL)
    assert not tree.xpath("//comment()")
    intro = tree.xpath('//p[contains(@class, "doc__intro")]')[0]
    assert intro.text.startswith("14 мая президент России")  # the words are the <p>'s own text


# -- 4. a <noscript> notice on an article ------------------------------------------------------------------

NOTICE = "<noscript><p>Для полноценной работы сайта включите JavaScript в браузере.</p>\n"


def test_an_unclosed_noscript_notice_does_not_make_an_article_a_wall():
    """The notice's </noscript> is missing: lxml puts the whole page inside it, so the visible text is 0
    characters. Before: refused as a "bot wall or JavaScript-only page (… 0 characters of text)"; extraction
    reads 6,618 characters, bare trafilatura 6,674."""
    faulty = injected(ORIGINAL, "<body>", NOTICE + "<body>")
    got = extract_article(faulty, URL)
    assert got.paragraphs == clean().paragraphs
    assert got.text_chars >= 0.9 * bare_chars(faulty)
    assert find_wall(faulty, parse_html(faulty, URL), got.text_chars) is None
    suspicion = find_wall(faulty, parse_html(faulty, URL))  # by its visible text alone: a wall
    assert suspicion.startswith(CAUSE) and suspicion.endswith("; 0 characters of text)")


def test_the_same_notice_on_a_page_with_no_article_is_a_wall():
    """The notice (same fault, unclosed) over a page whose body has only a menu: still a wall, and named."""
    menu = "".join(f"<li><a href='/rubric/{n}'>Рубрика {n}</a></li>" for n in range(8))
    page = (
        f"<html><head><title>Коммерсантъ</title>{NOTICE}</head><body><div id='app'></div>"
        f"<ul class='menu'>{menu}</ul><script src='/app.js'></script></body></html>"
    )
    with pytest.raises(ExtractionError) as err:
        extract_article(page, URL)
    assert str(err.value).startswith(f'{CAUSE} (asks to enable JavaScript: "включите JavaScript"')
    assert find_wall(page, parse_html(page, URL)).startswith(CAUSE)


# -- 5. an opening paragraph that repeats og:description ---------------------------------------------------


def lead_in_header() -> str:
    """The intro paragraph moved into the article's <header> under the headline (where many sites put the
    lead), and og:description set to it, as such sites do."""
    intro = re.search(r'<p class="doc__text doc__intro">.*?</p>', ORIGINAL, re.S).group(0)
    faulty = injected(ORIGINAL, intro, "")
    faulty = injected(faulty, "</h2>\n        </header>", "</h2>\n" + intro + "\n        </header>")
    return injected(
        faulty,
        'property="og:description" content="Как развеселили себя президент России и премьер Малайзии"',
        f'property="og:description" content="{htmllib.escape(clean().paragraphs[0])}"',
    )


def test_an_opening_paragraph_repeating_og_description_stays_in_the_text():
    """Before: the lead (344 characters) only in extras["description"]; 6,274 of 6,618 characters."""
    got = extract_article(lead_in_header(), URL)
    assert got.paragraphs == clean().paragraphs
    assert got.extras["description"] == got.paragraphs[0]


def test_a_description_no_paragraph_repeats_is_not_added():
    """The recorded page's og:description is its subtitle, an <h2>: a heading, not a paragraph of the text."""
    got = clean()
    assert got.extras["description"] == "Как развеселили себя президент России и премьер Малайзии"
    assert got.extras["description"] not in got.paragraphs
    assert got.paragraphs[0].startswith("14 мая президент России")


# -- 6. soft hyphens and zero-width characters -------------------------------------------------------------


def hyphenated() -> str:
    """Soft hyphens (as &shy; and as the character) and zero-width characters inside words of the title,
    the author's name (in the page's JSON-LD and meta too) and the paragraphs."""
    faulty = ORIGINAL
    for word, broken in [
        ("Колесников", "Колес\u00adников"),
        ("троннинг", "трон\u00adнинг"),
        ("Малахитовый", "Мала\u200bхитовый"),
        ("Стамбул", "Стам\u2060бул"),
        ("Ибрагимом", "Ибра\ufeffгимом"),
        ("переговоры", "перего&shy;воры"),
    ]:
        faulty = injected(faulty, word, broken, ORIGINAL.count(word))
    return injected(faulty, "Путин", "Пу\u200dтин", 5)


def test_soft_hyphens_and_zero_width_characters_leave_every_text_field():
    """Before: 13 invisible characters left inside words of the text, the title ("трон\u00adнинг") and the
    author ("Колес\u00adников"), and the zero-width space and BOM made spaces that split two words
    ("Мала хитовый"): a search for those words found nothing."""
    got, want = extract_article(hyphenated(), URL), clean()
    assert (got.title, got.paragraphs, got.authors) == (want.title, want.paragraphs, want.authors)
    assert "переговоры" in got.text and got.authors == ["Андрей Колесников"]
    stored = json.dumps([got.title, got.paragraphs, got.authors, got.extras], ensure_ascii=False)
    assert not INVISIBLE.search(stored)


# -- 7. a link-only paragraph ------------------------------------------------------------------------------

ADDRESS = '<p class="doc__text"><a href="mailto:kolesnikov@kommersant.ru">kolesnikov@kommersant.ru</a></p>'


def test_a_link_only_paragraph_at_the_end_of_the_article_is_kept():
    """Before: the address dropped, 39 paragraphs (bare trafilatura drops it too)."""
    faulty = injected(ORIGINAL, LAST + "</p>", LAST + "</p>\n" + ADDRESS)
    got = extract_article(faulty, URL)
    assert got.paragraphs == clean().paragraphs + ["kolesnikov@kommersant.ru"]


def test_peoples_daily_keeps_a_contact_link_and_drops_its_promotion():
    """The site parser drops "点击进入“文艺星青年”>>" promotions; a contact address is the article's own."""
    page = recorded("peoples-daily/culture-2019-0615-c1013-31153719.html").read_text(encoding="utf-8")
    url = "http://culture.people.com.cn/n1/2019/0615/c1013-31153719.html"
    last = "字里行间都是对儿子的爱。"
    faulty = injected(
        page, last + "</p>", last + '</p>\n<p><a href="mailto:culture@people.cn">culture@people.cn</a></p>'
    )
    got = extract_article(faulty, url)
    assert got.paragraphs == extract_article(page, url).paragraphs + ["culture@people.cn"]
    assert "点击进入" not in got.text


# -- end to end --------------------------------------------------------------------------------------------

FAULTS = {  # path → (the faulty page, paragraphs the item has after the clean page's)
    "/doc/stray-bytes": (lambda: stray_dashes(short_page()[0]), []),
    "/doc/control": (lambda: injected(ORIGINAL, "Ходишь-ходишь", "Ходишь\x1b-ходишь").encode(), []),
    "/doc/comments": (lambda: commented(1).encode(), []),
    "/doc/noscript": (lambda: injected(ORIGINAL, "<body>", NOTICE + "<body>").encode(), []),
    "/doc/lead": (lambda: lead_in_header().encode(), []),
    "/doc/hyphens": (lambda: hyphenated().encode(), []),
    "/doc/address": (
        lambda: injected(ORIGINAL, LAST + "</p>", LAST + "</p>\n" + ADDRESS).encode(),
        ["kolesnikov@kommersant.ru"],
    ),
}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    server = SiteServer().start()
    links = "".join(f"<li><a href='{path}'>{path}</a></li>" for path in FAULTS)
    server.routes["/news"] = Route(f"<html><body><ul class='list'>{links}</ul></body></html>".encode())
    for path, (faulty, _more) in FAULTS.items():
        server.routes[path] = Route(faulty(), content_type="text/html; charset=utf-8")
    work = tmp_path_factory.mktemp("keeps")
    config = CRAWLER_TABLE + section("ru", "faults", "listing", f"{server.url}/news", link_css="ul.list a")
    (work / "crawl.toml").write_text(config, encoding="utf-8")
    proc = run_newsmon("run", "--config", str(work / "crawl.toml"), "--output", str(work / "out"), cwd=work)
    items = {}
    for day in (work / "out").glob("*/items.jsonl"):
        for line in day.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            items[item["url"].removeprefix(server.url)] = item
    yield proc, items, server
    server.stop()


def test_newsmon_run_stores_every_faulty_page_whole(crawled):
    proc, items, server = crawled
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(items) == sorted(FAULTS)
    reference = clean()
    for path, (_faulty, more) in FAULTS.items():
        item = items[path]
        if path == "/doc/stray-bytes":
            want = short_page()[1]
            got = [p.replace("\ufffd", "—") for p in item["paragraphs"]]
            assert item["raw_encoding"] == "utf-8" and item["text"].count("\ufffd") == 10
        else:
            want = reference.paragraphs + more
            got = item["paragraphs"]
        assert got == want, path
        assert item["lang"] == "ru", path
        assert not INVISIBLE.search(json.dumps([item["title"], item["text"], item["authors"]], ensure_ascii=False))


def test_newsmon_run_warns_once_about_the_stray_bytes(crawled):
    proc, _items, server = crawled
    lines = [line for line in proc.stderr.splitlines() if "not valid UTF-8" in line]
    assert len(lines) == 1 and "WARNING" in lines[0], proc.stderr
    assert f"ru/faults: {server.url}/doc/stray-bytes: 10 of " in lines[0]
    assert "readability_lxml failed" not in proc.stderr and "bot wall" not in proc.stderr
