"""What an edit changed: the word diff (pure), and an edited Russian article, both versions translated, shown
by the digest's edit block (txt and html), its diff page under output/diffs/ and `newsmon diff`."""

from __future__ import annotations

import lxml.html
import pytest

from crawler import state
from crawler.digest import stage as digest
from crawler.lifecycle.textdiff import (
    ADDED,
    EQUAL,
    REMOVED,
    changed_chars,
    edit_size,
    marked,
    numbers_changed,
    trimmed,
    word_diff,
)
from crawler.lifecycle.versions import versions_of
from tests import editkit


@pytest.mark.parametrize(
    "old, new",
    [
        ("The talks would cover energy supplies.", "The talks will cover gas supplies, and more."),
        ("中方愿同俄罗斯一道，巩固两国人民传统友谊。", "中方愿同俄罗斯一起，巩固两国传统友谊。"),
        ("", "Только новое."),
        ("Всё удалено.", ""),
    ],
)
def test_word_diff_gives_both_texts_back(old, new):
    segments = word_diff(old, new)
    assert "".join(t for m, t in segments if m != ADDED) == old
    assert "".join(t for m, t in segments if m != REMOVED) == new


def test_words_are_marked_and_a_chinese_character_is_a_word():
    assert (
        marked(word_diff("talks on Wednesday in Moscow", "talks on Thursday in Moscow"))
        == "talks on [-Wednesday-]{+Thursday+} in Moscow"
    )
    assert marked(word_diff("中方愿同俄罗斯一道", "中方愿同俄罗斯一起")) == "中方愿同俄罗斯一[-道-]{+起+}"


def test_changed_characters_count_what_a_reader_sees_changed():
    assert changed_chars("a comma, here", "a comma here") == 1
    assert changed_chars("Updated 10:15", "Updated 10:42") == 2
    assert changed_chars("5 killed", "7 killed") == 1
    assert changed_chars("talks", "talks in Kazan next month") == len("inKazannextmonth")
    assert changed_chars("same   text", "same text") == 0
    # ignore patterns apply first; a new paragraph counts whole, a changed title too
    assert edit_size("T", ["Views: 1,234. Text."], "T", ["Views: 9,999. Text."], (r"Views: [\d,]+\.",)) == 0
    assert edit_size("T", ["One."], "T", ["One.", "Two more."]) == len("Twomore.")
    assert edit_size("Title", ["One."], "Title!", ["One."]) == 1


def test_a_changed_number_is_news_a_changed_time_of_day_is_not():
    assert numbers_changed("T", ["Updated 10:15. 5 killed."], "T", ["Updated 10:42. 5 killed."]) is False
    assert numbers_changed("T", ["5 killed."], "T", ["7 killed."]) is True
    assert numbers_changed("T", ["今年的6月16日是父亲节。"], "T", ["今年的6月15日是父亲节。"]) is True
    assert numbers_changed("T", ["Views: 1,234."], "T", ["Views: 1,240."], (r"Views: [\d,]+\.",)) is False
    assert numbers_changed("Talks, 2 days", [], "Talks 2 days", []) is False


def test_trimming_keeps_the_words_around_each_change():
    old = "Alpha beta gamma delta epsilon zeta eta theta. One two three. And then more words follow to the end."
    new = old.replace("three", "four")
    shown = marked(trimmed(word_diff(old, new), 12))
    assert shown == "… One two [-three-]{+four+}. And then …"
    assert trimmed([(EQUAL, "short")], 12) == [(EQUAL, "short")]


@pytest.fixture
def edited(tmp_path):
    out = tmp_path / "output"
    ident, event = editkit.edited_article(out)
    digest.build(out, editkit.DAY)
    return out, ident, event


def test_versions_keep_their_english(edited):
    out, ident, _ = edited
    conn = state.connect(out)
    try:
        versions = versions_of(conn, ident)
    finally:
        conn.close()
    assert [(v.number, v.paragraphs, v.paragraphs_en) for v in versions] == [
        (1, editkit.OLD, editkit.OLD_EN),
        (2, editkit.NEW, editkit.NEW_EN),
    ]


def test_digest_text_shows_the_changed_paragraphs_in_both_languages(edited):
    out, ident, _ = edited
    text = (out / editkit.DAY / "digest.txt").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.startswith(f"    EDIT #{ident[:8]} ")]
    tag = f"    EDIT #{ident[:8]} "
    assert lines == [
        f"{tag}¶1 RU  Переговоры состоятся в [-среду-]{{+четверг+}} в Москве.",
        f"{tag}¶1 EN  The talks will take place on [-Wednesday-]{{+Thursday+}} in Moscow.",
        f"{tag}¶4 RU  {{+По итогам встречи планируется пресс-конференция.+}}",
        f"{tag}¶4 EN  {{+A press conference is planned after the meeting.+}}",
        f"{tag}whole diff: ../diffs/{ident}-v2.html or newsmon diff {ident[:8]} --version 2",
    ]
    alert = text.splitlines().index(lines[0]) - 1
    assert text.splitlines()[alert].startswith("ALERT ") and "| article_edited | mid/news |" in text.splitlines()[alert]


def test_digest_html_block_and_the_diff_page(edited):
    out, ident, _ = edited
    page = lxml.html.parse(str(out / editkit.DAY / "digest.html")).getroot()
    block = page.find_class("edit")[0]
    cells = [[(td.get("lang"), td.text_content()) for td in tr.findall("td")] for tr in block.iter("tr")]
    assert cells[0] == [
        ("ru", "Переговоры состоятся в средучетверг в Москве."),
        ("en", "The talks will take place on WednesdayThursday in Moscow."),
    ]
    assert [d.text for d in block.iter("del")] == ["среду", "Wednesday"]
    assert [i.text for i in block.iter("ins")][:2] == ["четверг", "Thursday"]
    link = block.find_class("difflink")[0].get("href")
    assert link == f"../diffs/{ident}-v2.html"
    diff_page = (out / editkit.DAY / link).resolve()
    tree = lxml.html.parse(str(diff_page)).getroot()
    rows = tree.get_element_by_id("diff").find_class("row")
    assert [r.get("class") for r in rows] == ["row changed", "row same", "row same", "row added"]
    assert [p.get("lang") for p in rows[0].findall("p")] == ["ru", "en"]
    assert rows[1].findall("p")[1].text_content() == editkit.OLD_EN[1]
    assert tree.xpath("//script") == [] and "default-src 'none'" in tree.xpath("//meta/@content")[1]


def test_newsmon_diff_text_and_html(edited, newsmon):
    out, ident, _ = edited
    proc = newsmon("diff", ident[:6], "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[:4] == [
        f"{ident} · mid/news · ru · {editkit.URL}",
        f"{editkit.TITLE_EN} [{editkit.TITLE}]",
        "versions: 1 (2026-11-01 02:00), 2 (2026-11-01 08:00)",
        "version 2 (2026-11-01 08:00 UTC) against version 1 (2026-11-01 02:00 UTC)    [-removed-] {+added+}",
    ]
    assert "¶1 EN  The talks will take place on [-Wednesday-]{+Thursday+} in Moscow." in proc.stdout
    by_url = newsmon("diff", editkit.URL, "--html", "--output", str(out))
    assert by_url.returncode == 0 and by_url.stdout == (out / "diffs" / f"{ident}-v2.html").read_text(encoding="utf-8")
    bad = newsmon("diff", "not-an-id", "--output", str(out))
    assert bad.returncode == 2 and "not an item id" in bad.stderr and "Traceback" not in bad.stderr


def test_newsmon_alerts_lists_the_edit_with_its_marked_words(edited, newsmon):
    out, ident, _ = edited
    proc = newsmon("alerts", "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    at = next(n for n, line in enumerate(lines) if "article_edited" in line)
    assert lines[at + 1 : at + 4] == [
        "    ¶1 Переговоры состоятся в [-среду-]{+четверг+} в Москве.",
        "    ¶4 {+По итогам встречи планируется пресс-конференция.+}",
        f"    whole diff: newsmon diff {ident[:8]} --version 2",
    ]


def test_with_the_served_address_the_digest_links_the_diff_page_by_it(edited, tmp_path):
    from crawler.config import load_config

    out, ident, _ = edited
    cfg = tmp_path / "served.toml"
    cfg.write_text(
        f'[crawler]\noutput_dir = "{out}"\n[feeds]\nbase_url = "https://desk.example.org/newsmon"\n', encoding="utf-8"
    )
    digest.build(out, editkit.DAY, load_config(cfg))
    page = f"https://desk.example.org/newsmon/diffs/{ident}-v2.html"
    html = lxml.html.parse(str(out / editkit.DAY / "digest.html")).getroot()
    assert html.find_class("difflink")[0].get("href") == page
    assert f"whole diff: {page} or newsmon diff" in (out / editkit.DAY / "digest.txt").read_text(encoding="utf-8")
