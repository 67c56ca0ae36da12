"""Decoded article page → ``Extracted`` (title, paragraphs, date, authors, extras).

Generic path: trafilatura (precision-first) for the body, the page's declared metadata (meta tags,
JSON-LD) and htmldate for title, authors and date. Sites that trafilatura gets wrong have a small parser
class in ``crawler/extract/parsers/``, chosen by the section's ``parser`` key, the page's host or its template
(see ``crawler.extract.parsers.parser_for``).

Input is text that is already decoded (Scrapy's ``response.text``, which maps a gb2312 label to
GB18030 as browsers do): extracting from raw bytes would let the extractor guess the charset again.

The page is parsed once, by ``parse_html``, and that tree is handed to trafilatura, so whatever trafilatura
does to a page it parses itself is done here: C0 control characters are stripped and HTML comments are
left out of the tree. Every text field of the result is free of invisible format characters (soft
hyphens, zero-width characters; ``textutil.without_invisible``).
"""

from __future__ import annotations

import copy
import json
import logging
import re
import threading
from typing import TYPE_CHECKING

import lxml.html
import trafilatura
from htmldate import find_date
from lxml import etree
from trafilatura.settings import set_date_params

from crawler.exceptions import ExtractionError
from crawler.extract.extracted import Extracted
from crawler.extract.parsers.base import select
from crawler.extract.textutil import (
    block_paragraphs,
    clean_text,
    element_text,
    iso_date_or_none,
    split_authors,
    without_invisible,
)
from crawler.extract.walls import could_be_wall, suspected_wall

if TYPE_CHECKING:
    from crawler.config import Section

log = logging.getLogger(__name__)

try:  # the declared-metadata readers of trafilatura.metadata (internal, stable since 1.x)
    from trafilatura.metadata import examine_meta, extract_meta_json, extract_title

    _cheap_meta = (examine_meta, extract_meta_json, extract_title)
except ImportError:  # pragma: no cover - depends on the installed trafilatura
    _cheap_meta = None

# The version of this module's own reading of a page (generic path, metadata, cleaning, the rules of
# ``extract_article``), recorded on every item (``item["extractor"]``). Bump it in the same commit as any
# change here that alters some page's title, paragraphs, date or authors: article re-checks then re-extract
# the stored raw page before comparing, instead of reporting the difference as an edit of the article.
# Site parsers carry their own ``VERSION`` (crawler/extract/parsers/base.py); trafilatura's is its own.
EXTRACTION_VERSION = 3
MIN_BODY_CHARS = 20
XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
# C0 control characters but tab, line feed, carriage return and form feed (HTML whitespace, made a space).
# Browsers show nothing for them. lxml keeps them in the tree's text, and trafilatura — which strips them
# from a page it parses itself, but not from a tree it is handed — then fails to build its output
# ("All strings must be XML compatible") and discards the whole page: one \x01 and no article.
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f]")
# Comments left out of the tree, as trafilatura's own parser does: its extraction assumes there are none.
# A paragraph opening with a comment (<p><!-- ad -->Text) keeps its words in the comment's tail, which
# trafilatura never reads, and readability (its fallback) fails on a comment beside a block holding only an
# image ("Input object is not an XML element: HtmlComment").
HTML_PARSER = lxml.html.HTMLParser(remove_comments=True)
# Every element as an HtmlElement (drop_tree, text_content, cssselect), chosen in C. lxml.html's own lookup
# picks a class per tag (forms, inputs, labels: none of which extraction uses) in a Python call for each element
# Python touches: about a tenth of a generic page's extraction time.
HTML_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=lxml.html.HtmlElement,
        comment=lxml.html.HtmlComment,
        pi=lxml.html.HtmlProcessingInstruction,
        entity=lxml.html.HtmlEntity,
    )
)
# Photo captions and credits are not article text (trafilatura keeps them when precision-first).
# Dropped by us in one pass: trafilatura's own prune_xpath walks the tree once per expression and
# costs more than a fifth of the whole extraction.
NOT_TEXT_XPATH = etree.XPath("//figure | //figcaption")
# trafilatura compares its extraction with readability's and jusText's (its "fallback"), which costs about a
# third of the whole extraction and changes the result mostly where its own finds little. So it first runs
# without them, and again with them only when that gave fewer characters than this or a table layout. On the
# 181 pages of Scrapinghub's article-extraction-benchmark (benchmarks/bench_extraction_quality.py: shingle F1,
# CPU per page): this rule 0.964 and 10.0 ms, the fallback on every page 0.962 and 13.5 ms, for table layouts
# only 0.946 and 9.9 ms; bare ``trafilatura.extract`` 0.953 and 11.2 ms. 250 chars gave 0.958, 1,000 0.962.
FALLBACK_BELOW_CHARS = 500


def extract_article(html: str, url: str, section: Section | None = None) -> Extracted:
    """Extract one article; raise ``ExtractionError`` naming the reason when there is none."""
    result, used = read_article(parse_html(html, url), url, section, html)
    if could_be_wall(result.text_chars):
        # Markers and little visible text make a suspect, the article text found decides (walls.py); the page is
        # parsed again for it, as extraction consumed the first tree (only for the few pages with so little text).
        wall = suspected_wall(html, parse_html(html, url))
        if wall is not None and wall.holds(result.text_chars):
            # a challenge or a JavaScript shell would land as an item of junk text
            raise ExtractionError(f"{wall.cause(result.text_chars)} at {url}")
    if result.text_chars < MIN_BODY_CHARS:
        raise ExtractionError(f"no article body found at {url}")
    result.extractor = extractor_of(used)
    return result


def read_article(tree: lxml.html.HtmlElement, url: str, section: Section | None = None, html: str | None = None):
    """``(Extracted, the site parser that read it or None)`` from a parsed page, which it consumes: the
    section's, host's or template's parser, else the generic path. No check of what came out. ``html``, the
    page's source, lets the templates' signatures be skipped where their names do not occur."""
    from crawler.extract.dateline import find_dateline
    from crawler.extract.parsers import parser_for

    parser = parser_for(url, section.parser if section else None, tree, html)
    result = parser.parse(tree, url) if parser is not None else None
    used = parser if result is not None else None
    if result is None:
        result = extract_generic(tree, url, section.body_css if section else None)
        if parser is not None:
            # Not this parser's template: an older one (regional Xinhua pages) or a redesign. Recorded
            # on the item, so that a site whose every page falls back shows up without log noise.
            log.info("%s parser does not recognise the page at %s; generic extraction", parser.name, url)
            result.extras["parser_fallback"] = parser.name
    # Parsers clean their text with clean_text; this covers every field whatever its path (meta tags, extras).
    result.title = without_invisible(result.title) or None
    result.paragraphs = [p for p in without_invisible(result.paragraphs) if p]
    result.authors = [a for a in without_invisible(result.authors) if a]
    result.extras = without_invisible(result.extras)
    if dateline := find_dateline(result.paragraphs, result.published_at):  # wire copy: where and when filed
        result.extras["dateline"] = dateline
    return result, used


def extractor_of(parser=None) -> dict:
    """What produced an extraction: the site parser that read the page (None: the generic trafilatura path)
    and the versions of everything whose change can change the output. Two items read by equal extractors
    can be compared paragraph by paragraph; otherwise their differences may be the extractor's."""
    return {
        "parser": parser.name if parser is not None else None,
        "parser_version": parser.VERSION if parser is not None else None,
        "trafilatura": trafilatura.__version__,
        "extraction": EXTRACTION_VERSION,
    }


def parse_html(html: str, url: str) -> lxml.html.HtmlElement:
    if not html or not html.strip():
        raise ExtractionError(f"empty page at {url}")
    # lxml refuses str input that carries an encoding declaration (XHTML pages often start with one);
    # the text is already decoded, so the declaration has nothing left to say.
    # Control characters out (CONTROL_CHARS); a form feed is whitespace in HTML.
    html = CONTROL_CHARS.sub("", XML_DECLARATION.sub("", html.replace("\x0c", " "), count=1))
    try:
        tree = lxml.html.document_fromstring(html, parser=HTML_PARSER)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"unparseable HTML at {url}: {exc}") from None
    if tree is None or tree.find(".//body") is None:
        raise ExtractionError(f"no HTML body at {url}")
    return tree


def extract_generic(tree: lxml.html.HtmlElement, url: str, body_css: str | None = None) -> Extracted:
    """trafilatura over the page, or over the ``body_css`` elements when the section names some.

    Consumes ``tree``: what is needed from the intact page (hinted elements, declared timestamps, the
    paragraphs trafilatura is known to drop) is taken first, then metadata, then trafilatura prunes the
    tree in place (no copy of the page).
    """
    hinted = _hinted_paragraphs(_hinted_elements(tree, url, body_css), url) if body_css else []
    stamps = declared_timestamps(tree)
    for el in NOT_TEXT_XPATH(tree):
        el.drop_tree()
    lead = None if hinted else description_lead(tree)
    linked = [] if hinted else link_only_paragraphs(tree)
    meta = declared_metadata(tree, url)
    if hinted:
        paragraphs = hinted
    else:
        paragraphs = with_link_only_paragraphs(with_lead(paragraphs_of_doc(trafilatura_body(tree, url)), lead), linked)
    title = clean_text(meta.title) if meta is not None and meta.title else None
    return Extracted(
        title=title,
        paragraphs=paragraphs[1:] if paragraphs[:1] == [title] else paragraphs,  # the headline again
        published_at=precise_date(stamps, meta.date if meta is not None else None),
        authors=split_authors(meta.author) if meta is not None else [],
        extras=_generic_extras(meta),
    )


def trafilatura_body(tree: lxml.html.HtmlElement, url: str):
    """trafilatura's document for the page, precision-first: without its fallback, then with it when that
    found less than FALLBACK_BELOW_CHARS (on the tree as it was: trafilatura prunes the one it reads)."""
    intact = copy.deepcopy(tree)
    _first_pass.on = True
    try:
        doc = _bare_extraction(tree, url, fast=True)
    finally:
        _first_pass.on = False
    if doc is not None and len(doc.text or "") >= FALLBACK_BELOW_CHARS and _built_of_paragraphs(doc.body):
        return doc
    return _bare_extraction(intact, url, fast=False)


def _built_of_paragraphs(body) -> bool:
    """What trafilatura's comparison itself takes for a sound extraction: paragraph text, and not more tables
    than paragraphs (a table layout — old regional Xinhua pages — is where readability reads better)."""
    if body is None or not body.xpath(".//p//text()"):
        return False
    return len(body.findall(".//table")) <= len(body.findall(".//p"))


class _FirstPassQuiet(logging.Filter):
    """trafilatura warns "discarding data: URL" when a pass finds too little text. The pass without its
    fallback is a first try, not the result (the second pass reads the page again): not worth a warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_first_pass, "on", False)


_first_pass = threading.local()  # extraction runs on the reactor thread, the storing thread logs meanwhile
logging.getLogger("trafilatura.core").addFilter(_FirstPassQuiet())


def _bare_extraction(tree: lxml.html.HtmlElement, url: str, *, fast: bool):
    return trafilatura.bare_extraction(
        tree,
        url=url,
        fast=fast,
        favor_precision=True,
        with_metadata=False,
        include_comments=False,
        include_tables=True,
        deduplicate=False,
    )


def declared_metadata(tree, url: str):
    """Title, author, date, site name, description and tags the page declares (meta tags, JSON-LD,
    <title>/<h1>), with the date from htmldate, exactly as trafilatura finds them — minus its byline
    and category searches, which cost four times the rest: one in five pages' extraction time."""
    if _cheap_meta is None:  # trafilatura reorganised its internals: take the full, slower path
        return trafilatura.extract_metadata(tree, default_url=url)
    examine_meta, extract_meta_json, extract_title = _cheap_meta
    meta = examine_meta(tree)
    if meta.author and " " not in meta.author:  # a bare id ("105092"), not a name
        meta.author = None
    try:
        meta = extract_meta_json(tree, meta)
    except Exception as exc:  # trafilatura's JSON-LD reader trips over some malformed blocks
        log.debug("JSON-LD metadata of %s unreadable: %s", url, exc)
    if not meta.title:
        meta.title = extract_title(tree)
    meta.date = find_date(tree, url=url, **set_date_params(True))
    return meta


# Elements whose text can be an article's opening paragraph: <p>, and a <div> with no block inside.
LEAD_CANDIDATES = etree.XPath(
    "//body//p | //body//div[not(descendant::p or descendant::div or descendant::ul "
    "or descendant::ol or descendant::table or descendant::h1 or descendant::h2)]"
)
DESCRIPTIONS = etree.XPath(
    '//meta[@property="og:description" or @name="description" or @name="twitter:description"]/@content'
)


def description_lead(tree) -> tuple[str, set[str]] | None:
    """The page's paragraph that repeats its declared description (og:description, description meta), with
    the texts of the paragraphs before it; None when no paragraph does.

    Such an opening paragraph (a lead or standfirst) often sits in the article's <header> beside the
    headline, which trafilatura drops when precision-first, leaving its words only in the item's
    ``extras["description"]``. A description that no paragraph repeats (a summary written for search
    engines, or a subtitle in a heading) is not a paragraph of the page and stays out."""
    wanted = {clean_text(d) for d in DESCRIPTIONS(tree)} - {""}
    if not wanted:
        return None
    before: set[str] = set()
    for el in LEAD_CANDIDATES(tree):
        text = clean_text(el.text_content())
        if text in wanted:
            return text, before
        before.add(text)
    return None


def with_lead(paragraphs: list[str], lead: tuple[str, set[str]] | None) -> list[str]:
    """``paragraphs`` opened by the ``description_lead`` when extraction dropped it (and the first paragraph
    kept does not come before it on the page)."""
    if lead is None or not paragraphs:
        return paragraphs
    text, before = lead
    if any(text in p for p in paragraphs) or paragraphs[0] in before:
        return paragraphs
    return [text, *paragraphs]


def link_only_paragraphs(tree) -> list[tuple[str, str]]:
    """``(text, text of the paragraph before it)`` of each <p> of the page whose every word is a link, when
    it follows a paragraph with text in the same element.

    trafilatura drops such paragraphs as boilerplate (link density), and with them a contact address or a
    source link that ends an article. A link paragraph among the article's own paragraphs is kept
    (``with_link_only_paragraphs``); one that follows nothing extracted — a menu, a list of other
    articles, a footer — still is not text."""
    found = []
    for p in tree.iter("p"):
        if p.find(".//a") is None:
            continue
        text = element_text(p)
        linked = "".join(element_text(a) for a in p.iter("a"))
        if not text or linked.replace(" ", "") != text.replace(" ", ""):
            continue
        for sibling in p.itersiblings(preceding=True):
            if clean_text(sibling.tail):  # loose text right before the link: no paragraph to follow
                break
            before = block_paragraphs(sibling) if isinstance(sibling.tag, str) else []
            if before:
                found.append((text, before[-1]))
                break
    return found


def with_link_only_paragraphs(paragraphs: list[str], linked: list[tuple[str, str]]) -> list[str]:
    """``paragraphs`` with each link-only paragraph put back after the paragraph it follows on the page,
    when extraction kept that one (in page order: a run of link paragraphs after the text comes back whole)."""
    out = list(paragraphs)
    for text, before in linked:
        if text in out or before not in out:
            continue
        at = out.index(before) + 1
        if at < len(out) and out[at].replace(" ", "") == text.replace(" ", ""):  # kept, spaced otherwise
            continue
        out.insert(at, text)
    return out


def paragraphs_of_doc(doc) -> list[str]:
    if doc is None or doc.body is None:
        return []
    return block_paragraphs(doc.body)


def _hinted_elements(tree, url: str, body_css: str) -> list:
    try:
        found = select(tree, body_css)
    except Exception as exc:  # cssselect raises several parse error types
        log.warning("body_css %r is not a valid selector (%s); using the whole page", body_css, exc)
        return []
    if not found:
        log.info("body_css %r matched nothing at %s; using the whole page", body_css, url)
    return found


def _hinted_paragraphs(elements: list, url: str) -> list[str]:
    """The section's body elements, still cleaned of boilerplate by trafilatura (recall-first, as the
    section already said where the text is); their plain paragraphs if trafilatura keeps nothing."""
    if not elements:
        return []
    wrapper = lxml.html.document_fromstring("<html><body><article></article></body></html>")
    article = wrapper.find(".//article")
    for el in elements:
        article.append(copy.deepcopy(el))
    doc = trafilatura.bare_extraction(wrapper, url=url, favor_recall=True, include_comments=False)
    return paragraphs_of_doc(doc) or [p for el in elements for p in block_paragraphs(el)]


def precise_date(stamps: list[str], day: str | None) -> str | None:
    """htmldate's date (a day), made precise by the page's own timestamp when they agree.

    htmldate returns only YYYY-MM-DD; article:published_time or JSON-LD datePublished usually carry the
    time and offset too, which ordering items of one day needs.
    """
    day = iso_date_or_none(day)
    for stamp in stamps:
        precise = iso_date_or_none(stamp)
        if precise and len(precise) > 10 and (day is None or precise[:10] == day):
            return precise
    return day


def declared_timestamps(tree) -> list[str]:
    """article:published_time / datePublished values of meta tags and JSON-LD blocks, in page order."""
    stamps = [
        el.get("content", "")
        for el in tree.xpath(
            '//meta[@property="article:published_time" or @itemprop="datePublished" or @name="article:published_time"]'
        )
    ]
    for script in tree.xpath('//script[@type="application/ld+json"]/text()'):
        stamps.extend(_json_ld_dates(script))
    return [s.strip() for s in stamps if s and s.strip()]


def _json_ld_dates(text: str) -> list[str]:
    try:
        data = json.loads(text)
    except ValueError:
        return []
    found, stack = [], [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("datePublished"), str):
                found.append(node["datePublished"])
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _generic_extras(meta) -> dict:
    extras = {}
    if meta is None:
        return extras
    tags = [t.strip() for tag in (meta.tags or []) for t in tag.split(",") if t.strip()]
    if tags:
        extras["tags"] = tags
    if meta.description:
        extras["description"] = clean_text(meta.description)
    if meta.sitename:
        extras["sitename"] = meta.sitename
    return extras
