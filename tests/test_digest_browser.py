"""digest.html in a real headless Chromium (Debian's package, installed by `make test-deps`)."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import lxml.html
import pytest

from crawler.digest import stage as digest
from tests import digestkit
from tests.digestkit import DAY, PLANTED_SCRIPT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test-deps)")
PHONE = (412, 915)


def chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium as root on this closed network, with a fresh profile."""
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp / 'profile'}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> tuple[Path, dict, Path]:
    out = tmp_path_factory.mktemp("html")
    items = digestkit.standard_day(out)
    digest.build(out, DAY)
    return out / DAY / "digest.html", items, out


@pytest.fixture(scope="module")
def dom(page, tmp_path_factory):
    html_path, _, _ = page
    proc = chromium(tmp_path_factory.mktemp("chromium"), "--dump-dom", html_path.as_uri())
    assert proc.returncode == 0 and "<body" in proc.stdout, proc.stderr[-2000:]
    return lxml.html.document_fromstring(proc.stdout)


def png_facts(path: Path) -> tuple[int, int, int]:
    """(width, height, distinct byte values in the decompressed pixel data) of a PNG file."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    idat, pos = b"", 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return width, height, len(set(zlib.decompress(idat)))


def test_screenshot_on_a_phone_sized_window(page, tmp_path):
    html_path, _, _ = page
    shot = tmp_path / "digest.png"
    proc = chromium(
        tmp_path,
        f"--window-size={PHONE[0]},{PHONE[1]}",
        "--hide-scrollbars",
        f"--screenshot={shot}",
        html_path.as_uri(),
    )
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    width, height, shades = png_facts(shot)
    assert (width, height) == PHONE
    assert shot.stat().st_size > 20_000 and shades > 100  # text was drawn, not a blank page


def test_page_text_holds_both_languages_side_by_side(dom, page):
    _, items, _ = page
    text = dom.text_content()
    for phrase in (
        "中方愿同俄罗斯一道，巩固两国人民传统友谊。",
        "China is ready to work with Russia to consolidate the traditional friendship",
        "Россия и Китай будут и впредь действовать в интересах наших народов.",
        "Russia and China will continue to act in the interests of our peoples.",
        "法国全国大罢工再次严重影响交通",
        "Taurida motorway",
    ):
        assert phrase in text
    card = dom.get_element_by_id(f"i-{items['mfa']['id']}")
    row = card.find_class("row")[0]
    assert [(p.get("lang"), p.text_content()) for p in row.findall("p")] == [
        ("zh", items["mfa"]["paragraphs"][0]),
        ("en", items["mfa"]["paragraphs_en"][0]),
    ]
    assert "FAILED" in dom.get_element_by_id("sections").getnext().text_content()


def test_a_planted_script_is_shown_as_text_and_never_runs(dom, page):
    _, items, _ = page
    assert dom.findtext(".//title") == f"newsmon digest {DAY}"  # the script would set "PWNED"
    assert dom.xpath("//*[@id='pwned']") == []  # …and add this element
    assert dom.xpath("//script") == [] and dom.xpath("//img") == []  # no element came from crawled text
    assert dom.find(".//body").get("data-pwned") is None
    card = dom.get_element_by_id(f"i-{items['planted']['id']}")
    assert PLANTED_SCRIPT in card.findtext(".//h3/a")
    assert '<img src="x" onerror=' in card.text_content()


def test_the_file_is_self_contained(page):
    html_path, _, _ = page
    tree = lxml.html.parse(str(html_path)).getroot()
    assert tree.xpath("//link | //script | //iframe | //object | //embed | //*[@src]") == []
    hrefs = [a.get("href") for a in tree.iter("a")]
    assert hrefs and all(h.startswith("#") or h.startswith(("http://", "https://")) for h in hrefs)
    csp = tree.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")
    assert csp and "default-src 'none'" in csp[0]
    assert tree.xpath("//meta[@name='viewport']")


ROW_GEOMETRY = """(() => {
  const row = document.querySelector('#i-%s .row');
  const [orig, en] = [...row.querySelectorAll('p')].map(p => p.getBoundingClientRect());
  return {side_by_side: Math.abs(orig.top - en.top) < 1 && en.left > orig.right,
          stacked: en.top >= orig.bottom, orig_width: orig.width};
})()"""


def test_phone_layout_has_no_sideways_scroll_and_stacks_the_languages(page, tmp_path):
    from tests.cdp import Browser

    html_path, items, _ = page
    with Browser(CHROMIUM, tmp_path / "profile") as browser:
        browser.open(html_path.as_uri(), width=PHONE[0], height=PHONE[1], mobile=True)
        assert browser.evaluate("document.title") == f"newsmon digest {DAY}"  # scripts never ran
        assert browser.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
        phone = browser.evaluate(ROW_GEOMETRY % items["mfa"]["id"])
        rendered = browser.evaluate("document.body.innerText")
        png = browser.screenshot()
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
        )
        desktop = browser.evaluate(ROW_GEOMETRY % items["mfa"]["id"])
    assert phone["stacked"] and not phone["side_by_side"] and phone["orig_width"] > 300
    assert desktop["side_by_side"]
    assert "巩固两国人民传统友谊" in rendered and "the interests of our peoples" in rendered
    assert PLANTED_SCRIPT in rendered  # shown as text
    shot = tmp_path / "phone.png"
    shot.write_bytes(png)
    assert png_facts(shot)[:2] == PHONE


@pytest.fixture(scope="module")
def watched_page(tmp_path_factory) -> tuple[Path, dict]:
    """The standard day matched against a watch (as the run's watch stage does), then its digest."""
    from contextlib import closing

    from crawler import state
    from crawler.watch import stage as watch_stage
    from crawler.watch.matcher import Matcher
    from crawler.watch.settings import Watch

    out = tmp_path_factory.mktemp("watched")
    items = digestkit.standard_day(out)
    with closing(state.connect(out)) as conn:
        watch_stage.match_ids(
            conn, out, Matcher([Watch("Kremlin", ("Путин*", "Putin"))]), [i["id"] for i in items.values()], run_id=None
        )
    digest.build(out, DAY)
    return out / DAY / "digest.html", items


def kwic_facts(document) -> list[tuple[str, list[str]]]:
    """(the item a WATCHED entry links to, the marked words of its context) per entry."""
    out = []
    for entry in document.cssselect("ul.watched > li"):
        link = entry.cssselect("a")[0].get("href")
        out.append((link, [m.text_content() for m in entry.cssselect(".kwic mark")]))
    return out


def test_watch_hits_show_their_sentence_with_the_match_marked(watched_page, tmp_path):
    html_path, items = watched_page
    proc = chromium(tmp_path, "--dump-dom", html_path.as_uri())
    assert proc.returncode == 0 and "<body" in proc.stdout, proc.stderr[-2000:]
    document = lxml.html.document_fromstring(proc.stdout)
    facts = dict(kwic_facts(document))
    assert set(facts) == {f"#i-{items['kommersant']['id']}", f"#i-{items['kremlin']['id']}"}
    assert all(word.lower().startswith(("путин", "putin")) for words in facts.values() for word in words)
    assert any(word.startswith("Путин") for word in facts[f"#i-{items['kommersant']['id']}"])
    assert "Putin" in facts[f"#i-{items['kommersant']['id']}"]  # its English sentence, marked too
    assert not document.cssselect(".kwic script")
