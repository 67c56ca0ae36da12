"""What every site parser shares: the interface and small lxml helpers."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from lxml.cssselect import CSSSelector

from crawler.extract.textutil import clean_text, element_text, iso_date_or_none


class SiteParser:
    """Turns one site's article page into an ``Extracted``; ``parse`` returns None when the page
    does not have the template the parser knows (the caller then falls back to generic extraction).

    ``VERSION`` is recorded on every item the parser produces (``item["extractor"]``). Bump it in the same
    commit as any change that alters what ``parse`` returns for some page — a different title, paragraph,
    date, author, or a page now recognised or no longer recognised. Article re-checks compare an item with
    the live page only through the extractor it was stored with: when the recorded version differs, they
    re-extract the stored raw page first, so a parser change is never reported as an edit of the article.
    A change that alters no output (a refactoring, a speed-up) keeps the version."""

    name: str = ""
    VERSION: int = 1
    hosts: tuple[str, ...] = ()
    signature: str | None = None  # CSS selector that only this site's article pages match

    def parse(self, tree, url: str):
        raise NotImplementedError


@lru_cache(maxsize=256)
def compiled(css: str) -> CSSSelector:
    """Selectors are compiled once (to XPath) and reused: compiling costs more than matching."""
    return CSSSelector(css)


@lru_cache(maxsize=256)
def _names(css: str) -> list[tuple[str, ...]]:
    """The class and id names each selector of a group requires (``div.a#b, p.c`` → ``[("a", "b"), ("c",)]``);
    none for a selector with pseudo-classes, attributes or escapes, whose names may be ones it must not have."""
    return [() if any(c in part for c in ":[\\") else tuple(_NAME.findall(part)) for part in css.split(",")]


_NAME = re.compile(r"[.#]([\w-]+)")


def may_match(css: str, html: str | None) -> bool:
    """False when no selector of ``css`` can match the page ``html`` is the source of: one of the class or id
    names each requires occurs nowhere in it. A substring search costs a tenth of the selector's walk of the tree,
    and a page no template claims (the generic path) would walk it once per template."""
    return html is None or any(all(name in html for name in names) for names in _names(css))


def select(tree, css: str) -> list:
    return compiled(css)(tree)


def first(tree, css: str):
    found = compiled(css)(tree)
    return found[0] if found else None


def first_of(tree, *selectors: str):
    for css in selectors:
        el = first(tree, css)
        if el is not None:
            return el
    return None


def text_of(tree, css: str) -> str:
    return element_text(first(tree, css))


def meta_content(tree, name: str) -> str:
    el = first(tree, f'meta[name="{name}"]')
    return clean_text(el.get("content")) if el is not None else ""


def drop(root, *selectors: str) -> None:
    """Remove elements but keep their tail text (the words after them belong to the paragraph)."""
    for css in selectors:
        for el in compiled(css)(root):
            el.drop_tree()


def local_datetime(day: str, hhmm: str | None, tz: str) -> str | None:
    """``YYYY-MM-DD`` plus an optional ``HH:MM`` in the site's zone → ISO-8601 with offset."""
    if not hhmm:
        return iso_date_or_none(day)
    try:
        moment = datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=ZoneInfo(tz))
    except ValueError:
        return iso_date_or_none(day)
    return iso_date_or_none(moment.isoformat())
