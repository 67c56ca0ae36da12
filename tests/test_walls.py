"""Bot walls and JavaScript-only pages (crawler/extract/walls.py): caught on the small pages written here
(SYNTHETIC snippets, our wording, after the vendors' markers) and on tests/resources/synthetic/
bot-wall-challenge.html; never on a recorded real page of a monitored site."""

import json

import pytest

from crawler.exceptions import ExtractionError
from crawler.extract.extraction import extract_article, parse_html
from crawler.extract.walls import CAUSE, WALL_MAX_CHARS, could_be_wall, find_wall
from tests.recorded import RECORDED, recorded

SYN = RECORDED.parent / "synthetic"
MENU = "".join(f"<li><a href='/s{n}'>Section number {n} of the site menu</a></li>" for n in range(40))

WALLS = {  # SYNTHETIC: name → (page, the marker the cause must name)
    "cloudflare": (
        "<html><head><title>Just a moment...</title></head><body><div id='cf-challenge-running'>"
        "Checking if the site connection is secure</div><script>window._cf_chl_opt={cvId:'3'};"
        "</script></body></html>",
        "Cloudflare challenge",
    ),
    "qrator": (
        "<html><head><script src='/__qrator/qauth_utm_v2.js'></script></head><body><p>Подождите…</p></body></html>",
        "Qrator check",
    ),
    "captcha form": (
        "<html><body><form action='/showcaptcha' method='get'><p>Подтвердите, что запросы "
        "отправляли вы, а не робот</p><input name='rep'></form></body></html>",
        "captcha",
    ),
    "russian enable js": (
        "<html><body><div id='app'></div><p>Для работы сайта включите JavaScript в "
        "настройках браузера.</p></body></html>",
        "asks to enable JavaScript",
    ),
    "chinese enable js": (
        "<html><head><meta charset='utf-8'></head><body><div id='root'></div><p>请开启"
        "JavaScript并刷新该页。</p></body></html>",
        "asks to enable JavaScript",
    ),
    "noscript shell": (
        "<html><body><div id='root'></div><noscript><img src='/pixel.gif'></noscript>"
        "<script src='/app.js'></script></body></html>",
        "<noscript> notice",
    ),
}


def tree_of(html: str):
    return parse_html(html, "http://news.test/a/1")


@pytest.mark.parametrize("name", sorted(WALLS))
def test_walls_are_named_with_their_marker(name):
    html, marker = WALLS[name]
    cause = find_wall(html, tree_of(html))
    assert cause is not None and cause.startswith(CAUSE) and marker in cause, cause


def test_the_synthetic_challenge_page_fails_extraction_with_the_cause():
    html = (SYN / "bot-wall-challenge.html").read_text(encoding="utf-8")
    with pytest.raises(ExtractionError) as err:
        extract_article(html, "http://news.test/politics/1")
    assert str(err.value).startswith(f"{CAUSE} (DDoS-Guard check") and "http://news.test/politics/1" in str(err.value)


def test_a_marker_on_a_page_that_says_a_lot_is_not_a_wall():
    """A reCAPTCHA comment form and an "enable JavaScript" notice under a real article are not a wall."""
    body = "".join(
        f"<p>Paragraph {n} of a long article about the talks held in the capital this week.</p>" for n in range(20)
    )
    html = (
        f"<html><body><ul>{MENU}</ul><article>{body}</article><form class='comments'>"
        "<div class='g-recaptcha' data-sitekey='x'></div></form><noscript>Please enable JavaScript to "
        "view the comments.</noscript></body></html>"
    )
    assert find_wall(html, tree_of(html)) is None
    assert len(extract_article(html, "http://news.test/a/1").paragraphs) >= 20


def test_article_wording_on_a_short_page_needs_less_text_than_vendor_markup():
    """ "Enable JavaScript" is a wall only on an all but empty page; vendor markup on a page that says little."""
    text = "<p>" + "A short report of three hundred characters or so. " * 6 + "</p>"
    noticed = f"<html><body>{text}<p>Enable JavaScript for the video player.</p></body></html>"
    assert find_wall(noticed, tree_of(noticed)) is None
    walled = f"<html><body>{text}<div class='cf-browser-verification'></div></body></html>"
    assert "Cloudflare" in find_wall(walled, tree_of(walled))


def test_only_a_page_with_no_more_text_than_a_wall_may_have_is_judged():
    assert could_be_wall(WALL_MAX_CHARS) and not could_be_wall(WALL_MAX_CHARS + 1)
    text = "<p>" + "A short report of three hundred characters or so. " * 12 + "</p>"  # ~600 characters
    walled = f"<html><body>{text}<div class='cf-browser-verification'></div></body></html>"
    with pytest.raises(ExtractionError, match="Cloudflare challenge"):
        extract_article(walled, "http://news.test/a/2")
    more = "<p>" + "Another paragraph, of the talks held in the capital this week. " * 10 + "</p>"
    longer = walled.replace(text, text + more)  # past what vendor markup allows: an article, whatever its markers
    assert not could_be_wall(extract_article(longer, "http://news.test/a/3").text_chars)


def recorded_pages() -> list[tuple[str, str]]:
    """(name, encoding) of every recorded HTML page of pages.json: articles, transcripts, listings, charset
    samples (not the MFA's JavaScript redirect stub of a homepage, which is no article page)."""
    pages = json.loads((RECORDED / "pages.json").read_text(encoding="utf-8"))["pages"]
    return [
        (p["file"], p["encoding"].split()[0])
        for p in pages
        if p["file"].endswith(".html") and not p["kind"].startswith("homepage")
    ]


@pytest.mark.parametrize("name,encoding", recorded_pages(), ids=[n for n, _e in recorded_pages()])
def test_no_recorded_real_page_is_taken_for_a_wall(name, encoding):
    html = recorded(name).read_bytes().decode(encoding, errors="replace")
    try:
        tree = tree_of(html)
    except ExtractionError:  # a page without a body cannot be a wall either
        return
    assert find_wall(html, tree) is None
