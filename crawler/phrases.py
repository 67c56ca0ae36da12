"""Phrases: the one syntax of watch phrases, section subjects and search terms (docs/watch.md, "Phrase syntax").
Pure functions, no I/O; ``crawler.watch.matcher``, ``crawler.lifecycle.subject`` and ``crawler.digest.search``
all read phrases through ``parse``.

- case-insensitive, and ё = е (Russian text often writes е for ё);
- a phrase with a Chinese, Japanese or Korean character is matched as a substring (those scripts have no
  spaces between words);
- any other phrase (Latin, Cyrillic, …) on word boundaries: "Xi" does not match "Xinhua"; a trailing ``*``
  matches any word ending ("Путин*" → Путина, Путину, Путиным); spaces in a phrase match any whitespace;
- a boundary is a letter or digit of a spaced script: "APEC" matches in "出席APEC会议";
- ``*`` anywhere but at the end of a phrase is refused (``PhraseError``: one line saying what to write).

A search query is phrases too (``split_query``): whitespace separates phrases that must all occur, and
``"a quoted phrase"`` is one phrase.
"""

from __future__ import annotations

import functools
import re
import shlex
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

_CJK = (
    "\u2e80-\u2fff\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7af"
    "\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f"
)
HAS_CJK = re.compile(f"[{_CJK}]")
WORD = f"[^\\W{_CJK}]"  # a letter, digit or _ of a script that separates words with spaces


class PhraseError(ValueError):
    """A phrase that cannot be matched; the message says what to write instead."""


def fold(text: str) -> str:
    """ё → е, character for character (offsets in the result are offsets in ``text``). ``str.replace``
    rather than ``str.translate``: a tenth of the time on an article's text."""
    return text.replace("ё", "е").replace("Ё", "Е")


def normalise(value: object) -> str:
    """One phrase in NFC with single spaces; ``PhraseError`` naming the problem when it is not a phrase."""
    if not isinstance(value, str) or not value.strip():
        raise PhraseError(f"expected non-empty strings, got {value!r}")
    phrase = " ".join(unicodedata.normalize("NFC", value).split())
    if "*" in phrase.rstrip("*") or phrase.endswith("**"):
        raise PhraseError(f'{value!r}: only one trailing * is supported (a word ending, as in "Путин*")')
    if not phrase.rstrip("*").strip():
        raise PhraseError(f"{value!r}: a phrase needs at least one letter or digit besides *")
    if phrase.endswith("*") and not phrase[-2].isalnum():
        raise PhraseError(f'{value!r}: * must follow a letter or digit ("Путин*")')
    return phrase


@dataclass(frozen=True)
class Phrase:
    text: str  # as written (normalised): "Путин*"
    stem: str  # without the trailing *, ё folded: "Путин"
    prefix: bool  # a trailing * (any word ending)
    cjk: bool  # matched as a substring
    pattern: re.Pattern  # to search in ``fold(text)``
    needle: str  # its longest word, lower-cased: a text without it cannot match
    first: str  # its first word, lower-cased: where a match can start
    folds: bool  # it has an е: the text must be searched with ё folded (else as it is)

    @property
    def words(self) -> list[str]:
        return self.stem.split()

    def finditer(self, text: str) -> Iterator[re.Match]:
        """Matches in ``text`` (any case, ё or е); their offsets are offsets in ``text``."""
        folded = fold(text) if self.folds else text
        return self.finditer_folded(folded, folded.lower())

    def finditer_folded(self, folded: str, lowered: str) -> Iterator[re.Match]:
        """Matches in ``folded`` (``fold(text)``, or the text itself for a phrase that does not ``fold``;
        ``lowered`` its ``lower()``). The pattern is tried only where
        the phrase's first word occurs (``str.find``): its look-behind, tried at every position of an
        article by ``re.finditer``, costs a hundred times more."""
        if self.needle not in lowered:
            return
        if len(lowered) != len(folded):  # a letter whose lower case is longer: offsets differ
            yield from self.pattern.finditer(folded)
            return
        at = lowered.find(self.first)
        while at >= 0:
            found = self.pattern.match(folded, at)  # its look-behind still sees the text before ``at``
            if found:
                yield found
                at = lowered.find(self.first, max(found.end(), at + 1))
            else:
                at = lowered.find(self.first, at + 1)

    def search(self, text: str) -> re.Match | None:
        return next(self.finditer(text), None)


@functools.lru_cache(maxsize=4096)
def parse(value: str) -> Phrase:
    """The ``Phrase`` of one written phrase (``PhraseError`` when it is not one)."""
    text = normalise(value)
    prefix = text.endswith("*")
    stem = fold(text.rstrip("*"))
    cjk = bool(HAS_CJK.search(stem))
    words = stem.lower().split()
    return Phrase(
        text, stem, prefix, cjk, _compile(stem, prefix, cjk), max(words, key=len), words[0], "е" in stem.lower()
    )


def _compile(stem: str, prefix: bool, cjk: bool) -> re.Pattern:
    body = r"\s+".join(re.escape(word) for word in stem.split())
    if cjk:
        return re.compile(body, re.IGNORECASE)
    start = f"(?<!{WORD})" if re.match(r"\w", stem[0]) and not HAS_CJK.match(stem[0]) else ""
    if prefix:
        end = f"{WORD}*"
    else:
        end = f"(?!{WORD})" if re.match(r"\w", stem[-1]) else ""
    return re.compile(start + body + end, re.IGNORECASE)


def split_query(query: str) -> list[str]:
    """The phrases of a search query: whitespace-separated words, or "quoted phrases" (each normalised)."""
    try:
        parts = shlex.split(query)
    except ValueError:  # an unbalanced quote: take the words as they are
        parts = query.replace('"', " ").split()
    return [normalise(p) for p in parts if p.strip()]


def in_words(phrases, found) -> str:
    """'"Путин*", "Xi Jinping" (as Путина)': the phrases that matched, then the forms they did not spell out."""
    phrases = list(phrases)
    literal = {p.rstrip("*").casefold() for p in phrases}
    forms = [f for f in found if f.casefold() not in literal]
    return ", ".join(f'"{p}"' for p in phrases) + (f" (as {', '.join(forms)})" if forms else "")
