"""What extraction reads off an article page: ``Extracted``.

A module of its own, apart from ``crawler.extract.extraction``, because the crawl's process receives
``Extracted`` values from the extraction workers (unpickling imports the class's module) and stores them: it
must not have to load trafilatura and the parsers for that.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Extracted:
    title: str | None
    paragraphs: list[str]
    published_at: str | None  # ISO-8601: a date, or a datetime with its UTC offset
    authors: list[str] = field(default_factory=list)
    extras: dict = field(default_factory=dict)  # place, tags, lead, turns (transcripts), parser
    extractor: dict | None = None  # ``extractor_of`` the code that read the page (set by extract_article)

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)

    @property
    def text_chars(self) -> int:
        """Characters of article text (the paragraphs, without the blank lines between them)."""
        return sum(len(p) for p in self.paragraphs)
