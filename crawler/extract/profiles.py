"""langdetect's language profiles, loaded faster than langdetect loads them, into the same detector factory.

langdetect keeps, for each of its ~88,000 n-grams, a Python list of one probability per language, built by a
loop in Python over every profile's every n-gram: about 0.4 s of each extraction worker's start-up, at the
start of the crawl when the pages are waiting for the workers. Here the probabilities are computed with numpy
into one table (a row per n-gram, a column per language), and an n-gram's list is made from its row the first
time a text has it: the same numbers (float64, the same division), the same languages in the same order (the
order langdetect lists the profile directory in), so the same answers. tests/test_language.py compares the
whole table with langdetect's own. The lists made are kept: a worker that met every n-gram would hold what
langdetect's loader holds, plus the table's 39 MB; a crawl of a few languages meets a small part of them.
"""

from __future__ import annotations

import itertools
import json
import os
from os import path
from typing import TYPE_CHECKING

from langdetect import detector_factory

if TYPE_CHECKING:
    import numpy as np

N_GRAM = 3  # langdetect's n-grams are 1 to 3 characters; its loader gives longer keys no probability


class WordProbabilities:
    """What langdetect's detector reads as ``word_lang_prob_map``: ``word in map`` and ``map[word]`` (a list)."""

    def __init__(self, rows: dict[str, int], table: np.ndarray):
        self._rows, self._table = rows, table
        self._lists: dict[str, list[float]] = {}

    def __contains__(self, word: object) -> bool:
        return word in self._rows

    def __getitem__(self, word: str) -> list[float]:
        probabilities = self._lists.get(word)
        if probabilities is None:
            probabilities = self._lists[word] = self._table[self._rows[word]].tolist()
        return probabilities

    def __len__(self) -> int:
        return len(self._rows)


def load_factory(directory: str = detector_factory.PROFILES_DIRECTORY) -> detector_factory.DetectorFactory:
    """A detector factory holding the profiles of ``directory``, as ``DetectorFactory.load_profile`` makes it."""
    import numpy as np  # here: the crawl's own process imports this module, and needs no table once workers read

    files = [path.join(directory, name) for name in os.listdir(directory) if not name.startswith(".")]
    profiles = [_read(filename) for filename in files if path.isfile(filename)]
    words = dict.fromkeys(itertools.chain.from_iterable(p["freq"] for p in profiles))
    rows = dict(zip(words, range(len(words))))
    table = np.zeros((len(rows), len(profiles)))
    for column, profile in enumerate(profiles):
        freq = profile["freq"]
        lengths = np.fromiter(map(len, freq), np.intp, len(freq))
        counted = (lengths >= 1) & (lengths <= N_GRAM)
        counts = np.fromiter(freq.values(), np.float64, len(freq))
        at = np.fromiter(map(rows.__getitem__, freq), np.intp, len(freq))
        n_words = np.asarray(profile["n_words"], dtype=np.float64)
        table[at[counted], column] = counts[counted] / n_words[lengths[counted] - 1]
    factory = detector_factory.DetectorFactory()
    factory.langlist = [p["name"] for p in profiles]
    factory.word_lang_prob_map = WordProbabilities(rows, table)
    return factory


def _read(filename: str) -> dict:
    with open(filename, encoding="utf-8") as fh:
        return json.load(fh)


def ensure_loaded() -> None:
    """Load the profiles into langdetect's own factory, unless loaded: ``detect_langs`` then finds them there."""
    if detector_factory._factory is None:
        detector_factory._factory = load_factory()


def unload() -> None:
    """Drop the profiles (the 39 MB table and the lists made from it); the next detection loads them
    again. For a process done detecting that is about to wait beside a larger one."""
    detector_factory._factory = None
