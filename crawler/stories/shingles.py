"""An item's shingles, as the distinct 64-bit hashes MinHash reads (``crawler.stories.fingerprint``). Pure, numpy.

- The original scheme (``original_hashes``) compares an item with items of its own language, on its original
  text. Chinese (and any text mostly in Han, kana or hangul) is shingled as character 4-grams: a Chinese word is
  1–2 characters, so 4 characters span about two words, as specific as a word 3-gram; 2-grams match unrelated
  articles (background Jaccard up to 0.025 between the recorded People's Daily and Xinhua pages) and 5-grams
  cost robustness to edits for no gain (4-grams: background ≤ 0.002). Other scripts are shingled as word
  3-grams (background ≤ 0.013 between the eleven recorded Kremlin articles). A copy with its own dateline,
  boilerplate lines and a few edited sentences keeps most of its shingles.
- The English scheme (``english_hashes``) compares items across languages through English. Two translations of
  one text share few word 3-grams, so it uses content-word stems (stop words dropped, words cut to 5 letters:
  "sections"/"section", "Crimea"/"Crimean") paired with each of the next two stems, order-free ("Taurida
  motorway" = "motorway Taurida"). A hand paraphrase of a recorded Kremlin article in machine-translation
  style scores 0.18 against it, its first half 0.11; different Kremlin articles at most 0.013.

Shingles are never built as strings: the text becomes an array of code points, its words are spans of it, and
each shingle is a hash of its words' (or characters') hashes, all in numpy. A word's hash is a polynomial of
its code points, so a shingle's value depends only on its text; the same on every machine.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import numpy as np

_WORD = re.compile(r"\w+")  # the original scheme's words (CJK: its characters)
_LETTERS = re.compile(r"[^\W\d_]+")  # the English scheme's words: letters, and numbers (_numbers)
_DIGITS = re.compile(r"\d+")
# Kana, CJK ideographs (extension A, unified, compatibility), hangul syllables.
_CJK_RANGES = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF))
STOP_WORDS = frozenset(
    """
a about above after again against all also am an and any are as at be because been before being below between
both but by can could did do does doing down during each either few for from further had has have having he her
here hers him his how i if in into is it its itself just may me might more most must my no nor not now of off on
once only or other our ours out over own said same says shall she should so some such than that the their them
then there these they this those through to too under until up upon very was we were what when where which while
who whom whose why will with would you your
""".split()
)


def normalize(text: str) -> str:
    """NFKC (full-width letters and digits as ASCII), case folded, ё as е (Russian copies differ in it)."""
    text = text or ""
    if not unicodedata.is_normalized("NFKC", text):  # the check is 20 times faster than normalizing
        text = unicodedata.normalize("NFKC", text)
    return text.casefold().replace("ё", "е")


def is_cjk(text: str) -> bool:
    """Mostly Han/kana/hangul: shingle by characters, as Chinese has no spaces between words."""
    points = _code_points(text[:_CJK_HEAD])
    return _is_cjk(points, _classes(points))


_CJK_HEAD = 4000  # characters the script is judged on


def _is_cjk(points: np.ndarray, classes: np.ndarray) -> bool:
    """``is_cjk`` of the text whose code points and classes these are: at least 30% of the letters of its head
    are Han, kana or hangul."""
    head = points[:_CJK_HEAD]
    letters = np.count_nonzero(classes[:_CJK_HEAD] & _IS_LETTER)
    cjk = sum(np.count_nonzero((head >= first) & (head <= last)) for first, last in _CJK_RANGES)
    return bool(letters > 0 and cjk / letters >= 0.3)


def original_hashes(text: str) -> np.ndarray:
    """The original scheme's shingles, hashed (distinct, sorted uint64): character 4-grams of CJK text (letters
    and digits only), word 3-grams of any other text."""
    points = _code_points(normalize(text))
    classes = _classes(points)
    words = (classes & _IS_WORD) != 0
    if _is_cjk(points, classes):
        chars = points[words]
        if len(chars) < 4:
            return NO_SHINGLES
        return _distinct(mix(chars[:-3] * _K1 + chars[1:-2] * _K2 + chars[2:-1] * _K3 + chars[3:]))
    starts, ends = _runs(words)
    hashes = _span_hashes(points, starts, ends - starts)
    if len(hashes) < 3:
        return NO_SHINGLES
    return _distinct(mix(hashes[:-2] * _K1 + hashes[1:-1] * _K2 + hashes[2:]))


def english_hashes(text: str) -> np.ndarray:
    """The English scheme's shingles, hashed (distinct, sorted uint64): each content-word stem paired with each of
    the next two, order-free (see the module docstring). Words are runs of letters, and numbers (``12``,
    ``3.5``, ``1,200``); a stop word or a one-character word is left out; a stem is a word's first 5 characters."""
    points = _code_points(normalize(text))
    classes = _classes(points)
    letters = _runs((classes & _IS_LETTER) != 0)
    numbers = _numbers(points, *_runs((classes & _IS_DIGIT) != 0))
    starts, ends = (np.concatenate(pair) for pair in zip(letters, numbers))
    order = np.argsort(starts, kind="stable")
    starts, lengths = starts[order], (ends - starts)[order]
    kept = lengths > 1
    starts, lengths = starts[kept], lengths[kept]
    content = ~_is_stop_word(_span_hashes(points, starts, lengths))
    stems = _span_hashes(points, starts[content], np.minimum(lengths[content], 5))
    if len(stems) < 2:
        return NO_SHINGLES
    left = np.concatenate((stems[:-1], stems[:-2]))
    right = np.concatenate((stems[1:], stems[2:]))
    return _distinct(mix(np.minimum(left, right) * _K1 + np.maximum(left, right)))


def _distinct(hashes: np.ndarray) -> np.ndarray:
    """The distinct values, sorted: ``np.unique``'s answer, 10 times faster on a few thousand uint64 (numpy 2's
    ``np.unique`` hashes them first)."""
    hashes = np.sort(hashes)
    return hashes[np.concatenate(([True], hashes[1:] != hashes[:-1]))]


def _numbers(points: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Digit runs as numbers: a run, a "." or "," and the next run are one number, read left to right as a
    regular expression ``\\d+(?:[.,]\\d+)?`` would ("1.2.3" is "1.2" and "3")."""
    joined = (ends[:-1] + 1 == starts[1:]) & np.isin(points[np.minimum(ends[:-1], len(points) - 1)], _SEPARATORS)
    if not joined.any():
        return starts, ends
    keep = np.ones(len(starts), dtype=bool)
    ends = ends.copy()
    taken = -1
    for run in np.flatnonzero(joined).tolist():  # a few per text: numbers with a decimal or thousands mark
        if run == taken:  # this run ended the number before it
            continue
        ends[run] = ends[run + 1]
        keep[run + 1] = False
        taken = run + 1
    return starts[keep], ends[keep]


_SEPARATORS = np.array([ord("."), ord(",")], dtype=np.uint64)
NO_SHINGLES = np.empty(0, dtype=np.uint64)
# Odd constants: a word's polynomial base, and the weights of a shingle's positions (64-bit, from xxHash).
_BASE = np.uint64(0x100000001B3)  # FNV's 64-bit prime
_K1, _K2, _K3 = np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9), np.uint64(0x27D4EB2F165667C5)
_IS_WORD, _IS_LETTER, _IS_DIGIT = 1, 2, 4
_CLASS_PATTERNS = ((_IS_WORD, _WORD), (_IS_LETTER, _LETTERS), (_IS_DIGIT, _DIGITS))


def _code_points(text: str) -> np.ndarray:
    """The text's code points as uint64 (a lone surrogate, which JSON can carry, is kept as its number)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.uint64)


def _classes(points: np.ndarray) -> np.ndarray:
    """Each code point's classes (``_IS_*`` bits) as Python's ``re`` has them: ``\\w``, ``[^\\W\\d_]``, ``\\d``."""
    out = _bmp_classes()[np.minimum(points, 0xFFFF).astype(np.intp)]
    astral = points > 0xFFFF
    if astral.any():  # outside the Basic Multilingual Plane: rare in news text, classified one by one
        for point in np.unique(points[astral]).tolist():
            out[points == point] = _class_of(chr(point))
    return out


@cache
def _bmp_classes() -> np.ndarray:
    """The classes of every code point of the Basic Multilingual Plane, once per process (the patterns run over
    all 65,536 characters at once)."""
    every = "".join(map(chr, range(0x10000)))
    table = np.zeros(0x10000, dtype=np.uint8)
    for bit, pattern in _CLASS_PATTERNS:
        for match in pattern.finditer(every):
            table[match.start() : match.end()] |= bit
    return table


def _class_of(char: str) -> int:
    return sum(bit for bit, pattern in _CLASS_PATTERNS if pattern.fullmatch(char))


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of the runs of True in ``mask``."""
    edges = np.diff(np.concatenate(([0], mask.view(np.int8), [0])))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _span_hashes(points: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The hash of each span of ``points``: mix(Σ point_j · BASE^j), j counted from the span's start."""
    if not len(starts):
        return NO_SHINGLES
    offsets = np.cumsum(lengths) - lengths
    within = np.arange(int(lengths.sum())) - np.repeat(offsets, lengths)
    terms = points[np.repeat(starts, lengths) + within] * _powers(int(lengths.max()))[within]
    return mix(np.add.reduceat(terms, offsets))


def _powers(n: int) -> np.ndarray:
    """BASE^0 … BASE^(n-1), at least (uint64: mod 2^64)."""
    global _POWERS
    if len(_POWERS) < n:
        _POWERS = np.cumprod(np.concatenate(([np.uint64(1)], np.full(2 * n, _BASE, dtype=np.uint64))), dtype=np.uint64)
    return _POWERS


_POWERS = np.ones(1, dtype=np.uint64)


@cache
def _stop_hashes() -> np.ndarray:
    """The stop words' hashes, sorted."""
    words = sorted(STOP_WORDS)
    points = _code_points("".join(words))
    lengths = np.array([len(w) for w in words])
    return np.sort(_span_hashes(points, np.cumsum(lengths) - lengths, lengths))


def _is_stop_word(hashes: np.ndarray) -> np.ndarray:
    """Which of these word hashes are a stop word's: ``np.isin``'s answer by binary search in the sorted stop
    words, where ``np.isin`` sorted the text's words with them each time (a third of an English text's shingling)."""
    stops = _stop_hashes()
    at = np.minimum(np.searchsorted(stops, hashes), len(stops) - 1)
    return stops[at] == hashes


def mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: every output bit depends on every input bit (uint64 arithmetic wraps)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))
