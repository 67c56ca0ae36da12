"""people.com.cn article pages (2016–19 ``div.box_con#rwb_zw`` and 2020+ ``div.rm_txt_con``).

Generic extraction can come out as the page's copyright line or lose the date and source; this
parser reads the body, the title ``h1``, date and source from ``div.box01 .fl`` (or the 2020+
``col-1-1`` line), and the editor from ``div.edit``.

Long articles continue in ``…-2.html``, ``…-3.html``, listed in the ``div.zdfy`` pager of every page
(``【1】【2】…``, page 1 included). The parser declares the pages after the current one in
``extras["continued_at"]`` and, on a further page, page 1 in ``extras["continues"]``; following and
merging them is generic (``crawler.extract.continuation``).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from crawler.extract.extracted import Extracted
from crawler.extract.parsers import register
from crawler.extract.parsers.base import SiteParser, drop, first, first_of, local_datetime, meta_content, select
from crawler.extract.textutil import block_paragraphs, clean_text, element_text

DATE_RE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日\s*(\d{1,2}:\d{2})?")
SOURCE_RE = re.compile(r"来源[：:]\s*(\S+)")
EDITOR_RE = re.compile(r"责编[：:]\s*([^)）]+)")
# Article pages: ``…/c<catalog>-<content>.html`` is page 1, ``…/c<catalog>-<content>-<n>.html`` page n.
PAGE_RE = re.compile(r"^(.*/c\d+-\d+)(?:-(\d+))?\.html$")
# A link-only paragraph that sends the reader elsewhere: "点击进入…" (click to enter), "…>>".
PROMOTION_RE = re.compile(r"^点击|(>>|＞＞|》》|→)$")
# Inside the body but not article text: picture boxes, the pager, editor line, share widget.
NOT_TEXT = (
    "script",
    "style",
    "div.box_pic",
    "div.zdfy",
    "div.edit",
    "div.bza",
    "table.pci_c",
    "center",
    "div.otitle",
    "p.paper_num",
    ".section-common-share-wrap",
)


@register
class PeoplesDailyParser(SiteParser):
    name = "peoples_daily"
    VERSION = 2
    hosts = ("people.com.cn", "people.cn")
    signature = "div.rm_txt_con, div.box_con#rwb_zw"

    def parse(self, tree, url: str):
        body = first_of(tree, "div.rm_txt_con", "div.box_con#rwb_zw")
        if body is None:
            return None
        editor = EDITOR_RE.search(element_text(first(tree, "div.edit")))
        continued = continuation_pages(body, url)
        first_page = first_page_url(url)
        drop(body, *NOT_TEXT)
        drop_promotions(body)
        dateline = element_text(first_of(tree, "div.box01 .fl", "div.col-1-1 .fl", "div.col-1-1"))
        extras = {"parser": self.name}
        source = SOURCE_RE.search(dateline) or SOURCE_RE.search(meta_content(tree, "source"))
        if source:
            extras["source"] = source.group(1)
        if continued:
            extras["continued_at"] = continued
        if first_page:
            extras["continues"] = first_page
        if editor:
            extras["editors"] = [e.strip() for e in re.split(r"[、，,]", editor.group(1)) if e.strip()]
        return Extracted(
            title=_title(tree),
            paragraphs=block_paragraphs(body),
            published_at=_date(dateline, meta_content(tree, "publishdate")),
            authors=[],
            extras=extras,
        )


def continuation_pages(body, url: str) -> list[str]:
    """Absolute URLs of the article's pages after this one (``…-2.html`` …) in the ``div.zdfy`` pager.

    By page number, not by position: the pager lists page 1 and the current page too, and a copy of a
    page served under another address (a mirror) still links the original's pages."""
    current = page_number(url) or 1
    pages = []
    for a in select(body, "div.zdfy a[href]"):
        href = urljoin(url, a.get("href"))
        if (page_number(href) or 0) > current and href not in pages:
            pages.append(href)
    return pages


def page_number(url: str) -> int | None:
    """1 for ``…/c1001-40223222.html``, n for ``…/c1001-40223222-n.html``, None for another address."""
    match = PAGE_RE.match(url.split("?", 1)[0].split("#", 1)[0])
    if not match:
        return None
    return int(match.group(2)) if match.group(2) else 1


def first_page_url(url: str) -> str | None:
    """Page 1 of the article when ``url`` is one of its further pages (``…-2.html``), else None."""
    if (page_number(url) or 1) < 2:
        return None
    return PAGE_RE.match(url.split("?", 1)[0].split("#", 1)[0]).group(1) + ".html"


def drop_promotions(body) -> None:
    """Drop promotion paragraphs ("点击进入“文艺星青年”>>"): every word inside a link that says "click" or
    points on with ">>". Any other link-only paragraph is the article's own (a contact address, the
    document the article is about) and stays."""
    for p in list(body.iter("p")):
        text = element_text(p)
        linked = "".join(element_text(a) for a in p.iter("a"))
        if text and clean_text(linked).replace(" ", "") == text.replace(" ", "") and PROMOTION_RE.search(text):
            p.drop_tree()


def _title(tree) -> str | None:
    for h1 in select(tree, "h1"):
        text = element_text(h1)
        if text:
            return text
    return None


def _date(dateline: str, publishdate: str) -> str | None:
    match = DATE_RE.search(dateline)
    if match:
        year, month, day, hhmm = match.groups()
        return local_datetime(
            f"{year}-{int(month):02d}-{int(day):02d}", hhmm.zfill(5) if hhmm else None, "Asia/Shanghai"
        )
    return local_datetime(publishdate, None, "Asia/Shanghai") if publishdate else None
