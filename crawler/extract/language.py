"""Language of an article: langdetect, seeded once so the same text always gets the same answer.

Chinese is decided by script before langdetect is asked: on short Chinese text langdetect wavers
between zh-cn, zh-tw, ko and ja, and counting Han characters is exact and a hundred times faster.
Russian likewise: Cyrillic text with ы or э and none of the letters only other Cyrillic languages use
(Ukrainian і ї є ґ, Belarusian ў, Serbian/Macedonian ђ ј љ њ ћ џ ѓ ќ ѕ, Kazakh/Tatar/… ә ғ қ ң ө ұ ү һ)
cannot be anything else — Bulgarian, the one look-alike, has neither ы nor э — so it skips langdetect
(a third of a Russian page's analysis time).
English too: Latin-script text without the accented letters of the other Latin-script languages, in which at
least one word in ENGLISH_WORD_SHARE is one of 28 English function words ("the", "of", "which", …: none
of them a word of French, German, Spanish, Italian, Dutch or Portuguese) is English; langdetect, which costs
about 5 ms a page in pure Python, gives the same answer on every recorded text (tests/test_language.py).
Per-paragraph languages are computed only when the paragraphs are written in different scripts
(Han, Cyrillic, Latin…): that is what a mixed page looks like here (a Chinese or Russian article
quoting English, a bilingual transcript), and langdetect on short same-script paragraphs is noise
(an English answer of three words comes out as Tagalog or Norwegian).

Every judgement reads a bounded sample, never a whole article: the page's language from SAMPLE_CHARS
characters drawn from up to SAMPLE_PARAGRAPHS paragraphs spread over the body (the head of each, cut at
a space), a paragraph's script and language from its first SAMPLE_CHARS characters. langdetect's time
grows with its input and its answer does not change past a few hundred characters of one language;
several paragraphs rather than the opening alone, so that an English dateline or a quoted sentence at
the top does not speak for the page (tests/test_language_sample.py: the same answers as reading the
first 600 characters, and each paragraph whole, on every recorded page).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

from crawler.extract import profiles

DetectorFactory.seed = 0  # langdetect is random by default: the seed makes results repeatable

SCRIPTS = {
    "han": re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"),
    "kana": re.compile(r"[\u3040-\u30ff]"),
    "hangul": re.compile(r"[\uac00-\ud7af\u1100-\u11ff]"),
    "cyrillic": re.compile(r"[\u0400-\u04ff]"),
    "latin": re.compile(r"[A-Za-z\u00c0-\u024f]"),
    "arabic": re.compile(r"[\u0600-\u06ff]"),
}
LETTER = re.compile(r"[^\W\d_]")
RUSSIAN_ONLY = re.compile(r"[ыЫэЭ]")
# English words that are not words of the other major Latin-script languages (so "in", "on", "a" and "die" are not,
# nor "is" and "we", Dutch, "will", German, or "for", Portuguese).
ENGLISH_WORDS = frozenset(
    "the of and to that with from this which was were have has been their would it be are not you our they there "
    "what who these by".split()
)
WORD = re.compile(r"[^\W\d_]+")
ACCENTED_LATIN = re.compile(r"[\u00c0-\u024f]")
OTHER_CYRILLIC = re.compile(r"[іїєґўђјљњћџѓќѕәғқңөұүһҗҙҡҫІЇЄҐЎЂЈЉЊЋЏЃЌЅӘҒҚҢӨҰҮҺҖҘҠҪ]")
CJK_SHORTCUT = 0.3  # share of Han among letters that makes text Chinese…
OTHER_CJK = 0.05  # …unless this share of kana or hangul says Japanese or Korean
SCRIPT_SHORTCUT = 0.5  # share of Cyrillic letters for the Russian shortcut
LATIN_SHORTCUT = 0.95  # share of Latin letters for the English shortcut…
ENGLISH_WORD_SHARE = 8  # …and one word in this many an English function word…
MIN_ENGLISH_WORDS = 4  # …and at least this many of them
MAX_ACCENTED = 0.01  # share of accented Latin letters (é, ü, ñ, ã…) above which it is left to langdetect
MIN_PARAGRAPH_LETTERS = 20  # shorter paragraphs are too short to judge alone
SAMPLE_CHARS = 300  # what a page's or a paragraph's language is judged on (module docstring)
SAMPLE_PARAGRAPHS = 4  # the page's sample is drawn from this many paragraphs, spread over the body
NORMALISE = {"zh-cn": "zh", "zh-tw": "zh"}


@dataclass
class LangResult:
    lang: str | None
    confidence: float
    paragraph_langs: list[str | None] | None = None  # set only when the page mixes languages


def detect_language(paragraphs: list[str], title: str | None = None) -> LangResult:
    """Language of the body text; the title is used only when there is no body."""
    texts = [p for p in paragraphs if p and p.strip()]
    if not texts:
        lang, confidence = detect_text(title or "")
        return LangResult(lang, confidence)
    lang, confidence = detect_text(_sample(texts))
    return LangResult(lang, confidence, paragraph_languages(texts, lang))


def detect_text(text: str) -> tuple[str | None, float]:
    """(language code, probability) of one text; (None, 0.0) when there is nothing to judge."""
    letters = len(LETTER.findall(text))
    if not letters:
        return None, 0.0
    han = len(SCRIPTS["han"].findall(text)) / letters
    if (
        han >= CJK_SHORTCUT
        and _share(text, "kana", letters) < OTHER_CJK
        and _share(text, "hangul", letters) < OTHER_CJK
    ):
        return "zh", round(han, 4)  # the shortcut's confidence: the share of Han letters
    cyrillic = _share(text, "cyrillic", letters)
    if cyrillic >= SCRIPT_SHORTCUT and RUSSIAN_ONLY.search(text) and not OTHER_CYRILLIC.search(text):
        return "ru", round(cyrillic, 4)
    if _is_english(text, letters):
        return "en", round(_share(text, "latin", letters), 4)
    profiles.ensure_loaded()
    try:
        best = detect_langs(text)[0]
    except LangDetectException:
        return None, 0.0
    return NORMALISE.get(best.lang, best.lang), round(best.prob, 4)


def _is_english(text: str, letters: int) -> bool:
    latin = _share(text, "latin", letters)
    if latin < LATIN_SHORTCUT or len(ACCENTED_LATIN.findall(text)) > MAX_ACCENTED * letters:
        return False
    words = WORD.findall(text.lower())
    english = sum(w in ENGLISH_WORDS for w in words)
    return english >= MIN_ENGLISH_WORDS and english * ENGLISH_WORD_SHARE >= len(words)


def _share(text: str, script: str, letters: int) -> float:
    return len(SCRIPTS[script].findall(text)) / letters


def paragraph_languages(paragraphs: list[str], page_lang: str | None) -> list[str | None] | None:
    """Each paragraph's language when the page mixes scripts and languages, else None."""
    heads = [_head(p, SAMPLE_CHARS) for p in paragraphs]
    joined = "\n".join(heads)
    present = {name: rx for name, rx in SCRIPTS.items() if rx.search(joined)}
    if len(present) < 2:
        return None  # one script in the whole text: no paragraph can be dominated by another
    scripts = [dominant_script(h, present) for h in heads]
    if len({s for s in scripts if s}) < 2:
        return None
    langs = [detect_text(h)[0] if s else None for h, s in zip(heads, scripts)]
    if all(lang in (None, page_lang) for lang in langs):
        return None
    return langs


def dominant_script(text: str, scripts: dict[str, re.Pattern] = SCRIPTS) -> str | None:
    """The script most letters are written in; None for text too short to count. ``scripts``: the ones
    worth counting (those absent from the text count zero whether counted or not)."""
    counts = {name: len(rx.findall(text)) for name, rx in scripts.items()}
    total = sum(counts.values())
    if total < MIN_PARAGRAPH_LETTERS and counts.get("han", 0) < MIN_PARAGRAPH_LETTERS // 4:
        return None
    return max(counts, key=counts.get)


def _sample(texts: list[str]) -> str:
    """About SAMPLE_CHARS characters of the body: the heads of up to SAMPLE_PARAGRAPHS paragraphs spread
    from the first to the last, each given an equal share of what the ones before it left."""
    if sum(len(t) for t in texts) <= SAMPLE_CHARS:
        return " ".join(texts)
    last = len(texts) - 1
    count = min(SAMPLE_PARAGRAPHS, len(texts))
    picked = sorted({round(i * last / max(count - 1, 1)) for i in range(count)})
    out, room = [], SAMPLE_CHARS
    for n, index in enumerate(picked):
        piece = _head(texts[index], room // (len(picked) - n))
        out.append(piece)
        room -= len(piece)
    return " ".join(out)


def _head(text: str, size: int) -> str:
    """The first ``size`` characters of ``text``, cut back to a space in their second half (no half word
    to give langdetect n-grams of no language)."""
    if len(text) <= size:
        return text
    head = text[:size]
    space = head.rfind(" ", size // 2)
    return head[:space] if space > 0 else head
