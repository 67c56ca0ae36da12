"""Matching watch phrases in an item's original and English text. Pure functions, no I/O.

Rules (README, "Watch phrases"):
- case-insensitive, and ё = е (Russian text often writes е for ё);
- a phrase with a Chinese, Japanese or Korean character is matched as a substring (those scripts have no
  spaces between words);
- any other phrase (Latin, Cyrillic, …) on word boundaries: "Xi" does not match "Xinhua"; a trailing ``*``
  matches any word ending ("Путин*" → Путина, Путину, Путиным); spaces in a phrase match any whitespace;
- a boundary is a letter or digit of a spaced script: "APEC" matches in "出席APEC会议";
- ``title``, ``text``, ``title_en`` and ``text_en`` are searched, so an English phrase finds a Chinese
  article through its translation, and a Chinese phrase finds it in the original;
- a watch with ``sections`` only looks at items of matching "source/section" keys; an item in which any
  ``exclude`` phrase occurs (in any field) is not a hit of that watch.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Iterable

from crawler.watch.settings import Watch

FIELDS = ("title", "text", "title_en", "text_en")
MAX_FOUND = 5                  # surface forms kept per hit ("Путина", "Путину", …)

_CJK = ("\u2e80-\u2fff\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7af"
        "\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f")
_HAS_CJK = re.compile(f"[{_CJK}]")
_WORD = f"[^\\W{_CJK}]"        # a letter, digit or _ of a script that separates words with spaces
_YO = str.maketrans("ёЁ", "еЕ")  # one character for one: match offsets stay valid in the original text


@dataclass(frozen=True)
class Hit:
    """One watch matching one item."""

    name: str
    phrases: tuple[str, ...]   # the watch's phrases that matched, as configured
    found: tuple[str, ...]     # what the text says (first occurrences, original case): "Путина", "习近平"
    fields: tuple[str, ...]    # where: a subset of FIELDS, in that order

    def as_field(self) -> dict:
        """The object in the item's ``watch`` list."""
        return {"name": self.name, "phrases": list(self.phrases), "found": list(self.found), "in": list(self.fields)}


def in_words(phrases: Iterable[str], found: Iterable[str]) -> str:
    """'"Путин*", "Xi Jinping" (as Путина)': the phrases that matched, then the forms they did not spell out."""
    phrases = list(phrases)
    literal = {p.rstrip("*").casefold() for p in phrases}
    forms = [f for f in found if f.casefold() not in literal]
    return ", ".join(f'"{p}"' for p in phrases) + (f" (as {', '.join(forms)})" if forms else "")


def compile_phrase(phrase: str) -> re.Pattern:
    """The regular expression of one configured phrase (see the module docstring)."""
    stem = phrase.translate(_YO)
    wildcard = stem.endswith("*")
    stem = stem.rstrip("*")
    body = r"\s+".join(re.escape(word) for word in stem.split())
    if _HAS_CJK.search(stem):
        return re.compile(body, re.IGNORECASE)
    start = f"(?<!{_WORD})" if re.match(r"\w", stem[0]) and not _HAS_CJK.match(stem[0]) else ""
    if wildcard:
        end = f"{_WORD}*"
    else:
        end = f"(?!{_WORD})" if re.match(r"\w", stem[-1]) else ""
    return re.compile(start + body + end, re.IGNORECASE)


def needle(phrase: str) -> str:
    """The phrase's longest word, lower-cased: a text without it cannot match, and ``in`` tells that
    much faster than the regular expression (whose look-behind is tried at every position)."""
    return max(phrase.translate(_YO).rstrip("*").lower().split(), key=len)


class CompiledWatch:
    def __init__(self, watch: Watch):
        self.watch = watch
        self.phrases = [(p, compile_phrase(p), needle(p)) for p in watch.phrases]
        self.exclude = [(compile_phrase(p), needle(p)) for p in watch.exclude]

    def applies_to(self, section_key: str) -> bool:
        return not self.watch.sections or any(fnmatch.fnmatchcase(section_key, p) for p in self.watch.sections)

    def match(self, texts: "Texts") -> Hit | None:
        phrases, found, fields = [], [], set()
        for phrase, pattern, word in self.phrases:
            for name, text in texts.items():
                m = pattern.search(text) if word in texts.lowered[name] else None
                if m is None:
                    continue
                if phrase not in phrases:
                    phrases.append(phrase)
                fields.add(name)
                form = " ".join(texts.originals[name][m.start():m.end()].split())
                if form.casefold() not in {f.casefold() for f in found} and len(found) < MAX_FOUND:
                    found.append(form)
        if not phrases:
            return None
        if any(word in texts.lowered[name] and pattern.search(text)
               for pattern, word in self.exclude for name, text in texts.items()):
            return None
        return Hit(self.watch.name, tuple(phrases), tuple(found), tuple(f for f in FIELDS if f in fields))


class Texts(dict):
    """Field → searchable text (ё folded), with the original strings kept for reporting what was found."""

    def __init__(self, item: dict):
        originals = {f: item[f] for f in FIELDS if isinstance(item.get(f), str) and item[f]}
        super().__init__({f: text.translate(_YO) for f, text in originals.items()})
        self.originals = originals
        self.lowered = {f: text.lower() for f, text in self.items()}     # for the quick test in ``needle``


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
        texts = Texts(item)
        return [hit for w in applicable if (hit := w.match(texts)) is not None]
