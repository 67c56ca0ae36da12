"""people.com.cn article pages (2016–19 ``div.box_con#rwb_zw`` and 2020+ ``div.rm_txt_con``).

Generic extraction can come out as the page's copyright line or lose the date and source; this
parser reads the body, the title ``h1``, date and source from ``div.box01 .fl`` (or the 2020+
``col-1-1`` line), and the editor from ``div.edit``.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from crawler.extract.extraction import Extracted
from crawler.extract.parsers import register
from crawler.extract.parsers.base import (SiteParser, block_paragraphs, drop, first, first_of,
                                  local_datetime, meta_content, select)
from crawler.extract.textutil import clean_text, element_text

DATE_RE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日\s*(\d{1,2}:\d{2})?")
SOURCE_RE = re.compile(r"来源[：:]\s*(\S+)")
EDITOR_RE = re.compile(r"责编[：:]\s*([^)）]+)")
# Inside the body but not article text: picture boxes, the pager, editor line, share widget.
NOT_TEXT = ("script", "style", "div.box_pic", "div.zdfy", "div.edit", "div.bza", "table.pci_c",
            "center", "div.otitle", "p.paper_num", ".section-common-share-wrap")


@register
class PeoplesDailyParser(SiteParser):
    name = "peoples_daily"
    hosts = ("people.com.cn", "people.cn")
    signature = "div.rm_txt_con, div.box_con#rwb_zw"

    def parse(self, tree, url: str):
        body = first_of(tree, "div.rm_txt_con", "div.box_con#rwb_zw")
        if body is None:
            return None
        editor = EDITOR_RE.search(element_text(first(tree, "div.edit")))
        continued = continuation_pages(body, url)
        drop(body, *NOT_TEXT)
        drop_link_only_paragraphs(body)
        dateline = element_text(first_of(tree, "div.box01 .fl", "div.col-1-1 .fl", "div.col-1-1"))
        extras = {"parser": self.name}
        source = SOURCE_RE.search(dateline) or SOURCE_RE.search(meta_content(tree, "source"))
        if source:
            extras["source"] = source.group(1)
        if continued:
            extras["continued_at"] = continued
        if editor:
            extras["editors"] = [e.strip() for e in re.split(r"[、，,]", editor.group(1)) if e.strip()]
        return Extracted(title=_title(tree), paragraphs=block_paragraphs(body),
                         published_at=_date(dateline, meta_content(tree, "publishdate")),
                         authors=[], extras=extras)


def continuation_pages(body, url: str) -> list[str]:
    """Absolute URLs of the article's further pages (``…-2.html``) listed in the ``div.zdfy`` pager."""
    pages = []
    for a in select(body, "div.zdfy a[href]"):
        href = urljoin(url, a.get("href"))
        if href != url and href not in pages:
            pages.append(href)
    return pages


def drop_link_only_paragraphs(body) -> None:
    """Drop promotion paragraphs ("点击进入…>>"): every word of them is inside a link."""
    for p in list(body.iter("p")):
        text = element_text(p)
        linked = "".join(element_text(a) for a in p.iter("a"))
        if text and clean_text(linked).replace(" ", "") == text.replace(" ", ""):
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
        return local_datetime(f"{year}-{int(month):02d}-{int(day):02d}",
                              hhmm.zfill(5) if hhmm else None, "Asia/Shanghai")
    return local_datetime(publishdate, None, "Asia/Shanghai") if publishdate else None
