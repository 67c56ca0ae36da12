"""The digest's analysis blocks in a real headless Chromium (Debian's package, installed by `make test-deps`):
the watches' inline week charts are SVG the browser parses as such (under the page's Content-Security-Policy),
and the held and off-subject notes are shown beside their items."""

from __future__ import annotations

import lxml.html
import pytest

from tests.analysiskit import seed, write_config
from tests.test_analysis import flag
from tests.test_digest_browser import CHROMIUM, chromium

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test-deps)")


@pytest.fixture(scope="module")
def dom(tmp_path_factory):
    from tests.conftest import run_newsmon

    tmp = tmp_path_factory.mktemp("analysis-html")
    cfg, out = write_config(tmp), tmp / "output"
    seed(out)
    flag(cfg)
    run_newsmon("watch", "--rematch", "--config", str(cfg), check=True)
    run_newsmon("digest", "--date", "2026-09-11", "--config", str(cfg), check=True)
    proc = chromium(tmp, "--dump-dom", (out / "2026-09-11" / "digest.html").as_uri())
    assert proc.returncode == 0 and "<body" in proc.stdout, proc.stderr[-2000:]
    return lxml.html.document_fromstring(proc.stdout)


def test_each_watch_has_its_weeks_drawn_as_svg(dom):
    charts = dom.xpath("//ul[@class='weeks']/li/*[local-name()='svg']")
    assert len(charts) == 1 and charts[0].get("aria-label") == "watch:Peoples, items per week"
    bars = charts[0].xpath("./*[local-name()='rect']")
    assert [int(b.get("data-count")) for b in bars] == [0, 0, 0, 0, 1, 0, 0, 3]
    assert [b.xpath("string(./*[local-name()='title'])") for b in bars][-1] == "week from 2026-09-05: 3"


def test_the_held_item_says_so_under_its_title(dom):
    notes = dom.xpath("//article[@class='item']/p[@class='note']/text()")
    assert notes == [
        "HELD 3 DAYS: datelined 符拉迪沃斯托克 2026-09-08 (新华社符拉迪沃斯托克9月8日电), published 2026-09-11"
    ]
