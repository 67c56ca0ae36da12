"""The names glossary: fixed English renderings of names (习近平 → Xi Jinping, Путиным → Putin).

Applied in three steps around the model (see ``glossary.toml`` for the user-facing description):
``protect`` puts the English rendering in place of each name before translation, ``repair`` corrects listed
wrong spellings in the output and reports whether every expected name survived, and ``segments`` cuts a
protected sentence around its names for the piecewise fallback used when the model dropped one.
"""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from crawler.exceptions import ConfigError

log = logging.getLogger(__name__)

_INDECLINABLE_END = set("оуиэеёыюОУИЭЕЁЫЮ")
# (suffix of the dictionary form, how many letters to cut, endings of the other cases)
_RU_PARADIGMS = (
    ("ий", 2, ("ий", "ого", "ому", "им", "ом", "ия", "ию", "ием", "ии")),  # Зеленский, Дмитрий
    ("ый", 2, ("ый", "ого", "ому", "ым", "ом")),
    ("ой", 2, ("ой", "ого", "ому", "ым", "ом")),
    ("ая", 2, ("ая", "ой", "ую")),  # Зеленская
    ("ова", 1, ("а", "ой", "у")),
    ("ева", 1, ("а", "ой", "у")),  # Захарова
    ("ёва", 1, ("а", "ой", "у")),
    ("ина", 1, ("а", "ой", "у")),
    ("ына", 1, ("а", "ой", "у")),
    ("а", 1, ("а", "ы", "и", "е", "у", "ой", "ою")),  # Мария
    ("я", 1, ("я", "и", "е", "ю", "ей", "ею")),  # Небензя
    ("й", 1, ("й", "я", "ю", "ем", "е")),  # Сергей
    ("ь", 1, ("ь", "я", "ю", "ем", "е", "и", "ью")),  # Игорь
)
_CONSONANT_ENDINGS = ("", "а", "у", "ом", "ым", "е")  # Путин, Лавров, Байден
_PUNCT_EN = str.maketrans(
    {
        "，": ",",
        "。": ".",
        "、": ",",
        "；": ";",
        "：": ":",
        "！": "!",
        "？": "?",
        "（": "(",
        "）": ")",
        "“": '"',
        "”": '"',
        "《": '"',
        "》": '"',
        "«": '"',
        "»": '"',
    }
)


@dataclass(frozen=True)
class Entry:
    source: str
    en: str
    pattern: re.Pattern
    variants: re.Pattern


def ru_word_pattern(word: str) -> str:
    """A regex matching a Russian name word in all its case forms (Путин → Путин|Путина|…|Путиным)."""
    if len(word) <= 2 or word[-1] in _INDECLINABLE_END:
        return re.escape(word)
    for suffix, cut, endings in _RU_PARADIGMS:
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            return re.escape(word[:-cut]) + "(?:" + "|".join(map(re.escape, endings)) + ")"
    return re.escape(word) + "(?:" + "|".join(map(re.escape, _CONSONANT_ENDINGS)) + ")"


def source_pattern(lang: str, source: str, forms: list[str]) -> re.Pattern:
    alternatives = [re.escape(f) for f in forms]
    if lang == "ru":
        alternatives.insert(0, r"\s+".join(ru_word_pattern(w) for w in source.split()))
        return re.compile(r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?!\w)")
    return re.compile("|".join([re.escape(source), *alternatives]))


class Glossary:
    """Entries per source language, longest source first (so "Владимир Путин" wins over "Путин")."""

    def __init__(self, entries: dict[str, list[Entry]], files: tuple[str, ...] = ()):
        self.entries = {lang: sorted(es, key=lambda e: -len(e.source)) for lang, es in entries.items()}
        self.files = files

    def __len__(self) -> int:
        return sum(len(es) for es in self.entries.values())

    def protect(self, sentence: str, lang: str) -> tuple[str, list[str]]:
        """The sentence with each known name replaced by its English rendering, and those renderings."""
        expected: list[str] = []
        for entry in self.entries.get(lang, ()):
            sentence, count = entry.pattern.subn(_spaced(entry.en, lang), sentence)
            if count and entry.en not in expected:
                expected.append(entry.en)
        if expected and lang == "zh":
            sentence = re.sub(r" *([，。、；：！？）」』”]) *", r"\1", re.sub(r" {2,}", " ", sentence)).strip()
        return sentence, expected

    def repair(self, output: str, expected: list[str], lang: str) -> str | None:
        """Output with listed variants corrected; None if an expected name is still missing."""
        for entry in self.entries.get(lang, ()):
            if entry.en in expected:
                output = entry.variants.sub(entry.en, output)
        return output if all(name in output for name in expected) else None

    @staticmethod
    def segments(protected: str, expected: list[str]) -> list[tuple[str, bool]]:
        """``(text, is_name)`` pieces of a protected sentence, cut around the expected names."""
        if not expected:
            return [(protected.strip(), False)] if protected.strip() else []
        names = sorted(expected, key=len, reverse=True)
        pieces = re.split("(" + "|".join(map(re.escape, names)) + ")", protected)
        return [(p.strip(), p in expected) for p in pieces if p.strip()]

    @staticmethod
    def punctuation_only(text: str) -> bool:
        return not re.search(r"\w", text)

    @staticmethod
    def english_punctuation(text: str) -> str:
        return text.translate(_PUNCT_EN)


def _spaced(en: str, lang: str) -> str:
    # Chinese has no spaces: pad the Latin name so it tokenizes as whole words ("会见 Wang Yi 。").
    return f" {en} " if lang == "zh" else en


def load_glossary(user_path: str | Path | None = None) -> Glossary:
    """The shipped glossary, with the user's file (if any) merged over it entry by entry."""
    shipped = resources.files("crawler.translation").joinpath("glossary.toml").read_text(encoding="utf-8")
    tables = [(_parse(shipped, "glossary.toml"), "glossary.toml")]
    if user_path:
        path = Path(user_path)
        try:
            tables.append((_parse(path.read_text(encoding="utf-8"), str(path)), str(path)))
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read glossary file: {exc.strerror or exc}") from None
    merged: dict[str, dict[str, tuple[object, str]]] = {}
    for table, name in tables:
        for lang, entries in table.items():
            if not isinstance(entries, dict):
                raise ConfigError(f'{name}: [{lang}]: expected a table of "name" = "English" entries')
            for source, value in entries.items():
                merged.setdefault(lang, {})[source] = (value, name)
    built = {
        lang: [_entry(lang, src, value, name) for src, (value, name) in entries.items()]
        for lang, entries in merged.items()
    }
    log.debug("glossary: %s entries from %s", sum(map(len, built.values())), [n for _t, n in tables])
    return Glossary(built, tuple(n for _t, n in tables))


def _parse(text: str, name: str) -> dict:
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{name}: glossary is not valid TOML: {exc}") from None


def _entry(lang: str, source: str, value: object, filename: str) -> Entry:
    where = f"{filename}: [{lang}] {source!r}"
    if isinstance(value, str):
        value = {"en": value}
    if not isinstance(value, dict) or not isinstance(value.get("en"), str) or not value["en"].strip():
        raise ConfigError(f'{where}: expected "English rendering" or {{ en = "…" }}, got {value!r}')
    unknown = set(value) - {"en", "forms", "variants"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (allowed: en, forms, variants)")
    forms, variants = value.get("forms", []), value.get("variants", [])
    for key, items in (("forms", forms), ("variants", variants)):
        if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
            raise ConfigError(f"{where}: {key}: expected a list of non-empty strings")
    if not source.strip():
        raise ConfigError(f"{filename}: [{lang}]: empty source name")
    # The rendering itself is in the pattern too, so that "XI JINPING" is put back as "Xi Jinping".
    variant_re = re.compile(
        r"(?<!\w)(?:" + "|".join(map(re.escape, [*variants, value["en"]])) + r")(?!\w)", re.IGNORECASE
    )
    return Entry(source, value["en"].strip(), source_pattern(lang, source.strip(), forms), variant_re)
