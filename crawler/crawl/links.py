"""Finding article links in a section's entry point: listing pages, RSS/Atom feeds, sitemaps.

Plain functions over decoded text (no Scrapy, no reactor), so each rule is testable in a millisecond.
Every function returns absolute http(s) URLs without fragments, deduplicated, in page order.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin

from lxml import etree
from parsel import Selector

from crawler.config import Section


class MalformedFeed(ValueError):
    """The entry point is not a parseable RSS/Atom feed or sitemap (the message says why)."""


@dataclass(frozen=True)
class FeedEntry:
    url: str
    title: str | None = None
    published: str | None = None


def absolute(href: str, base_url: str) -> str | None:
    """``href`` resolved against ``base_url``, fragment dropped; None for mailto:, javascript: etc."""
    href = (href or "").strip()
    if not href:
        return None
    url = urldefrag(urljoin(base_url, href))[0]
    return url if url.startswith(("http://", "https://")) else None


def unique(urls) -> list[str]:
    seen: set[str] = set()
    return [u for u in urls if u and not (u in seen or seen.add(u))]


def matches_pattern(urls: list[str], pattern: str | None) -> list[str]:
    if not pattern:
        return urls
    rx = re.compile(pattern)
    return [u for u in urls if rx.search(u)]


def _hrefs(selection) -> list[str]:
    """Hrefs of selected elements; a selector may also select attributes or text (``::attr(href)``)."""
    out = []
    for node in selection:
        root = node.root
        if isinstance(root, str):
            out.append(root)
        else:
            out.append(node.attrib.get("href") or "".join(node.css("a::attr(href)").getall()[:1]))
    return out


def page_base(selector: Selector, url: str) -> str:
    """The base for relative links: ``<base href>`` when the page has one, else the page URL."""
    base = selector.css("base::attr(href)").get()
    return urljoin(url, base) if base else url


def listing_links(html: str, url: str, section: Section) -> list[str]:
    """Article links of a listing page under the section's rule: CSS and/or XPath pick candidate
    elements (all ``a[href]`` when neither is set), then the URL regex, if any, must match."""
    sel = Selector(text=html or "<html></html>")
    hrefs: list[str] = []
    if section.link_css:
        hrefs += _hrefs(sel.css(section.link_css))
    if section.link_xpath:
        hrefs += _hrefs(sel.xpath(section.link_xpath))
    if not (section.link_css or section.link_xpath):
        hrefs = sel.css("a::attr(href)").getall()
    base = page_base(sel, url)
    return matches_pattern(unique(absolute(h, base) for h in hrefs), section.link_pattern)


def next_page(html: str, url: str, next_css: str | None) -> str | None:
    """The URL of the listing's next page (``next_css`` selects the link), or None."""
    if not next_css:
        return None
    sel = Selector(text=html or "<html></html>")
    hrefs = _hrefs(sel.css(next_css))
    return absolute(hrefs[0], page_base(sel, url)) if hrefs else None


_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.S)


def parse_xml(text: str) -> etree._Element:
    """Parse already-decoded XML text. The declaration is dropped because it names the *byte* encoding
    (gb2312, koi8-r …) that Scrapy has already decoded; lxml refuses str input that declares one."""
    body = _XML_DECL.sub("", text or "", count=1).strip()
    if not body:
        raise MalformedFeed("empty document")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=False, huge_tree=False)
    try:
        return etree.fromstring(body.encode("utf-8"), parser=parser)
    except etree.XMLSyntaxError as exc:
        raise MalformedFeed(f"not well-formed XML: {exc}") from None


def _local(tag) -> str:
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def _child_text(node, name: str) -> str | None:
    for child in node:
        if _local(child.tag) == name:
            return (child.text or "").strip() or None
    return None


def _atom_link(entry) -> str | None:
    """An Atom entry's article link: ``link rel=alternate`` (or no rel), else an http ``id``."""
    for child in entry:
        if _local(child.tag) == "link" and child.get("rel", "alternate") == "alternate" and child.get("href"):
            return child.get("href")
    ident = _child_text(entry, "id")
    return ident if ident and ident.startswith("http") else None


def feed_entries(text: str, url: str) -> list[FeedEntry]:
    """Entries of an RSS 0.9x/2.0, RSS 1.0 (RDF) or Atom feed, in feed order."""
    root = parse_xml(text)
    kind = _local(root.tag)
    if kind not in ("rss", "rdf", "feed"):
        raise MalformedFeed(f"not an RSS/Atom feed (root element <{kind or root.tag}>)")
    entries = []
    for node in root.iter():
        name = _local(node.tag)
        if name == "entry":
            link, date = _atom_link(node), _child_text(node, "published") or _child_text(node, "updated")
        elif name == "item":
            link = _child_text(node, "link") or node.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
            guid = _child_text(node, "guid")
            link = link or (guid if guid and guid.startswith("http") else None)
            date = _child_text(node, "pubdate") or _child_text(node, "date")
        else:
            continue
        absolute_link = absolute(link or "", url)
        if absolute_link:
            entries.append(FeedEntry(absolute_link, _child_text(node, "title"), date))
    return entries


def feed_next_page(text: str, url: str) -> str | None:
    """The feed's next page (Atom ``<link rel="next">``, also used by RSS as ``atom:link``), or None."""
    root = parse_xml(text)
    channel = next((c for c in root if _local(c.tag) == "channel"), root)
    for child in channel:
        if _local(child.tag) == "link" and child.get("rel") == "next" and child.get("href"):
            return absolute(child.get("href"), url)
    return None


def feed_links(text: str, url: str, section: Section) -> list[str]:
    return matches_pattern(unique(e.url for e in feed_entries(text, url)), section.link_pattern)


def sitemap_urls(text: str, url: str) -> tuple[str, list[str]]:
    """``("urlset" | "sitemapindex", locs)`` of a sitemap, locs in document order."""
    root = parse_xml(text)
    kind = _local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        raise MalformedFeed(f"not a sitemap (root element <{kind or root.tag}>)")
    locs = [absolute(_child_text(node, "loc") or "", url) for node in root if _local(node.tag) in ("url", "sitemap")]
    return kind, unique(locs)


def fingerprint(urls: list[str]) -> str:
    """Order-insensitive fingerprint of a link list: a listing whose items only moved has not changed."""
    return hashlib.sha256(json.dumps(sorted(set(urls))).encode("utf-8")).hexdigest()
