"""Matching watch phrases in an item's original and English text. Pure functions, no I/O.

Phrases are read by ``crawler.phrases`` (the one syntax of watches, subjects and search; docs/watch.md):
case-insensitive, ё = е, Chinese/Japanese/Korean as substrings, other scripts on word boundaries, a trailing
``*`` for any word ending. Here:
- ``title``, ``text``, ``title_en`` and ``text_en`` are searched, so an English phrase finds a Chinese
  article through its translation, and a Chinese phrase finds it in the original;
- a watch with ``sections`` only looks at items of matching "source/section" keys; an item in which any
  ``exclude`` phrase occurs (in any field) is not a hit of that watch;
- a watch with ``speakers`` looks only at the words of those speakers' transcript turns
  (``crawler.extract.speakers.within_speakers``: no title, no other speaker, no labels), exclude phrases too;
- ``Matcher`` (the watch stage) adds each hit's keyword in context (``crawler.watch.context``); the subject
  judgement only asks whether a phrase occurs.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, replace

from crawler.extract.speakers import within_speakers
from crawler.phrases import fold, in_words, parse
from crawler.watch import context
from crawler.watch.settings import Watch

__all__ = ["FIELDS", "Hit", "CompiledWatch", "Matcher", "Texts", "in_words"]

FIELDS = ("title", "text", "title_en", "text_en")
MAX_FOUND = 5  # surface forms kept per hit ("Путина", "Путину", …)


@dataclass(frozen=True)
class Hit:
    """One watch matching one item."""

    name: str
    phrases: tuple[str, ...]  # the watch's phrases that matched, as configured
    found: tuple[str, ...]  # what the text says (first occurrences, original case): "Путина", "习近平"
    fields: tuple[str, ...]  # where: a subset of FIELDS, in that order
    contexts: tuple[dict, ...] = ()  # keyword in context (``crawler.watch.context``), when asked for

    def as_field(self) -> dict:
        """The object in the item's ``watch`` list."""
        out = {"name": self.name, "phrases": list(self.phrases), "found": list(self.found), "in": list(self.fields)}
        if self.contexts:
            out["contexts"] = [dict(c) for c in self.contexts]
        return out


class CompiledWatch:
    def __init__(self, watch: Watch):
        self.watch = watch
        self.phrases = [(p, parse(p)) for p in watch.phrases]
        self.exclude = [parse(p) for p in watch.exclude]

    def applies_to(self, section_key: str) -> bool:
        return not self.watch.sections or any(fnmatch.fnmatchcase(section_key, p) for p in self.watch.sections)

    def match(self, texts: Texts) -> Hit | None:
        phrases, found, fields = [], [], set()
        for phrase, parsed in self.phrases:
            for name, text in texts.items():
                m = next(parsed.finditer_folded(text, texts.lowered[name]), None)
                if m is None:
                    continue
                if phrase not in phrases:
                    phrases.append(phrase)
                fields.add(name)
                form = " ".join(texts.originals[name][m.start() : m.end()].split())
                if form.casefold() not in {f.casefold() for f in found} and len(found) < MAX_FOUND:
                    found.append(form)
        if not phrases:
            return None
        if any(
            next(parsed.finditer_folded(text, texts.lowered[name]), None)
            for parsed in self.exclude
            for name, text in texts.items()
        ):
            return None
        return Hit(self.watch.name, tuple(phrases), tuple(found), tuple(f for f in FIELDS if f in fields))


class Texts(dict):
    """Field → searchable text (ё folded), with the original strings kept for reporting what was found."""

    def __init__(self, item: dict):
        originals = {f: item[f] for f in FIELDS if isinstance(item.get(f), str) and item[f]}
        super().__init__({f: fold(text) for f, text in originals.items()})
        self.originals = originals
        self.lowered = {f: text.lower() for f, text in self.items()}  # for the quick test in ``needle``


class Matcher:
    """Every configured watch, compiled once; ``match(item)`` → the hits, in configuration order."""

    def __init__(self, watches: Iterable[Watch]):
        self.watches = [CompiledWatch(w) for w in watches]

    def __bool__(self) -> bool:
        return bool(self.watches)

    def match(self, item: dict) -> list[Hit]:
        key = item.get("section_key") or f"{item.get('source', '')}/{item.get('section', '')}"
        applicable = [w for w in self.watches if w.applies_to(key)]
        if not applicable:
            return []
        seen = {(): (item, Texts(item))}  # what each watch looks at: all, or some speakers' turns
        paragraphs: dict[tuple, context.Aligned] = {}  # their paragraphs, shared by the hits' contexts
        hits = []
        for w in applicable:
            if w.watch.speakers not in seen:
                view = within_speakers(item, w.watch.speakers)
                seen[w.watch.speakers] = (view, Texts(view))
            view, texts = seen[w.watch.speakers]
            if (hit := w.match(texts)) is not None:
                if w.watch.speakers not in paragraphs:
                    paragraphs[w.watch.speakers] = context.Aligned(view)
                shared = paragraphs[w.watch.speakers]
                hits.append(replace(hit, contexts=tuple(context.contexts_of(view, hit.phrases, shared))))
        return hits
