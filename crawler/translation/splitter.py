"""Sentence splitting without models: Chinese on 。！？；… and Russian with care for abbreviations and initials.

Argos' own splitter (stanza, or a model downloaded at first use) is not used: it fails offline. These rules
are deterministic and fast; a sentence split too often or too rarely costs some fluency, never text — the
pieces of a paragraph always join back to the paragraph (modulo whitespace).
"""

from __future__ import annotations

import re

# Chinese: a run of end marks (full- or half-width), then any closing quotes/brackets that belong to it.
_ZH_SENTENCE = re.compile(r".*?(?:[。！？；!?;]+|…+|\.{3,})[”’」』）》\"')\]]*|.+$", re.S)

# Russian/Latin: end marks, closing quotes, whitespace, then something that can open a sentence.
_RU_BOUNDARY = re.compile(r"([.!?…]+)([»\"”’)\]]*)(\s+)(?=[«\"„“(\[—–-]?\s*[A-ZА-ЯЁ0-9])")
_INITIALS = re.compile(r"^[(«\"„]*(?:[A-ZА-ЯЁ][a-zа-яё]?\.)+$")
# Abbreviations after which a capital letter does not start a new sentence ("т.е. Путин", "ул. Тверская").
NON_TERMINAL = frozenset(
    """
т.е. т.к. т.н. т.ч. напр. им. ул. пр. просп. пер. пл. наб. д. кв. обл. р-н. р. оз. проф. акад. доц. чл.-корр.
г-н. г-жа. св. ст. см. ср. гл. рис. тел. англ. нем. фр. кит. рус. лат. ген. ген.-лейт. адм. полк. ок. ориент.
mr. mrs. ms. dr. prof. st. no. vs. e.g. i.e. gen. lt. col. sen. rep. gov.
""".split()
)
# "г." is "год" after a number ("в 2024 г. Президент…" may end a sentence) but "город" before a name.
_YEAR_ABBREV = frozenset({"г.", "гг."})
_LONG_BREAK = re.compile(r"[，、,；;：:]\s*|\s+")


def split_sentences(text: str, lang: str | None, max_chars: int = 400) -> list[str]:
    """Sentences of one paragraph, stripped, none empty, none longer than ``max_chars``."""
    out: list[str] = []
    for line in (text or "").splitlines():
        pieces = split_zh(line) if lang == "zh" else split_ru(line)
        for piece in pieces:
            out.extend(split_long(piece, max_chars))
    return out


def split_zh(text: str) -> list[str]:
    return [m.group(0).strip() for m in _ZH_SENTENCE.finditer(text) if m.group(0).strip()]


def split_ru(text: str) -> list[str]:
    sentences, start = [], 0
    for match in _RU_BOUNDARY.finditer(text):
        if _is_boundary(text, match):
            sentences.append(text[start : match.start(3)].strip())
            start = match.end(3)
    sentences.append(text[start:].strip())
    return [s for s in sentences if s]


def _is_boundary(text: str, match: re.Match) -> bool:
    if match.group(1) != ".":
        return True  # !, ?, …, "..." always end a sentence
    words = text[: match.end(1)].split()
    token = words[-1] if words else ""
    if _INITIALS.match(token):
        return False  # "В. Путин", "В.В. Путин", "A. B. Smith"
    if token.lower().lstrip('(«"„') in NON_TERMINAL:
        return False
    if token.lower() in _YEAR_ABBREV:
        return len(words) > 1 and words[-2].isdigit()  # "2024 г. Он…" ends; "г. Москва" does not
    return True


def split_long(sentence: str, max_chars: int) -> list[str]:
    """Cut a run-on sentence at the last comma (or space) before ``max_chars``; hard-cut as a last resort."""
    pieces = []
    while len(sentence) > max_chars:
        cut = 0
        for match in _LONG_BREAK.finditer(sentence, 0, max_chars):
            cut = match.end()
        cut = cut if cut > max_chars // 4 else max_chars
        pieces.append(sentence[:cut].strip())
        sentence = sentence[cut:].strip()
    if sentence:
        pieces.append(sentence)
    return pieces
