"""Fingerprints of an item's text: its shingles' hashes (``crawler.stories.shingles``) → MinHash signature → LSH
band keys. Pure functions, no I/O.

Two schemes, because a copy in the same language and a translation differ in different ways (their shingles:
``shingles``): ``ORIGINAL`` compares an item with items of its own language, on its original text;
``ENGLISH`` compares items across languages through English (``text_en`` of a translated item, ``text`` of an
English one). Hashing is seeded and stable across processes and machines, never Python's ``hash()``; its
definition, in plain Python, is tests/test_stories.py's reference.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from crawler.stories.shingles import mix

# Fewer shingles than this (a line or two of text) says too little to call anything a copy of it.
MIN_SHINGLES = 8


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


@cache
def _seeds(scheme: Scheme) -> np.ndarray:
    """One 64-bit seed per hash function, fixed by the scheme's seed (the same on every machine)."""
    rng = np.random.default_rng(scheme.seed)
    return rng.integers(0, np.iinfo(np.uint64).max, scheme.size, dtype=np.uint64, endpoint=True)


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
    """One signed 64-bit key per band (SQLite INTEGER): the band's values chained through ``mix`` from a
    salt of the scheme, the ``space`` (keeps languages apart) and the band's number."""
    return band_keys_many(signature[None, :], scheme, [space])[0].tolist()


def band_keys_many(signatures: np.ndarray, scheme: Scheme, spaces: Sequence[str]) -> np.ndarray:
    """``band_keys`` of each row of ``signatures`` (n × ``scheme.size``) in its own space: n × bands int64."""
    values = np.asarray(signatures, dtype=np.uint32).astype(np.uint64).reshape(len(spaces), scheme.bands, scheme.rows)
    salts = np.array([_salt(scheme.name, space) for space in spaces], dtype=np.uint64)
    keys = salts[:, None] ^ (np.arange(scheme.bands, dtype=np.uint64) * _GOLDEN)[None, :]
    for row in range(scheme.rows):
        keys = mix(keys ^ values[:, :, row])
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
