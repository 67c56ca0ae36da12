"""Atom 1.0 documents (RFC 4287) from plain data: ``render(Feed) -> bytes``, written with the standard library's
ElementTree.

Text goes in as given (titles as text constructs, content as escaped HTML: ``type="html"``); characters XML 1.0
cannot carry (controls a page may hold) are dropped. Dates are RFC 3339 in UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.etree import ElementTree as etree

ATOM = "http://www.w3.org/2005/Atom"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    updated: str  # RFC 3339
    content_html: str
    link: str | None = None  # rel="alternate": the article or section page
    related: str | None = None  # rel="related": e.g. the edit's diff page
    categories: list[tuple[str, str]] = field(default_factory=list)  # (term, label)


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    subtitle: str
    updated: str
    entries: list[Entry]
    self_link: str | None = None
    author: str = "newsmon"


def rfc3339(stamp: str | None) -> str | None:
    """An ISO-8601 time as RFC 3339 in UTC (``…Z``); a naive time is UTC; None when it is not a time."""
    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def clean(text: str | None) -> str:
    return _NOT_XML.sub("", text or "")


def render(feed: Feed) -> bytes:
    etree.register_namespace("", ATOM)
    root = etree.Element(f"{{{ATOM}}}feed")
    _text(root, "id", feed.id)
    _text(root, "title", feed.title)
    _text(root, "subtitle", feed.subtitle)
    _text(root, "updated", feed.updated)
    _text(etree.SubElement(root, f"{{{ATOM}}}author"), "name", feed.author)
    _text(root, "generator", "newsmon")
    if feed.self_link:
        _link(root, "self", feed.self_link, "application/atom+xml")
    for entry in feed.entries:
        root.append(_entry(entry))
    etree.indent(root)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def _entry(entry: Entry) -> etree.Element:
    node = etree.Element(f"{{{ATOM}}}entry")
    _text(node, "id", entry.id)
    _text(node, "title", entry.title)
    _text(node, "updated", entry.updated)
    _text(node, "published", entry.updated)
    if entry.link:
        _link(node, "alternate", entry.link, "text/html")
    if entry.related:
        _link(node, "related", entry.related, "text/html")
    for term, label in entry.categories:
        etree.SubElement(node, f"{{{ATOM}}}category", {"term": clean(term), "label": clean(label)})
    content = _text(node, "content", entry.content_html)
    content.set("type", "html")
    return node


def _text(parent: etree.Element, name: str, text: str) -> etree.Element:
    node = etree.SubElement(parent, f"{{{ATOM}}}{name}")
    node.text = clean(text)
    return node


def _link(parent: etree.Element, rel: str, href: str, kind: str) -> None:
    etree.SubElement(parent, f"{{{ATOM}}}link", {"rel": rel, "href": clean(href), "type": kind})
