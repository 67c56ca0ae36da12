"""xinhuanet.com / news.cn article pages (``#p-detail`` template).

Pins the body to ``#p-detail`` so that the "纠错" / "关注新华网" widgets and the related-news lists
never enter the text, the title to ``div.h-title`` (without the "-新华网" suffix of <title>), the
time to ``span.h-time`` (Beijing) and the source to ``em#source``.
"""

from __future__ import annotations

import re

from crawler.extract.extracted import Extracted
from crawler.extract.parsers import register
from crawler.extract.parsers.base import SiteParser, drop, first, local_datetime, text_of
from crawler.extract.textutil import block_paragraphs

TIME_RE = re.compile(r"(\d{4}-\d{2}-\d{2})\s+(\d{1,2}:\d{2})")
SOURCE_RE = re.compile(r"来源[：:]\s*(\S+)")
EDITOR_RE = re.compile(r"责任编辑[：:]\s*(\S+)")
# "新华社巴黎12月9日电（记者唐霁）": the reporters named in the dateline are the authors.
DATELINE_RE = re.compile(r"^新华社.{1,30}?电[（(]记者([^）)]+)[）)]")
BOILERPLATE = re.compile(r"^(纠错|关注新华网|【纠错】.*|责任编辑[：:].*|\[责任编辑[：:].*\])$")
NOT_TEXT = ("script", "style", "#articleEdit", ".lb", "div.zan-wap", "div.p-tags", "#div_tags")


@register
class XinhuaParser(SiteParser):
    name = "xinhua"
    VERSION = 1
    hosts = ("xinhuanet.com", "news.cn")
    signature = "#p-detail"

    def parse(self, tree, url: str):
        body = first(tree, "#p-detail")
        if body is None:
            return None
        editor = _match(EDITOR_RE, text_of(tree, ".p-jc"))  # read before the widgets are dropped
        drop(body, *NOT_TEXT)
        paragraphs = [p for p in block_paragraphs(body) if not BOILERPLATE.match(p)]
        extras = {"parser": self.name}
        source = text_of(tree, "em#source") or _match(SOURCE_RE, text_of(tree, "div.h-info"))
        if source:
            extras["source"] = source
        if editor:
            extras["editors"] = [editor]
        return Extracted(
            title=text_of(tree, "div.h-title") or None,
            paragraphs=paragraphs,
            published_at=_time(text_of(tree, "span.h-time")),
            authors=dateline_authors(paragraphs),
            extras=extras,
        )


def dateline_authors(paragraphs: list[str]) -> list[str]:
    match = DATELINE_RE.match(paragraphs[0]) if paragraphs else None
    if not match:
        return []
    return [name.strip() for name in re.split(r"[、，,\s]+", match.group(1)) if name.strip()]


def _match(pattern: re.Pattern, text: str) -> str | None:
    match = pattern.search(text or "")
    return match.group(1) if match else None


def _time(text: str) -> str | None:
    match = TIME_RE.search(text)
    return local_datetime(match.group(1), match.group(2).zfill(5), "Asia/Shanghai") if match else None
