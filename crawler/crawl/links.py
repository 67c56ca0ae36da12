"""Finding article links in a section's entry point: listing pages, RSS/Atom feeds, sitemaps.

Plain functions over decoded text (no Scrapy, no reactor), so each rule is testable in a millisecond.
Every function returns absolute http(s) URLs without fragments, deduplicated, in page order; ``read_listing``
and ``read_sitemap`` also return what the rule picked that is not such a URL (``mailto:``, ``javascript:``), so
that the spider can name it instead of dropping it unsaid.
"""

from __future__ import annotations

import email.utils
import functools
import hashlib
import io
import json
import re
import xml.sax
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urldefrag, urljoin, urlsplit

import feedparser
from lxml import etree
from parsel import Selector

from crawler.config import Section
from crawler.extract.textutil import iso_date_or_none


class MalformedFeed(ValueError):
    """The entry point is not a parseable RSS/Atom feed or sitemap (the message says why)."""


class BadLinkRule(ValueError):
    """A section's CSS selector or XPath cannot be evaluated (the message names the key, the rule and why)."""


# A section's selectors (``crawler.config.RULE_KEYS``), by key: what parsel is asked to evaluate each with.
SELECTOR_KEYS = {"link_css": "css", "link_xpath": "xpath", "next_css": "css", "body_css": "css"}


def selector_problem(kind: str, rule: str) -> str | None:
    """Why parsel cannot evaluate ``rule`` (a ``css`` selector, with parsel's ``::attr()``/``::text``, or an
    ``xpath`` expression), or None. Evaluated on an empty page: a syntax error, an unknown function or
    namespace prefix shows there as on any page."""
    try:
        _select(Selector(text="<html></html>"), kind, rule)
    except BadLinkRule as exc:
        return str(exc)
    return None


def _select(sel: Selector, kind: str, rule: str):
    """``sel.css(rule)`` or ``sel.xpath(rule)``; ``BadLinkRule`` when the rule cannot be evaluated (cssselect's
    ``SelectorError`` is a ``SyntaxError``, lxml's XPath errors reach parsel's caller as ``ValueError``)."""
    try:
        return sel.css(rule) if kind == "css" else sel.xpath(rule)
    except (SyntaxError, ValueError, etree.XPathError) as exc:
        why = str(exc).removeprefix("XPath error: ").removesuffix(f" in {rule}")
        raise BadLinkRule(f"invalid {'CSS selector' if kind == 'css' else 'XPath'} {rule!r}: {why}") from None


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


_SCHEME = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*):")


def not_http(href: str) -> bool:
    """Whether ``href`` names a scheme other than http(s) (``mailto:``, ``javascript:``, ``ftp:``, ``tel:``)."""
    found = _SCHEME.match(href or "")
    return bool(found) and found.group(1).lower() not in ("http", "https")


@dataclass
class Found:
    """What a listing page or sitemap offers under the section's rule: ``urls`` to follow, and ``not_http``: the
    hrefs the rule picked that are no http(s) link, as written."""

    urls: list[str]
    not_http: list[str] = field(default_factory=list)


@functools.lru_cache(maxsize=1)
def _suffixes():
    import tldextract  # a Scrapy dependency; its bundled Public Suffix List snapshot, never fetched

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def site_of(url: str) -> str:
    """The site a URL belongs to: its registered domain (``world.people.com.cn`` → ``people.com.cn``), or the
    host itself when it has none (an IP address, ``localhost``)."""
    return _site_of_host((urlsplit(url).hostname or "").lower())


@functools.lru_cache(maxsize=4096)
def _site_of_host(host: str) -> str:
    parts = _suffixes()(host)
    return (parts.top_domain_under_public_suffix or host) if parts.suffix else host


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


def _rule(sel: Selector, key: str, rule: str):
    try:
        return _select(sel, SELECTOR_KEYS[key], rule)
    except BadLinkRule as exc:
        raise BadLinkRule(f"{key}: {exc}") from None


def page_base(selector: Selector, url: str) -> str:
    """The base for relative links: ``<base href>`` when the page has one, else the page URL."""
    base = selector.css("base::attr(href)").get()
    return urljoin(url, base) if base else url


def listing_links(html: str, url: str, section: Section) -> list[str]:
    """Article links of a listing page under the section's rule: CSS and/or XPath pick candidate
    elements (all ``a[href]`` when neither is set), then the URL regex, if any, must match."""
    return read_listing(html, url, section).urls


def read_listing(html: str, url: str, section: Section) -> Found:
    """``listing_links``, and the hrefs the same rule picks that are not http(s) links (the regex, if any,
    must match them too: a rule that would never take a ``mailto:`` link does not report one)."""
    sel = Selector(text=html or "<html></html>")
    hrefs: list[str] = []
    if section.link_css:
        hrefs += _hrefs(_rule(sel, "link_css", section.link_css))
    if section.link_xpath:
        hrefs += _hrefs(_rule(sel, "link_xpath", section.link_xpath))
    if not (section.link_css or section.link_xpath):
        hrefs = sel.css("a::attr(href)").getall()
    base = page_base(sel, url)
    urls = matches_pattern(unique(absolute(h, base) for h in hrefs), section.link_pattern)
    odd = matches_pattern(unique(h.strip() for h in hrefs if not_http(h)), section.link_pattern)
    return Found(urls, odd)


def next_page(html: str, url: str, next_css: str | None) -> str | None:
    """The URL of the listing's next page (``next_css`` selects the link), or None."""
    if not next_css:
        return None
    sel = Selector(text=html or "<html></html>")
    hrefs = _hrefs(_rule(sel, "next_css", next_css))
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


def feed_entries(text: str, url: str) -> list[FeedEntry]:
    """Entries of an RSS 0.9x/2.0, RSS 1.0 (RDF) or Atom feed, in feed order (``read_feed``)."""
    return list(read_feed(text, url).entries)


def feed_next_page(text: str, url: str) -> str | None:
    """The feed's next page (Atom ``<link rel="next">``, also used by RSS as ``atom:link``), or None."""
    return read_feed(text, url).next_url


@dataclass(frozen=True)
class ParsedFeed:
    entries: tuple[FeedEntry, ...]
    next_url: str | None = None
    repaired: str | None = None  # why a strict XML parser refuses the feed, when it was read all the same


# A feed may declare entities of its own; an entity that loads a file or URL, is built of other entities, or
# expands past this many characters in all is refused before any parser sees the document. feedparser
# already drops such declarations (and expat neither fetches external entities nor lets them explode), but
# its tolerant second pass expands every plain entity it kept: one 100 kB entity named 2,000 times is
# 200 MB of title. The check keeps the guarantee ours whatever the parser does.
MAX_ENTITY_EXPANSION = 1_000_000
_ENTITY_DECL = re.compile(r"""<!ENTITY\s+(?P<pe>%\s*)?(?P<name>[^\s"'>%]+)\s+(?P<body>"[^"]*"|'[^']*'|[^>]*)""", re.S)
_NOT_MARKUP = re.compile(r"<!\[CDATA\[.*?\]\]>|<!--.*?-->", re.S)  # where "<!ENTITY" is only words
_CHAR_REF = re.compile(r"&#(\d+|x[0-9a-fA-F]+);")
_ROOT = re.compile(r"<([A-Za-z_][\w.:-]*)")
# What feedparser is told about the bytes it gets: UTF-8 (encoded here from the decoded text), XML, and the
# feed's URL as the base of relative links.
_FEED_HEADERS = {"content-type": "application/xml; charset=utf-8"}


def read_feed(text: str, url: str) -> ParsedFeed:
    """Read a feed with feedparser, as feed readers do: a stray ``&``, an HTML entity XML does not know, an
    unclosed tag cost the entry they spoil, not the feed. ``MalformedFeed`` when nothing usable is left:
    empty, not a feed, a document no entry link can be read from, or entity declarations refused (see
    ``MAX_ENTITY_EXPANSION``). The same text and URL are read once (the spider asks for links, then the next
    page)."""
    return _read_feed(text or "", url)


@functools.lru_cache(maxsize=4)
def _read_feed(text: str, url: str) -> ParsedFeed:
    # The declaration names the *byte* encoding (gb2312, koi8-r …) that Scrapy has already decoded: dropped,
    # and the text handed over as UTF-8 bytes. Bytes in a BytesIO, never a str: feedparser opens a str that
    # looks like a URL or a path.
    declaration = _XML_DECL.match(text)
    lead = declaration.group(0) if declaration else ""
    body = text[len(lead) :]
    if not body.strip():
        raise MalformedFeed("empty document")
    refuse_entities(body)
    parsed = feedparser.parse(
        io.BytesIO(body.encode("utf-8")),
        resolve_relative_uris=False,
        response_headers={**_FEED_HEADERS, "content-location": url},
    )
    problem = _not_well_formed(parsed.get("bozo_exception"), lead)
    if not parsed.get("version"):
        root = _ROOT.search(body)
        if root or not problem:
            name = root.group(1).rsplit(":", 1)[-1].lower() if root else "none"
            raise MalformedFeed(f"not an RSS/Atom feed (root element <{name}>)")
        raise MalformedFeed(f"not well-formed XML: {problem}")
    entries = []
    for entry in parsed.entries:
        entry = dict(entry)  # the stored keys only: feedparser's aliases warn (updated → published)
        link = absolute(_entry_link(entry) or "", url)
        if link:
            entries.append(FeedEntry(link, (entry.get("title") or "").strip() or None, entry_date(entry)))
    if problem and not entries:
        raise MalformedFeed(f"not well-formed XML: {problem}")
    nexts = [
        absolute(link.get("href") or "", url)
        for link in dict(parsed.feed).get("links", [])
        if link.get("rel") == "next"
    ]
    return ParsedFeed(tuple(entries), next((n for n in nexts if n), None), problem)


def refuse_entities(body: str) -> None:
    """``MalformedFeed`` for an entity declaration that reads a file or URL (XXE), is made of other entities
    (the "billion laughs"), is a parameter entity, or would expand the document by more than
    ``MAX_ENTITY_EXPANSION`` characters."""
    markup = _NOT_MARKUP.sub("", body)
    if "<!ENTITY" not in markup.upper():
        return
    expansion = 0
    for start in (m.start() for m in re.finditer(r"<!ENTITY", markup, re.I)):
        decl = _ENTITY_DECL.match(markup, start) if markup.startswith("<!ENTITY", start) else None
        if decl is None:
            raise MalformedFeed("refused: an entity declaration that cannot be read")
        name, value = decl["name"], decl["body"].strip()
        if decl["pe"]:
            raise MalformedFeed(f"refused: it declares a parameter entity ({name})")
        if value[:1] not in ("'", '"'):
            raise MalformedFeed(f"refused: it declares an external entity ({name}: {value.split()[0]})")
        value = value[1:-1]
        if "&" in _CHAR_REF.sub("", value) or "%" in value:
            raise MalformedFeed(f"refused: it declares an entity made of other entities ({name})")
        expansion += len(value) * body.count(f"&{name};")
        if expansion > MAX_ENTITY_EXPANSION:
            raise MalformedFeed(
                f"refused: its entities would expand it by more than {MAX_ENTITY_EXPANSION:,} characters"
            )


def _not_well_formed(exc, lead: str) -> str | None:
    """What the strict XML pass said about the document, in one line (None: it was well-formed), at the
    line and column of the text as served. feedparser parsed ``lead`` (the declaration) removed and a line of
    its own put first; a DOCTYPE it rewrote may still shift the line."""
    if not isinstance(exc, xml.sax.SAXException):
        return None
    if not isinstance(exc, xml.sax.SAXParseException):
        return str(exc)
    line, column = exc.getLineNumber() - 1, exc.getColumnNumber()
    if line == 1:
        column += len(lead) - (lead.rfind("\n") + 1)
    line += lead.count("\n")
    return f"line {line}, column {column}: {exc.getMessage()}"


def _entry_link(entry: dict) -> str | None:
    """An entry's article link: its first ``alternate`` link (an RSS ``<link>``, an Atom ``link`` with
    rel=alternate or none; not an enclosure), else an http ``guid``/``id`` (RSS 1.0's ``rdf:about``)."""
    for link in entry.get("links", []):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link["href"]
    if entry.get("link"):
        return entry["link"]
    ident = entry.get("id") or ""
    return ident if ident.startswith("http") else None


def entry_date(entry: dict) -> str | None:
    """The entry's date (published, else updated) as ISO-8601 keeping the feed's own UTC offset: RSS's
    RFC 822 ``pubDate``, Atom's and Dublin Core's ISO dates. A date-only value stays a date; a date in the
    future or one no parser reads is none."""
    for key in ("published", "updated"):
        raw = (entry.get(key) or "").strip()
        if not raw:
            continue
        found = iso_date_or_none(raw)
        if found:
            return found
        moment = _rfc822(raw)
        if moment is None and entry.get(f"{key}_parsed"):  # feedparser's reading of other formats, in UTC
            moment = datetime(*entry[f"{key}_parsed"][:6], tzinfo=UTC)
        if moment is not None:
            return iso_date_or_none(moment.isoformat())
    return None


def _rfc822(raw: str) -> datetime | None:
    try:
        moment = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # "-0000": UTC, origin unknown


def feed_links(text: str, url: str, section: Section) -> list[str]:
    return matches_pattern(unique(e.url for e in feed_entries(text, url)), section.link_pattern)


def sitemap_urls(text: str, url: str) -> tuple[str, list[str]]:
    """``("urlset" | "sitemapindex", locs)`` of a sitemap, locs in document order."""
    kind, found = read_sitemap(text, url)
    return kind, found.urls


def read_sitemap(text: str, url: str) -> tuple[str, Found]:
    """``("urlset" | "sitemapindex", found)``: the http(s) locs in document order, and the others as written."""
    root = parse_xml(text)
    kind = _local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        raise MalformedFeed(f"not a sitemap (root element <{kind or root.tag}>)")
    locs = [_child_text(node, "loc") or "" for node in root if _local(node.tag) in ("url", "sitemap")]
    return kind, Found(unique(absolute(loc, url) for loc in locs), unique(loc for loc in locs if not_http(loc)))


def fingerprint(urls: list[str]) -> str:
    """Order-insensitive fingerprint of a link list: a listing whose items only moved has not changed."""
    return hashlib.sha256(json.dumps(sorted(set(urls))).encode("utf-8")).hexdigest()
