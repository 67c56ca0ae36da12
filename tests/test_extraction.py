"""Extraction on real recorded pages, decoded the way the crawl decodes them (Scrapy's ``response.text``).

Each ``tests/resources/expected/<site>/<name>.json`` was written by reading its page (and checked against
the independent references in ``tests/resources/recorded/``: Fundus' expected JSON, trafilatura's
evaluation snippets, the speaker-turn counts in ``pages.json``); one parametrised test checks them all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from crawler.config import Section
from crawler.exceptions import ConfigError, ExtractionError
from crawler.extract.extracted import Extracted
from crawler.extract.extraction import extract_article
from crawler.extract.language import detect_language
from crawler.extract.parsers import PARSERS, known_parsers, parser_for
from crawler.extract.parsers.kremlin import speaker_turns
from crawler.extract.textutil import block_paragraphs, iso_date_or_none
from tests.recorded import RECORDED, recorded

RESOURCES = Path(__file__).resolve().parent / "resources"
EXPECTED = sorted((RESOURCES / "expected").glob("*/*.json"))


def decoded(path: Path, url: str, content_type: str) -> str:
    """The page as the crawl sees it: a real HtmlResponse over the recorded bytes."""
    return HtmlResponse(url, body=path.read_bytes(), headers={"Content-Type": content_type}).text


def section(**kw) -> Section:
    fields = dict(
        source_id="test", source_name="Test", id="s", name="S", kind="listing", url="http://127.0.0.1/", link_css="a"
    )
    fields.update(kw)
    return Section(**fields)


def test_every_recorded_article_has_an_expected_file():
    pages = json.loads((RECORDED / "pages.json").read_text(encoding="utf-8"))["pages"]
    articles = {p["file"] for p in pages if p["kind"].startswith(("article", "transcript", "SYNTHETIC"))}
    covered = {json.loads(p.read_text(encoding="utf-8"))["file"] for p in EXPECTED}
    assert articles and articles <= covered, sorted(articles - covered)


@pytest.mark.parametrize("expected_path", EXPECTED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_recorded_article_matches_expected(expected_path: Path):
    exp = json.loads(expected_path.read_text(encoding="utf-8"))
    html = decoded(recorded(exp["file"]), exp["url"], exp["content_type"])
    got = extract_article(html, exp["url"])
    assert got.title == exp["title"]
    assert got.published_at == exp["published_at"]
    assert got.authors == exp["authors"]
    assert got.paragraphs[0] == exp["first_paragraph"]
    assert got.paragraphs[-1] == exp["last_paragraph"]
    assert len(got.paragraphs) == exp["paragraph_count"]
    assert detect_language(got.paragraphs, got.title).lang == exp["lang"]
    if "speaker_turns" in exp:
        assert len(got.extras.get("turns", [])) == exp["speaker_turns"]
    for needle in exp.get("must_contain", []):
        assert needle in got.text, needle
    for needle in exp.get("must_not_contain", []):
        assert needle not in got.text, needle
    assert not any(ch in got.text for ch in "\u00a0\u3000\ufffd" if ch not in exp["last_paragraph"])


def test_gb2312_label_over_gbk_bytes_comes_out_without_mojibake():
    page = recorded("peoples-daily/culture-2019-0615-c1013-31153719.SYNTHETIC-gbk-bytes.html")
    body = page.read_bytes()
    assert b"charset=GB2312" in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("gb2312")  # the bytes hold characters GB2312 does not have…
    html = decoded(page, "http://culture.people.com.cn/n1/2019/0615/c1013-31153719.html", "text/html")
    got = extract_article(html, "http://culture.people.com.cn/n1/2019/0615/c1013-31153719.html")
    assert "——（宋）陆游" in got.paragraphs  # …and they come out right (U+2014 is GBK-only)
    utf8_copy = decoded(
        page.with_name("culture-2019-0615-c1013-31153719.html"), "http://x/", "text/html; charset=utf-8"
    )
    assert got.paragraphs == extract_article(utf8_copy, "http://culture.people.com.cn/").paragraphs


@pytest.mark.parametrize(
    "name, phrase",
    [
        ("windows-1251-russian/_chromium_windows-1251_with_no_encoding_specified.html", "РИА Новости"),
        ("KOI8-R/_chromium_KOI8-R_with_no_encoding_specified.html", "Надежды на разрешение"),
    ],
)
def test_cyrillic_pages_without_declared_charset_decode(name, phrase):
    page = recorded(f"encodings/{name}")
    assert b"charset" not in page.read_bytes().lower()
    html = decoded(page, "http://example.test/", "text/html")
    got = extract_article(html, "http://example.test/")
    assert phrase in got.text
    assert detect_language(got.paragraphs).lang == "ru"


@pytest.mark.parametrize(
    "html", ["", "   \n", "<html></html>", "<html><body><div></div></body></html>", "\x00\x01\x02 binary junk"]
)
def test_empty_or_broken_page_raises_one_clear_error(html):
    with pytest.raises(ExtractionError, match="http://example.test/a"):
        extract_article(html, "http://example.test/a")


def test_xhtml_page_with_xml_declaration_is_read():
    paras = "".join(
        f"<p>The minister said the talks would resume in week {i}, officials confirmed.</p>" for i in range(3)
    )
    page = (
        '<?xml version="1.0" encoding="windows-1251"?>\n<html><head><title>Talks</title></head>'
        f"<body><article><h1>Talks</h1>{paras}</article></body></html>"
    )
    got = extract_article(page, "http://example.test/a")
    assert got.title == "Talks"
    assert got.paragraphs[0] == "The minister said the talks would resume in week 0, officials confirmed."


def test_redirect_stub_has_no_article_body():
    html = decoded(recorded("mid/home-redirect-2018.html"), "http://mid.ru/", "text/html")
    with pytest.raises(ExtractionError, match="no article body"):
        extract_article(html, "http://mid.ru/")


def test_future_dates_are_rejected():
    assert iso_date_or_none("2099-01-01") is None
    assert iso_date_or_none("2099-01-01T10:00:00+03:00") is None
    assert iso_date_or_none("2020-02-19T20:29:00+08:00") == "2020-02-19T20:29:00+08:00"
    assert iso_date_or_none("not a date") is None
    page = (
        "<html><head><title>T</title><meta property='article:published_time' "
        "content='2099-05-01T10:00:00+00:00'></head><body><article><h1>T</h1>"
        + "<p>A paragraph of real article text that is long enough to be kept as content.</p>" * 5
        + "</article></body></html>"
    )
    got = extract_article(page, "http://example.test/a")
    assert got.published_at is None or got.published_at < "2099"


def test_body_css_hint_picks_the_named_element():
    noise = "<div class='promo'>" + "<p>Subscribe to our newsletter for the latest updates today.</p>" * 8 + "</div>"
    story = "<div class='story'><p>The minister said the talks would resume next week in Geneva.</p></div>"
    page = f"<html><body>{noise}{story}</body></html>"
    got = extract_article(page, "http://example.test/a", section(body_css="div.story"))
    assert got.paragraphs == ["The minister said the talks would resume next week in Geneva."]


@pytest.mark.parametrize("body_css", ["div.nowhere", "div[[broken"])
def test_body_css_that_matches_nothing_or_is_invalid_falls_back_to_the_whole_page(body_css):
    html = decoded(
        recorded("kommersant/doc-7715044.html"), "https://www.kommersant.ru/doc/7715044", "text/html; charset=utf-8"
    )
    got = extract_article(html, "https://www.kommersant.ru/doc/7715044", section(body_css=body_css))
    assert (
        got.paragraphs[-1]
        == "Ходишь-ходишь в Малахитовый зал на эти переговоры годами, а все равно что-то еще происходит."
    )


def test_parser_chosen_by_section_then_host_then_template():
    kremlin = recorded("kremlin-en/news-52988.html").read_text(encoding="utf-8")
    served_locally = "http://127.0.0.1:8000/events/president/news/52988"
    assert extract_article(kremlin, served_locally).extras["parser"] == "kremlin"  # template
    assert parser_for("http://politics.people.com.cn/n1/x.html").name == "peoples_daily"  # host
    assert parser_for("http://example.test/", "xinhua").name == "xinhua"  # section
    assert (
        extract_article(kremlin, served_locally, section(parser="kremlin")).title
        == "Meeting with Aeroflot General Director Vitaly Savelyev"
    )
    with pytest.raises(ExtractionError, match="unknown parser 'nope'"):
        extract_article(kremlin, served_locally, section(parser="nope"))
    assert known_parsers() == sorted(PARSERS) and {"kremlin", "peoples_daily", "xinhua"} <= set(PARSERS)


def test_template_signatures_are_looked_for_only_where_their_names_occur():
    from crawler.extract.extraction import parse_html
    from crawler.extract.parsers.base import may_match

    kremlin = recorded("kremlin-en/news-52988.html").read_text(encoding="utf-8")
    served_locally = "http://127.0.0.1:8000/events/president/news/52988"
    assert parser_for(served_locally, None, parse_html(kremlin, served_locally), kremlin).name == "kremlin"
    # the source decides what is looked for: without the signature's class names, not even the tree is asked
    assert parser_for(served_locally, None, parse_html(kremlin, served_locally), "<html></html>") is None
    assert may_match("div.box_con#rwb_zw, div.rm_txt_con", '<div class="rm_txt_con">')
    assert not may_match("div.box_con#rwb_zw, div.rm_txt_con", '<div class="box_con">')  # no rwb_zw either
    assert may_match("div:not(.ad)", "<div>") and may_match("a[href]", "") and may_match("#x", None)


def test_page_of_an_older_template_falls_back_to_generic_and_says_so():
    url = "http://www.he.xinhuanet.com/news/2012-06/04/content_25340717.htm"
    html = decoded(recorded("xinhua/he-2012-06-04-content_25340717.gb2312.html"), url, "text/html")
    got = extract_article(html, url)
    assert got.extras["parser_fallback"] == "xinhua" and "parser" not in got.extras
    assert got.title == "话剧《约定无期限》河北各市巡演结束"


def test_kremlin_speaker_labels_in_all_documented_forms():
    import lxml.html

    body = lxml.html.fragment_fromstring(
        "<div><p>Narration before the first label.</p>"
        "<p><b>President of Russia Vladimir Putin:</b> Good afternoon.</p>"
        "<p>A paragraph that continues the same turn.</p>"
        "<p><b>Anton Vaino: </b>Form two.</p>"
        "<p><b>Sergei Lavrov</b>: Form three.</p>"
        "<p><b>Vladimir Putin</b> (<i>answering a question</i>): With a stage note.</p>"
        "<p><b>A bold heading without a colon</b></p>"
        "<p><b>* * *</b></p>"
        "<p><b>Security Council Secretary</b> <b>NIKOLAI PATRUSHEV:</b> Split label.</p>"
        "<p><b>В.Путин:</b> Русская страница.</p></div>"
    )
    turns = speaker_turns(body)
    assert [t["speaker"] for t in turns] == [
        "President of Russia Vladimir Putin",
        "Anton Vaino",
        "Sergei Lavrov",
        "Vladimir Putin",
        "Security Council Secretary NIKOLAI PATRUSHEV",
        "В.Путин",
    ]
    assert turns[0]["text"] == "Good afternoon.\n\nA paragraph that continues the same turn."
    assert turns[3]["text"].startswith("With a stage note.")


def test_kremlin_hidden_tooltips_and_nbsp_do_not_leak():
    html = recorded("kremlin-en/news-62299.html").read_text(encoding="utf-8")
    got = extract_article(html, "http://en.kremlin.ru/events/president/news/62299")
    assert "Vladimir Zhirinovsky has always acted from positions of patriotism" in got.text
    assert "(LDPR) leader" not in got.text and "\u00a0" not in got.text
    assert got.extras["place"] == "The Kremlin, Moscow"


def test_paragraphs_follow_browser_layout():
    import lxml.html

    root = lxml.html.fragment_fromstring(
        "<div>loose text<p>one <b>bold</b> word</p><table><tr><td><p>cell p1</p><p>cell p2</p></td></tr>"
        "</table>line a<br>line b<script>var x;</script><!-- c --></div>"
    )
    assert block_paragraphs(root) == ["loose text", "one bold word", "cell p1", "cell p2", "line a", "line b"]


def test_extracted_text_joins_paragraphs():
    assert Extracted("t", ["a", "b"], None).text == "a\n\nb"


def test_analysis_pool_runs_extraction_in_a_worker_process():
    import asyncio

    from crawler.extract.analysis import AnalysisPool, analyse_page

    html = recorded("xinhua/world-2019-12-10-c_1125327450.html").read_text(encoding="utf-8")
    url = "http://www.xinhuanet.com/world/2019-12/10/c_1125327450.htm"
    here = analyse_page(html, url)
    pool = AnalysisPool(workers=1)
    try:
        extracted, lang = asyncio.run(pool.analyse(html, url, section(parser="xinhua")))
        with pytest.raises(ExtractionError, match="empty page"):
            asyncio.run(pool.analyse("", url))
    finally:
        pool.close()
    assert (extracted, lang) == here
    assert lang.lang == "zh" and extracted.title == "法国全国大罢工再次严重影响交通"


class _SaysWhenFreed:
    def __init__(self, marker: str):
        self.marker = marker

    def __del__(self):
        Path(self.marker).write_text("freed")


_held = []


def _hold_until_exit(marker: str) -> int:
    _held.append(_SaysWhenFreed(marker))  # freed by the interpreter's teardown, if it ran
    return os.getpid()


def test_a_stopped_worker_exits_without_the_interpreters_teardown(tmp_path):
    from crawler.extract.analysis import AnalysisPool

    marker = tmp_path / "freed"
    pool = AnalysisPool(workers=1)
    try:
        pid = pool._executor.submit(_hold_until_exit, str(marker)).result(timeout=120)
        (process,) = pool._executor._processes.values()
    finally:
        pool.close()
    assert process.pid == pid and process.exitcode == 0
    assert not marker.exists()  # its heap was left to the OS, not freed object by object


def test_shared_pool_is_one_per_process_and_can_run_in_line():
    import asyncio

    from crawler.extract.analysis import close_shared_pool, shared_pool

    try:
        pool = shared_pool(workers=0)
        assert shared_pool(workers=4) is pool and pool.workers == 0
        html = recorded("kommersant/doc-7715044.html").read_text(encoding="utf-8")
        extracted, lang = asyncio.run(pool.analyse(html, "https://www.kommersant.ru/doc/7715044"))
        assert (extracted.title, lang.lang) == ("Легкий троннинг", "ru")
    finally:
        close_shared_pool()
    assert shared_pool(workers=0) is not pool
    close_shared_pool()


def test_auto_pool_starts_after_its_first_pages_then_queues_every_page_for_its_workers(monkeypatch):
    import asyncio

    from crawler.extract import analysis

    monkeypatch.setattr(analysis, "_expected", 0)
    html = recorded("kommersant/doc-7715044.html").read_text(encoding="utf-8")
    url = "https://www.kommersant.ru/doc/7715044"
    here = analysis.analyse_page(html, url)
    pool = analysis.AnalysisPool("auto")
    try:
        assert pool.workers == analysis.auto_workers()
        for _ in range(analysis.AUTO_AFTER_PAGES):
            assert asyncio.run(pool.analyse(html, url)) == here
        assert pool.inline == analysis.AUTO_AFTER_PAGES
        if pool.workers == 0:  # one core: nothing to start, ever
            assert pool.in_line() and pool._executor is None
            return
        assert pool._executor is None  # no worker before the first AUTO_AFTER_PAGES pages
        assert not pool.in_line()  # the page after them starts the workers and waits for them
        assert len(pool._executor._processes) == pool.workers  # all of them at once
        assert asyncio.run(pool.analyse(html, url)) == here  # in a worker
        assert pool.inline == analysis.AUTO_AFTER_PAGES
    finally:
        pool.close()


def test_auto_pool_starts_with_the_first_page_of_a_crawl_that_requested_enough_pages(monkeypatch):
    from crawler.extract import analysis

    monkeypatch.setattr(analysis, "_expected", 0)
    monkeypatch.setattr(analysis, "auto_workers", lambda: 2)  # as on 2 cores, whatever this machine has
    pool = analysis.AnalysisPool("auto")
    try:
        analysis.expect(analysis.AUTO_AFTER_PAGES - 1)
        assert pool.in_line() and pool._executor is None  # too few to pay for a worker
        analysis.expect(1)
        assert not pool.in_line() and pool._executor is not None  # started; this page is queued for the workers
        assert pool.inline == 0
    finally:
        pool.close()
    analysis.close_shared_pool()
    assert analysis._expected == 0  # the next crawl counts anew


def test_auto_workers_are_one_per_core_and_none_on_one_core(monkeypatch):
    from crawler.extract import analysis

    for cores, workers in ((1, 0), (2, 2), (3, 3), (8, analysis.AUTO_MAX_WORKERS)):
        monkeypatch.setattr(analysis.os, "sched_getaffinity", lambda _pid, n=cores: set(range(n)))
        assert analysis.auto_workers() == workers


def test_extraction_workers_is_a_number_or_auto(tmp_path):
    from crawler.config import load_config
    from crawler.crawl.settings import crawler_table

    path = tmp_path / "sources.toml"
    path.write_text('[crawler]\nextraction_workers = "many"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r'sources.toml:2: \[crawler\] extraction_workers: .*"auto", got .many.'):
        crawler_table(load_config(path))
    path.write_text("[crawler]\nextraction_workers = 2\n", encoding="utf-8")
    assert crawler_table(load_config(path))["extraction_workers"] == 2
    path.write_text("[crawler]\nextraction_workers = -1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="must be ≥ 0"):
        crawler_table(load_config(path))


def test_a_dead_worker_fails_its_page_by_name_and_the_next_pages_go_to_a_new_one():
    import asyncio
    import os
    import signal

    from crawler.extract.analysis import AnalysisPool, analyse_page

    html = recorded("kommersant/doc-7715044.html").read_text(encoding="utf-8")
    url = "https://www.kommersant.ru/doc/7715044"
    here = analyse_page(html, url)
    pool = AnalysisPool(workers=1)
    try:
        assert asyncio.run(pool.analyse(html, url)) == here
        for pid in list(pool._executor._processes):  # what the kernel does to a worker out of memory
            os.kill(pid, signal.SIGKILL)
        with pytest.raises(ExtractionError, match="the extraction worker process died while .*7715044"):
            asyncio.run(pool.analyse(html, url))
        assert asyncio.run(pool.analyse(html, url)) == here  # a new worker
    finally:
        pool.close()


CRAWL_PROCESS_WITH_A_WORKER = """
import asyncio, sys
from scrapy.utils.misc import load_object
import crawler.runner
from crawler.crawl import settings
from crawler.extract.analysis import AnalysisPool

for dotted in [*settings.ITEM_PIPELINES, *crawler.runner.SPIDER_CLASSES.values()]:
    load_object(dotted)
pool = AnalysisPool(workers=1)
try:
    extracted, lang = asyncio.run(pool.analyse(open(sys.argv[1], encoding="utf-8").read(), sys.argv[2]))
finally:
    pool.close()
loaded = sorted(m for m in ("trafilatura", "htmldate", "justext", "numpy") if m in sys.modules)
print(lang.lang, extracted.title, loaded)
"""


def test_the_crawls_process_never_loads_trafilatura_when_a_worker_reads_its_pages():
    """The crawl's own process receives each page's ``Extracted`` and language from a worker: it must not load
    the extractor or the language profiles' numpy for that (a tenth of a second or more each of its start-up,
    before the workers start)."""
    page = recorded("xinhua/world-2019-12-10-c_1125327450.html")
    url = "http://www.xinhuanet.com/world/2019-12/10/c_1125327450.htm"
    proc = subprocess.run(
        [sys.executable, "-c", CRAWL_PROCESS_WITH_A_WORKER, str(page), url],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "zh 法国全国大罢工再次严重影响交通 []"
