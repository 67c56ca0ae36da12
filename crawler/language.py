"""Language of an article: langdetect, seeded once so the same text always gets the same answer.

Chinese is decided by script before langdetect is asked: on short Chinese text langdetect wavers
between zh-cn, zh-tw, ko and ja, and counting Han characters is both exact and fast.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

DetectorFactory.seed = 0   # langdetect is random by default: the seed makes results repeatable

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
KANA = re.compile(r"[\u3040-\u30ff]")
HANGUL = re.compile(r"[\uac00-\ud7af]")
LETTER = re.compile(r"[^\W\d_]")
CJK_SHORTCUT = 0.3           # share of Han characters among letters above which text is Chinese
MIN_PARAGRAPH_LETTERS = 20   # shorter paragraphs are too short to judge alone
SAMPLE_CHARS = 3000          # langdetect on more text than this changes nothing but the time
NORMALISE = {"zh-cn": "zh", "zh-tw": "zh"}


@dataclass
class LangResult:
    lang: str | None
    confidence: float
    paragraph_langs: list[str | None] | None = None   # set only when the page mixes languages


def detect_language(paragraphs: list[str], title: str | None = None) -> LangResult:
    """Language of the body (the title helps only when the body is empty)."""
    texts = [p for p in paragraphs if p and p.strip()]
    if not texts and title:
        texts = [title]
    if not texts:
        return LangResult(None, 0.0)
    lang, confidence = detect_text(" ".join(texts)[:SAMPLE_CHARS])
    return LangResult(lang, confidence, _mixed_paragraph_langs(texts if texts != [title] else [], lang))


def detect_text(text: str) -> tuple[str | None, float]:
    letters = LETTER.findall(text)
    if not letters:
        return None, 0.0
    han = len(HAN.findall(text))
    if han / len(letters) >= CJK_SHORTCUT and not KANA.search(text) and not HANGUL.search(text):
        return "zh", round(min(1.0, 0.5 + han / len(letters) / 2), 4)
    try:
        best = detect_langs(text)[0]
    except LangDetectException:
        return None, 0.0
    return NORMALISE.get(best.lang, best.lang), round(best.prob, 4)


def _mixed_paragraph_langs(paragraphs: list[str], page_lang: str | None) -> list[str | None] | None:
    """Per-paragraph languages, kept only if at least one long paragraph is in another language."""
    if len(paragraphs) < 2:
        return None
    langs = [detect_text(p)[0] if len(LETTER.findall(p)) >= MIN_PARAGRAPH_LETTERS else None
             for p in paragraphs]
    counted = Counter(lang for lang in langs if lang)
    if len(counted) < 2 or all(lang in (None, page_lang) for lang in langs):
        return None
    return langs
