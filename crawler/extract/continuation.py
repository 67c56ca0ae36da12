"""Articles split over several pages (People's Daily ``…-2.html``, ``…-3.html``): which pages to follow,
and one ``Extracted`` out of all of them.

What a page says about the others is the site parser's business, in two ``extras`` keys:

* ``continued_at``: the article's further pages listed on this page (absolute URLs, in page order);
* ``continues``: on a further page, the URL of the article's first page.

Everything else is generic and free of I/O: ``PageWalk`` decides which page to fetch next (each page once,
never the first page again, at most ``max_further`` of them) and merges what was fetched; the crawl
(``pipelines/extract.py``) fetches, re-extraction (``crawler/digest/reextract.py``) reads the stored raw
pages back, and article re-checks (``crawler/lifecycle/recheck.py``) compare the first page only and
retry the missing pages of an incomplete article (``crawler/lifecycle/completion.py``).

On the item, ``extras["pages"]`` lists every merged page in order, ``{url, paragraphs}`` (paragraphs =
how many of the item's paragraphs came from that page), further pages with their ``raw_path`` and
``raw_encoding`` (the first page's raw copy is the item's own ``raw_path``); ``extras["incomplete"]``
lists the declared pages that are not in the text, ``{url, error}``. Neither key exists on a one-page article.
"""

from __future__ import annotations

from crawler.crawl.settings import NEWSMON_MAX_FURTHER_PAGES
from crawler.extract.extracted import Extracted
from crawler.items import canonicalize_url

CONTINUED_AT = "continued_at"
CONTINUES = "continues"
PAGES = "pages"
INCOMPLETE = "incomplete"
DEFAULT_MAX_FURTHER_PAGES = NEWSMON_MAX_FURTHER_PAGES  # [crawler] max_further_pages


def further_pages(extracted: Extracted) -> list[str]:
    """The further pages a page declares (none for a one-page article or a site without a parser)."""
    return list((extracted.extras or {}).get(CONTINUED_AT) or [])


def first_page_of(extracted: Extracted, url: str) -> str | None:
    """The article's first page when the page at ``url`` is one of its further pages, else None."""
    first = (extracted.extras or {}).get(CONTINUES)
    if not first or canonicalize_url(first) == canonicalize_url(url):
        return None
    return first


class PageWalk:
    """The pages of one article, from its first page: ``next_url()`` → fetch → ``add()`` or ``fail()``,
    until ``next_url()`` is None; then ``merged()``.

    Pages are visited in the order they are declared (page 1's pager, then whatever later pagers add).
    A page already queued or merged — the first page, a page listing itself, a redirect back to a merged
    page — is never merged twice; pages beyond ``max_further`` are not fetched but named as missing.
    """

    def __init__(self, first_url: str, first: Extracted, max_further: int = DEFAULT_MAX_FURTHER_PAGES):
        self.max_further = max_further
        self.pages: list[tuple[str, Extracted]] = [(first_url, first)]
        self.failed: list[dict] = []  # {url, error}: fetched (or tried), not merged
        self.skipped: list[dict] = []  # {url, error}: beyond max_further, not fetched
        self.fetches = 0
        self._queue: list[str] = []
        self._known = {canonicalize_url(first_url)}
        self._merged = {canonicalize_url(first_url)}
        self._declare(first)

    def _declare(self, extracted: Extracted) -> None:
        for url in further_pages(extracted):
            key = canonicalize_url(url)
            if key not in self._known:
                self._known.add(key)
                self._queue.append(url)

    def next_url(self) -> str | None:
        if self._queue and self.fetches >= self.max_further:
            self.skipped += [
                {"url": url, "error": f"beyond the limit of {self.max_further} further pages"} for url in self._queue
            ]
            self._queue.clear()
        if not self._queue:
            return None
        self.fetches += 1
        return self._queue.pop(0)

    def add(self, url: str, extracted: Extracted, final_url: str | None = None) -> bool:
        """Merge a fetched page; ``final_url`` is where redirects led. A page that redirected to the first
        page or to a page already merged is not merged again but recorded as failed (returns False)."""
        landed = canonicalize_url(final_url or url)
        if landed in self._merged:
            self.fail(url, f"redirected to {final_url}, a page already merged")
            return False
        self._merged.add(landed)
        self.pages.append((url, extracted))
        self._declare(extracted)
        return True

    def fail(self, url: str, error: str) -> None:
        self.failed.append({"url": url, "error": error})

    def merged(self) -> Extracted:
        return merge([({"url": url}, extracted) for url, extracted in self.pages], self.failed + self.skipped)


def merge(pages: list[tuple[dict, Extracted]], missing: list[dict] = ()) -> Extracted:
    """One article out of its pages, in order: title, date, authors and extras of the first page,
    paragraphs of all; the extractor recorded is the first page's (a site's pages share their parser).
    ``pages`` pairs each page's record (``extras["pages"]`` entry: at least ``url``)
    with its extraction; the records are copied with their paragraph counts."""
    first = pages[0][1]
    if len(pages) == 1 and not missing:
        return first
    extras = dict(first.extras or {})
    extras[PAGES] = [dict(record, paragraphs=len(extracted.paragraphs)) for record, extracted in pages]
    if missing:
        extras[INCOMPLETE] = [dict(m) for m in missing]
    paragraphs = [p for _record, extracted in pages for p in extracted.paragraphs]
    return Extracted(
        title=first.title,
        paragraphs=paragraphs,
        published_at=first.published_at,
        authors=list(first.authors),
        extras=extras,
        extractor=first.extractor,
    )


def with_stored_further_pages(item: dict, first: Extracted) -> Extracted:
    """``first`` (a fresh extraction of a stored item's first page) followed by the item's stored text of
    its further pages: what re-checking the first page alone can compare with the whole stored article.
    The further pages' share is counted from the end: an edit of the first page changes its own count."""
    pages = (item.get("extras") or {}).get(PAGES) or []
    further = sum(int(p.get("paragraphs") or 0) for p in pages[1:])
    if not further:
        return first
    stored = list(item.get("paragraphs") or [])
    return Extracted(
        title=first.title,
        paragraphs=list(first.paragraphs) + stored[-further:],
        published_at=first.published_at,
        authors=list(first.authors),
        extras=dict(first.extras or {}),
        extractor=first.extractor,
    )
