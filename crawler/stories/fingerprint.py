"""Fingerprints of an item's text: shingles → MinHash signature → LSH band keys. Pure functions, no I/O.

Two schemes, because a copy in the same language and a translation differ in different ways:

- ``ORIGINAL`` compares an item with items of its own language, on its original text. Chinese (and any text
  mostly in Han, kana or hangul) is shingled as character 4-grams: a Chinese word is 1–2 characters, so 4
  characters span about two words, as specific as a word 3-gram; 2-grams match unrelated articles (background
  Jaccard up to 0.025 between the recorded People's Daily and Xinhua pages) and 5-grams cost robustness to
  edits for no gain (4-grams: background ≤ 0.002). Other scripts are shingled as word 3-grams (background
  ≤ 0.013 between the eleven recorded Kremlin articles). A copy with its own dateline, boilerplate lines and
  a few edited sentences keeps most of its shingles.
- ``ENGLISH`` compares items across languages through English (``text_en`` of a translated item, ``text`` of
  an English one). Two translations of one text share few word 3-grams, so it uses content-word stems
  (stop words dropped, words cut to 5 letters: "sections"/"section", "Crimea"/"Crimean") paired with each
  of the next two stems, order-free ("Taurida motorway" = "motorway Taurida"). A hand paraphrase of a
  recorded Kremlin article in machine-translation style scores 0.18 against it, its first half 0.11;
  different Kremlin articles at most 0.013.

Shingles are never built as strings: the text becomes an array of code points, its words are spans of it, and
each shingle is a hash of its words' (or characters') hashes, all in numpy (``original_hashes``,
``english_hashes``). A word's hash is a polynomial of its code points, so a shingle's value depends only on its
text. Hashing is seeded and stable across processes and machines, never Python's ``hash()``; its definition, in
plain Python, is tests/test_stories.py's reference.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

# Fewer shingles than this (a line or two of text) says too little to call anything a copy of it.
MIN_SHINGLES = 8

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


@dataclass(frozen=True)
class Scheme:
    """A MinHash signature of ``bands × rows`` hashes; items are LSH candidates when one band agrees.

    The chance that a pair of Jaccard similarity J shares a band is 1 − (1 − J^rows)^bands."""

    name: str
    bands: int
    rows: int
    seed: int

    @property
    def size(self) -> int:
        return self.bands * self.rows


# 42 bands of 3: a pair at J = 0.4 is a candidate with probability 0.93, at 0.5 with 0.996, at 0.05 with 0.005.
ORIGINAL = Scheme("original", bands=42, rows=3, seed=20240424)
# 192 bands of 2: at J = 0.1 0.85, at 0.12 0.94, at 0.15 0.99; two unrelated articles (J ≈ 0.003) 0.002.
ENGLISH = Scheme("english", bands=192, rows=2, seed=20200827)


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
        return _distinct(_mix(chars[:-3] * _K1 + chars[1:-2] * _K2 + chars[2:-1] * _K3 + chars[3:]))
    starts, ends = _runs(words)
    hashes = _span_hashes(points, starts, ends - starts)
    if len(hashes) < 3:
        return NO_SHINGLES
    return _distinct(_mix(hashes[:-2] * _K1 + hashes[1:-1] * _K2 + hashes[2:]))


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
    content = ~np.isin(_span_hashes(points, starts, lengths), _stop_hashes())
    stems = _span_hashes(points, starts[content], np.minimum(lengths[content], 5))
    if len(stems) < 2:
        return NO_SHINGLES
    left = np.concatenate((stems[:-1], stems[:-2]))
    right = np.concatenate((stems[1:], stems[2:]))
    return _distinct(_mix(np.minimum(left, right) * _K1 + np.maximum(left, right)))


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
    every = "".join(map(chr, range(0x10000)))
    table = np.zeros(0x10000, dtype=np.uint8)
    for bit, pattern in ((_IS_WORD, _WORD), (_IS_LETTER, _LETTERS), (_IS_DIGIT, _DIGITS)):
        for match in pattern.finditer(every):
            table[match.start() : match.end()] |= bit
    return table


def _class_of(char: str) -> int:
    pattern_bits = ((_IS_WORD, _WORD), (_IS_LETTER, _LETTERS), (_IS_DIGIT, _DIGITS))
    return sum(bit for bit, pattern in pattern_bits if pattern.fullmatch(char))


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
    return _mix(np.add.reduceat(terms, offsets))


def _powers(n: int) -> np.ndarray:
    """BASE^0 … BASE^(n-1), at least (uint64: mod 2^64)."""
    global _POWERS
    if len(_POWERS) < n:
        _POWERS = np.cumprod(np.concatenate(([np.uint64(1)], np.full(2 * n, _BASE, dtype=np.uint64))), dtype=np.uint64)
    return _POWERS


_POWERS = np.ones(1, dtype=np.uint64)


@cache
def _stop_hashes() -> np.ndarray:
    words = sorted(STOP_WORDS)
    points = _code_points("".join(words))
    lengths = np.array([len(w) for w in words])
    return _span_hashes(points, np.cumsum(lengths) - lengths, lengths)


@cache
def _seeds(scheme: Scheme) -> np.ndarray:
    """One 64-bit seed per hash function, fixed by the scheme's seed (the same on every machine)."""
    rng = np.random.default_rng(scheme.seed)
    return rng.integers(0, np.iinfo(np.uint64).max, scheme.size, dtype=np.uint64, endpoint=True)


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: every output bit depends on every input bit (uint64 arithmetic wraps)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def minhash(hashes: np.ndarray, scheme: Scheme) -> np.ndarray | None:
    """The signature (``scheme.size`` uint32) of an item's distinct shingle hashes, or None when there are fewer
    than MIN_SHINGLES.

    Hash function i is mix(h(shingle) XOR seed_i), its top 32 bits kept. Not the textbook (a·x + b) mod p:
    with x and a below 2^32 that family barely wraps, so each row's minimum tends to be the shingle with the
    smallest x, rows agree together, and both the estimate (8% low at J = 0.18) and the band collision rate
    were off."""
    return minhash_many([hashes], scheme)[0]


def minhash_many(hash_sets: Sequence[np.ndarray], scheme: Scheme) -> list[np.ndarray | None]:
    """``minhash`` of each item's distinct shingle hashes, computed for all of them together.

    The hashes of a group of items are deduplicated across the group (``np.unique``; equal hashes mix alike,
    so the minima cannot change), and each distinct hash is mixed once with every seed. A batch's items share
    many shingles — a story's copies; the English scheme's stem pairs: 2,000 synthetic items have 394,000
    English shingles but 65,000 distinct ones — so that does a fraction of the mixing. An item's signature is
    then the minimum over its rows. The min of the top 32 bits is the top 32 bits of the min, so only those
    are kept (half the memory). Groups hold at most ``_OCCURRENCES`` shingles, which bounds the memory; a
    longer item is a group alone, its minimum taken chunk by chunk."""
    out: list[np.ndarray | None] = [None] * len(hash_sets)
    group: list[int] = []
    total = 0
    for i, hashes in enumerate(hash_sets):
        if len(hashes) < MIN_SHINGLES:
            continue
        if group and total + len(hashes) > _OCCURRENCES:
            _minhash_group(hash_sets, group, scheme, out)
            group, total = [], 0
        group.append(i)
        total += len(hashes)
    if group:
        _minhash_group(hash_sets, group, scheme, out)
    return out


# Shingles per group: the more items share a group, the more of their shingles are mixed once (English:
# 1,000 synthetic items in groups of 8,192 shingles take 2.8× as long as in groups of 131,072).
_OCCURRENCES = 131072
_MIXED_BYTES = 64 << 20  # a group whose distinct hashes would take more mixed is split in two
_ROWS = 256  # hashes mixed at once: the working arrays (≤ 0.8 MB) stay in the CPU cache


def _minhash_group(hash_sets: Sequence[np.ndarray], group: list[int], scheme: Scheme, out: list) -> None:
    hashes = np.concatenate([hash_sets[i] for i in group])
    _signatures(hashes, group, [len(hash_sets[i]) for i in group], scheme, out)


def _signatures(hashes: np.ndarray, group: list[int], lengths: list[int], scheme: Scheme, out: list) -> None:
    """The signatures of ``group``'s items, whose shingles' hashes are ``hashes`` (``lengths`` of each)."""
    if len(group) == 1:  # all its rows: no gather, a long text never held whole
        lowest = np.full(scheme.size, np.iinfo(np.uint32).max, dtype=np.uint32)
        for top in _mixed_top(hashes, scheme):
            np.minimum(lowest, top.min(axis=0), out=lowest)
        out[group[0]] = lowest
        return
    distinct, rows = np.unique(hashes, return_inverse=True)
    if len(distinct) * scheme.size * 4 > _MIXED_BYTES:
        half = len(group) // 2
        cut = sum(lengths[:half])
        _signatures(hashes[:cut], group[:half], lengths[:half], scheme, out)
        _signatures(hashes[cut:], group[half:], lengths[half:], scheme, out)
        return
    mixed = np.empty((len(distinct), scheme.size), dtype=np.uint32)
    start = 0
    for top in _mixed_top(distinct, scheme):
        mixed[start : start + len(top)] = top
        start += len(top)
    start = 0
    for i, length in zip(group, lengths):
        # One item's rows at a time: a few hundred KB, still in the cache when the min reads them.
        out[i] = mixed[rows[start : start + length]].min(axis=0)
        start += length


def _mixed_top(hashes: np.ndarray, scheme: Scheme) -> Iterator[np.ndarray]:
    """Top 32 bits of mix(hash XOR seed_i) for every hash and seed, ``_ROWS`` hashes at a time (rows: hashes,
    columns: seeds). In place, on two reused buffers: the expression form allocates a temporary per
    operation, and it is memory traffic, not arithmetic, that costs here."""
    seeds = _seeds(scheme)
    z = np.empty((_ROWS, scheme.size), dtype=np.uint64)
    t = np.empty_like(z)
    top = np.empty((_ROWS, scheme.size), dtype=np.uint32)
    for start in range(0, len(hashes), _ROWS):
        part = hashes[start : start + _ROWS]
        n = len(part)
        zz, tt = z[:n], t[:n]
        np.bitwise_xor(part[:, None], seeds[None, :], out=zz)
        np.right_shift(zz, _S30, out=tt)
        zz ^= tt
        zz *= _M1
        np.right_shift(zz, _S27, out=tt)
        zz ^= tt
        zz *= _M2
        np.right_shift(zz, _S31, out=tt)
        zz ^= tt
        np.right_shift(zz, _S32, out=tt)
        np.copyto(top[:n], tt, casting="unsafe")
        yield top[:n]


_S27, _S30, _S31, _S32 = (np.uint64(n) for n in (27, 30, 31, 32))
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def band_keys(signature: np.ndarray, scheme: Scheme, space: str) -> list[int]:
    """One signed 64-bit key per band (SQLite INTEGER): the band's values chained through ``_mix`` from a
    salt of the scheme, the ``space`` (keeps languages apart) and the band's number."""
    return band_keys_many(signature[None, :], scheme, [space])[0].tolist()


def band_keys_many(signatures: np.ndarray, scheme: Scheme, spaces: Sequence[str]) -> np.ndarray:
    """``band_keys`` of each row of ``signatures`` (n × ``scheme.size``) in its own space: n × bands int64."""
    values = np.asarray(signatures, dtype=np.uint32).astype(np.uint64).reshape(len(spaces), scheme.bands, scheme.rows)
    salts = np.array([_salt(scheme.name, space) for space in spaces], dtype=np.uint64)
    keys = salts[:, None] ^ (np.arange(scheme.bands, dtype=np.uint64) * _GOLDEN)[None, :]
    for row in range(scheme.rows):
        keys = _mix(keys ^ values[:, :, row])
    return keys.view(np.int64)


@cache
def _salt(name: str, space: str) -> np.uint64:
    return np.uint64(int.from_bytes(hashlib.blake2b(f"{name}:{space}".encode(), digest_size=8).digest(), "little"))


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity: the share of hashes on which two signatures agree."""
    return float(np.count_nonzero(a == b)) / len(a)


def to_blob(signature: np.ndarray | None) -> bytes | None:
    return None if signature is None else signature.astype("<u4").tobytes()


def from_blob(blob: bytes | None) -> np.ndarray | None:
    return None if blob is None else np.frombuffer(blob, dtype="<u4")
