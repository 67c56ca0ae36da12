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

Hashing is seeded and stable across processes and machines (BLAKE2b of the shingle, then a fixed family of
mixing functions), never Python's ``hash()``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import numpy as np

# Fewer shingles than this (a line or two of text) says too little to call anything a copy of it.
MIN_SHINGLES = 8
_CHUNK = 4096                   # shingles hashed at once (bounds memory on very long transcripts)

_WORD = re.compile(r"\w+")
_LETTERS = re.compile(r"[^\W\d_]+|\d+(?:[.,]\d+)?")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
STOP_WORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below between
both but by can could did do does doing down during each either few for from further had has have having he her
here hers him his how i if in into is it its itself just may me might more most must my no nor not now of off on
once only or other our ours out over own said same says shall she should so some such than that the their them
then there these they this those through to too under until up upon very was we were what when where which while
who whom whose why will with would you your
""".split())


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

    def candidate_probability(self, jaccard: float) -> float:
        return 1 - (1 - jaccard ** self.rows) ** self.bands


# 42 bands of 3: a pair at J = 0.4 is a candidate with probability 0.93, at 0.5 with 0.996, at 0.05 with 0.005.
ORIGINAL = Scheme("original", bands=42, rows=3, seed=20240424)
# 192 bands of 2: at J = 0.1 0.85, at 0.12 0.94, at 0.15 0.99; two unrelated articles (J ≈ 0.003) 0.002.
ENGLISH = Scheme("english", bands=192, rows=2, seed=20200827)


def normalize(text: str) -> str:
    """NFKC (full-width letters and digits as ASCII), case folded, ё as е (Russian copies differ in it)."""
    return unicodedata.normalize("NFKC", text or "").casefold().replace("ё", "е")


def is_cjk(text: str) -> bool:
    """Mostly Han/kana/hangul: shingle by characters, as Chinese has no spaces between words."""
    letters = sum(1 for ch in text[:4000] if ch.isalpha())
    return letters > 0 and len(_CJK.findall(text[:4000])) / letters >= 0.3


def original_shingles(text: str) -> set[str]:
    """Character 4-grams of CJK text (letters and digits only), word 3-grams of any other text."""
    text = normalize(text)
    if is_cjk(text):
        chars = "".join(_WORD.findall(text))
        return {chars[i:i + 4] for i in range(len(chars) - 3)}
    words = _WORD.findall(text)
    return {" ".join(words[i:i + 3]) for i in range(len(words) - 2)}


def english_shingles(text: str) -> set[str]:
    """Order-free pairs of content-word stems within a window of three (see the module docstring)."""
    stems = [w[:5] for w in _LETTERS.findall(normalize(text)) if len(w) > 1 and w not in STOP_WORDS]
    out = set()
    for i, stem in enumerate(stems):
        for other in stems[i + 1:i + 3]:
            out.add(f"{stem} {other}" if stem <= other else f"{other} {stem}")
    return out


@cache
def _seeds(scheme: Scheme) -> np.ndarray:
    """One 64-bit seed per hash function, fixed by the scheme's seed (the same on every machine)."""
    rng = np.random.default_rng(scheme.seed)
    return rng.integers(0, np.iinfo(np.uint64).max, scheme.size, dtype=np.uint64, endpoint=True)[:, None]


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: every output bit depends on every input bit (uint64 arithmetic wraps)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def shingle_hashes(shingles: set[str]) -> np.ndarray:
    return np.fromiter((int.from_bytes(hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest(), "little")
                        for s in shingles), dtype=np.uint64, count=len(shingles))


def minhash(shingles: set[str], scheme: Scheme) -> np.ndarray | None:
    """The signature (``scheme.size`` uint32), or None when there are fewer than MIN_SHINGLES shingles.

    Hash function i is mix(h(shingle) XOR seed_i). Not the textbook (a·x + b) mod p: with x and a below
    2^32 that family barely wraps, so each row's minimum tends to be the shingle with the smallest x, rows
    agree together, and both the estimate (8% low at J = 0.18) and the band collision rate were off."""
    if len(shingles) < MIN_SHINGLES:
        return None
    seeds = _seeds(scheme)
    values = shingle_hashes(shingles)
    lowest = np.full(scheme.size, np.iinfo(np.uint64).max, dtype=np.uint64)
    for start in range(0, len(values), _CHUNK):
        np.minimum(lowest, _mix(values[None, start:start + _CHUNK] ^ seeds).min(axis=1), out=lowest)
    return (lowest >> np.uint64(32)).astype(np.uint32)


def band_keys(signature: np.ndarray, scheme: Scheme, space: str) -> list[int]:
    """One signed 64-bit key per band (SQLite INTEGER): the band's values chained through ``_mix`` from a
    salt of the scheme, the ``space`` (keeps languages apart) and the band's number."""
    values = signature.astype(np.uint64).reshape(scheme.bands, scheme.rows)
    keys = _salt(scheme.name, space) ^ (np.arange(scheme.bands, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    for row in range(scheme.rows):
        keys = _mix(keys ^ values[:, row])
    return keys.view(np.int64).tolist()


@cache
def _salt(name: str, space: str) -> np.uint64:
    return np.uint64(int.from_bytes(hashlib.blake2b(f"{name}:{space}".encode("utf-8"), digest_size=8).digest(),
                                    "little"))


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity: the share of hashes on which two signatures agree."""
    return float(np.count_nonzero(a == b)) / len(a)


def to_blob(signature: np.ndarray | None) -> bytes | None:
    return None if signature is None else signature.astype("<u4").tobytes()


def from_blob(blob: bytes | None) -> np.ndarray | None:
    return None if blob is None else np.frombuffer(blob, dtype="<u4")
