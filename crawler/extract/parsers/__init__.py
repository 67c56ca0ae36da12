"""Site parsers: one small class per site that generic extraction gets wrong.

A parser is chosen, in this order, by the section's ``parser`` key, by the page's host, or by its
template signature (a CSS selector only that site's article pages match: pages served from a mirror
or from the loopback test server keep their template but not their host). Every module in this
package registers its classes with ``@register``; adding a site is adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil
from urllib.parse import urlsplit

from crawler.exceptions import ExtractionError
from crawler.extract.parsers.base import SiteParser, may_match, select

PARSERS: dict[str, SiteParser] = {}


def register(cls: type[SiteParser]) -> type[SiteParser]:
    PARSERS[cls.name] = cls()
    return cls


def known_parsers() -> list[str]:
    """Names a section's ``parser`` key may take (for config validation)."""
    _load_all()
    return sorted(PARSERS)


def parser_for(url: str, name: str | None = None, tree=None, html: str | None = None) -> SiteParser | None:
    """The parser named by the section, else the one owning the URL's host or the page's template (``tree``;
    ``html``, its source, skips the signatures whose class and id names it does not contain)."""
    _load_all()
    if name:
        if name not in PARSERS:
            raise ExtractionError(f"unknown parser {name!r} (known: {', '.join(sorted(PARSERS))})")
        return PARSERS[name]
    host = (urlsplit(url).hostname or "").lower()
    for parser in PARSERS.values():
        if any(host == h or host.endswith("." + h) for h in parser.hosts):
            return parser
    if tree is not None:
        for parser in PARSERS.values():
            if parser.signature and may_match(parser.signature, html) and select(tree, parser.signature):
                return parser
    return None


_loaded = False


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    for info in pkgutil.iter_modules(__path__):
        if info.name != "base":
            importlib.import_module(f"{__name__}.{info.name}")
    _loaded = True
