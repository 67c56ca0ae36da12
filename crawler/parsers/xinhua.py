"""xinhuanet.com / news.cn article pages (``#p-detail`` template).

Pins the body to ``#p-detail`` so that the "纠错" / "关注新华网" widgets and the related-news lists
never enter the text, the title to ``div.h-title`` (without the "-新华网" suffix of <title>), the
time to ``span.h-time`` (Beijing) and the source to ``em#source``.
"""

from __future__ import annotations

import re

from crawler.extraction import Extracted
from crawler.parsers import register
from crawler.parsers.base import SiteParser, block_paragraphs, drop, first, local_datetime, text_of

TIME_RE = re.compile(r"(\d{4}-\d{2}-\d{2})\s+(\d{1,2}:\d{2})")
BOILERPLATE = re.compile(r"^(纠错|关注新华网|【纠错】.*|责任编辑[：:].*|\[责任编辑[：:].*\])$")
NOT_TEXT = ("script", "style", "#articleEdit", ".lb", "div.zan-wap", "div.p-tags", "#div_tags")


@register
class XinhuaParser(SiteParser):
    name = "xinhua"
    hosts = ("xinhuanet.com", "news.cn")
    signature = "#p-detail"

    def parse(self, tree, url: str):
        body = first(tree, "#p-detail")
        if body is None:
            return None
        drop(body, *NOT_TEXT)
        paragraphs = [p for p in block_paragraphs(body) if not BOILERPLATE.match(p)]
        extras = {"parser": self.name}
        source = text_of(tree, "em#source")
        if source:
            extras["source"] = source
        return Extracted(title=text_of(tree, "div.h-title") or None, paragraphs=paragraphs,
                         published_at=_time(text_of(tree, "span.h-time")), authors=[], extras=extras)


def _time(text: str) -> str | None:
    match = TIME_RE.search(text)
    return local_datetime(match.group(1), match.group(2).zfill(5), "Asia/Shanghai") if match else None
