"""The digest's edit block and the diff page it links, in a real headless Chromium (Debian's package, installed by
`make test-deps`; skipped where it is missing): changed words struck through and underlined, the original and
its English side by side on a desktop and stacked on a phone, and the link from the digest opening the page."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from crawler.digest import stage as digest
from tests import editkit

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test-deps)")
PHONE = (412, 915)
DESKTOP = (1280, 900)

MARKS = """(() => {
  const style = (el) => getComputedStyle(el).textDecorationLine;
  const dels = [...document.querySelectorAll('%(scope)s del')], inss = [...document.querySelectorAll('%(scope)s ins')];
  return {del: dels.map(e => e.textContent), ins: inss.map(e => e.textContent),
          struck: dels.every(e => style(e).includes('line-through')),
          underlined: inss.every(e => style(e).includes('underline'))};
})()"""

SIDE_BY_SIDE = """(() => {
  const [orig, en] = [...document.querySelectorAll('%s')].slice(0, 2).map(e => e.getBoundingClientRect());
  return {side_by_side: Math.abs(orig.top - en.top) < 2 && en.left >= orig.right,
          stacked: en.top >= orig.bottom - 1, orig_width: orig.width};
})()"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> tuple[Path, Path, str]:
    out = tmp_path_factory.mktemp("edit") / "output"
    ident, _ = editkit.edited_article(out)
    digest.build(out, editkit.DAY)
    return out / editkit.DAY / "digest.html", out / "diffs" / f"{ident}-v2.html", ident


def wait_for(browser, expression: str, timeout: float = 20.0):
    """Poll ``expression`` until it is truthy (a navigation destroys the context for a moment)."""
    from tests.cdp import CdpError

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = browser.evaluate(expression)
        except CdpError:
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{expression} never became true")


def test_the_digest_edit_block_marks_the_changed_words_and_links_the_diff_page(pages, tmp_path):
    from tests.cdp import Browser

    digest_page, diff_page, _ = pages
    with Browser(CHROMIUM, tmp_path / "profile") as browser:
        browser.open(digest_page.as_uri(), width=DESKTOP[0], height=DESKTOP[1])
        marks = browser.evaluate(MARKS % {"scope": ".edit"})
        cells = browser.evaluate(SIDE_BY_SIDE % ".edit tr:first-child td")
        browser.evaluate("document.querySelector('.edit a.difflink').click()")
        wait_for(browser, f"location.href === {diff_page.as_uri()!r} && document.readyState === 'complete'")
        landed = browser.evaluate("document.getElementById('diff') !== null")
    assert marks["del"] == ["среду", "Wednesday"] and marks["ins"][:2] == ["четверг", "Thursday"]
    assert marks["struck"] and marks["underlined"]
    assert cells["side_by_side"]
    assert landed


def test_the_diff_page_side_by_side_on_a_desktop_and_stacked_on_a_phone(pages, tmp_path):
    from tests.cdp import Browser

    _, diff_page, ident = pages
    with Browser(CHROMIUM, tmp_path / "profile") as browser:
        browser.open(diff_page.as_uri(), width=DESKTOP[0], height=DESKTOP[1])
        title = browser.evaluate("document.title")
        desktop = browser.evaluate(SIDE_BY_SIDE % "#diff .row.changed p")
        marks = browser.evaluate(MARKS % {"scope": "#diff"})
        text = browser.evaluate("document.body.innerText")
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 1, "mobile": True},
        )
        phone = browser.evaluate(SIDE_BY_SIDE % "#diff .row.changed p")
        overflow = browser.evaluate("document.documentElement.scrollWidth")
    assert title.startswith(f"diff {ident[:8]} v2: ")  # the page's own title: no script ran
    assert desktop["side_by_side"] and phone["stacked"] and not phone["side_by_side"]
    assert overflow <= PHONE[0]
    assert marks["del"] == ["среду", "Wednesday"] and marks["struck"] and marks["underlined"]
    for unchanged in (editkit.OLD[1], editkit.OLD_EN[1], editkit.NEW_EN[3]):
        assert unchanged in text
