"""Who said it: one name per transcript speaker, whatever label the page printed.

A transcript labels one person several ways ("President of Russia Vladimir Putin", "Vladimir Putin",
"Vladimir PUTIN", "В.Путин") and misspells some ("Fydor Lukyanov"). ``name_turns`` gives every turn
``speaker`` (the one name) beside ``speaker_label`` (as printed): from the speakers list shipped beside the
glossary (``crawler/translation/speakers.toml``, which describes the matching rules), else from the page's own
labels. ``turns_of`` reads an item's turns with their English (the translated paragraphs they came from).
Pure functions over strings and item dicts, no I/O but reading the shipped list once.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SEPARATORS = re.compile(r"[\s.,·•]+")
_YO = str.maketrans("ёЁ", "еЕ")
LABEL_CHARS = 120  # the English label of a turn's first paragraph ends before this


# ---------------------------------------------------------------- reading a label


def tokens(label: str) -> tuple[str, ...]:
    """The label's words, case folded, ё as е, split on spaces, dots and commas ("В.Путин" → в, путин)."""
    folded = unicodedata.normalize("NFC", label).translate(_YO).casefold()
    return tuple(t for t in _SEPARATORS.split(folded) if t)


def distance(a: str, b: str, bound: int) -> int:
    """Edits (insert, delete, replace, swap two neighbours) from ``a`` to ``b``, or ``bound + 1`` as soon as it
    must exceed ``bound``."""
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    before, previous = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if before is not None and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        if min(current) > bound:
            return bound + 1
        before, previous = previous, current
    return previous[-1]


def words_close(label: tuple[str, ...], name: tuple[str, ...]) -> bool:
    """The same name with at most a small typo: an initial stands for its word, a word of four letters or more
    may differ by one edit, the whole name by one (two when it has twelve letters or more)."""
    if len(label) != len(name):
        return False
    allowed = 2 if sum(map(len, name)) >= 12 else 1
    spent = 0
    for written, word in zip(label, name):
        if written == word or (len(written) == 1 and word.startswith(written)):
            continue
        if min(len(written), len(word)) < 4:
            return False
        edits = distance(written, word, 1)
        spent += edits
        if edits > 1 or spent > allowed:
            return False
    return True


def _has_initials(words: tuple[str, ...]) -> bool:
    return any(len(w) == 1 and not _CJK.match(w) for w in words)


def display(label: str) -> str:
    """The label as a name is written: words printed in capitals get only their first letter ("PUTIN")."""
    return " ".join(w.capitalize() if len(w) > 1 and w.isupper() else w for w in label.split())


# ---------------------------------------------------------------- the shipped list


@dataclass(frozen=True)
class SpeakerList:
    full: tuple[tuple[tuple[str, ...], str], ...]  # (words of a full name, the speaker's name)
    surnames: dict[str, str]  # one-word form → the speaker's name
    chinese: tuple[tuple[str, str], ...]  # (Chinese form, the speaker's name)
    titles: frozenset[str]

    def lookup(self, label: str) -> str | None:
        """The listed name the label stands for, or None."""
        words = tokens(label)
        if not words:
            return None
        joined = "".join(words)
        for chinese, name in self.chinese:
            if joined.endswith(chinese):
                return name
        for exact in (True, False):  # an exact full name before a near one
            for form, name in self.full:
                tail = words[-len(form) :]
                if len(words) >= len(form) and (tail == form if exact else words_close(tail, form)):
                    return name
        surname = self.surnames.get(words[-1])
        if surname and all(w in self.titles or len(w) == 1 for w in words[:-1]):
            return surname
        return None


def parse_list(text: str) -> SpeakerList:
    data = tomllib.loads(text)
    full, surnames, chinese = [], {}, []
    for entry in data.get("speaker", []):
        name = entry["name"]
        for form in [name, *entry.get("forms", [])]:
            words = tokens(form)
            if _CJK.search(form):
                chinese.append(("".join(words), name))
            elif len(words) == 1:
                surnames[words[0]] = name
            elif words:
                full.append((words, name))
    full.sort(key=lambda pair: -len(pair[0]))  # the longest form first: "… Владимирович Путин"
    chinese.sort(key=lambda pair: -len(pair[0]))
    titles = frozenset(w for title in data.get("titles", []) for w in tokens(title))
    return SpeakerList(tuple(full), surnames, tuple(chinese), titles)


@lru_cache(maxsize=1)
def shipped() -> SpeakerList:
    return parse_list(resources.files("crawler.translation").joinpath("speakers.toml").read_text(encoding="utf-8"))


def listed_name(name: str) -> str:
    """A name as the list spells it ("Путин" → "Vladimir Putin"); an unlisted one as written."""
    return shipped().lookup(name) or " ".join(name.split())


# ---------------------------------------------------------------- naming a page's turns


def page_names(labels: list[str], speakers: SpeakerList | None = None) -> dict[str, str]:
    """label → speaker name for every label of one page (``labels`` in page order, repeats counted)."""
    speakers = speakers or shipped()
    counts = Counter(labels)
    order = list(counts)
    words = {label: tokens(label) for label in order}
    names: dict[str, str] = {}
    for label in order:
        listed = speakers.lookup(label)
        if listed:
            names[label] = listed
    unlisted = [label for label in order if label not in names and words[label]]
    for label in unlisted:
        names[label] = _page_name(label, unlisted, words, counts, names)
    for label in order:
        names.setdefault(label, display(label))
    return names


def _page_name(label, unlisted, words, counts, names) -> str:
    """A surname: the first full label ending with it. A longer label: the shortest label it ends with (the
    name after the title); among spellings of one name, the one printed most often, whole words first."""
    own = words[label]
    if len(own) == 1:
        for other in unlisted:
            if len(words[other]) > 1 and words_close(words[other][-1:], own):
                return names.get(other) or _page_name(other, unlisted, words, counts, names)
        return display(label)
    shorter = [o for o in unlisted if 1 < len(words[o]) < len(own) and words_close(own[-len(words[o]) :], words[o])]
    if shorter:
        best = min(shorter, key=lambda o: (len(words[o]), unlisted.index(o)))
        return _page_name(best, unlisted, words, counts, names)
    same = [o for o in unlisted if words_close(own, words[o]) or words_close(words[o], own)]
    best = min(same, key=lambda o: (_has_initials(words[o]), -counts[o], unlisted.index(o)))
    return display(best)


def name_turns(turns: list[dict], speakers: SpeakerList | None = None) -> list[dict]:
    """``turns`` ([{speaker: label as printed, text}]) as [{speaker, speaker_label, text}]."""
    names = page_names([t["speaker"] for t in turns], speakers)
    return [{"speaker": names[t["speaker"]], "speaker_label": t["speaker"], "text": t["text"]} for t in turns]


# ---------------------------------------------------------------- an item's turns, with their English


@dataclass(frozen=True)
class Turn:
    index: int  # its place among the item's turns
    speaker: str
    label: str
    text: str
    text_en: str | None  # the English: the text itself on an English page, else its translation
    start: int | None  # the item paragraph it opens (``paragraphs[start]``), None when not found

    @property
    def paragraphs(self) -> list[str]:
        return self.text.split("\n\n")

    @property
    def paragraphs_en(self) -> list[str]:
        return self.text_en.split("\n\n") if self.text_en else []


def turns_of(item: dict) -> list[Turn]:
    """The item's transcript turns, named (items stored before turns were named are named here), each with
    its place among the item's paragraphs and its English."""
    raw = (item.get("extras") or {}).get("turns") or []
    if raw and any("speaker_label" not in t for t in raw):
        raw = name_turns(
            [{"speaker": t.get("speaker_label") or t.get("speaker") or "", "text": t.get("text") or ""} for t in raw]
        )
    paragraphs = item.get("paragraphs") or []
    translated = item.get("paragraphs_en") or []
    english_kept = item.get("lang") != "en" and len(translated) == len(paragraphs)
    turns, cursor = [], 0
    for i, t in enumerate(raw):
        chunks = t["text"].split("\n\n")
        start = _span_start(paragraphs, chunks, cursor)
        if start is not None:
            cursor = start + len(chunks)
        if item.get("lang") == "en":
            english = t["text"]
        elif english_kept and start is not None:
            english = _english(paragraphs, translated, start, chunks)
        else:
            english = None
        turns.append(Turn(i, t["speaker"], t["speaker_label"], t["text"], english, start))
    return turns


def _span_start(paragraphs: list[str], chunks: list[str], cursor: int) -> int | None:
    """The index of a turn's first paragraph among the item's (searched from ``cursor``): the paragraph ends
    with the turn's first chunk (it opens with the label), the next ones are its other chunks."""
    for i in range(cursor, len(paragraphs) - len(chunks) + 1):
        if paragraphs[i].endswith(chunks[0]) and paragraphs[i + 1 : i + len(chunks)] == chunks[1:]:
            return i
    return None


def _english(paragraphs: list[str], translated: list[str], start: int, chunks: list[str]) -> str | None:
    first = translated[start]
    if paragraphs[start] != chunks[0]:  # the original opens with the label: so does the English
        colon = first.find(":", 0, LABEL_CHARS)
        first = first[colon + 1 :].strip() if colon >= 0 else first
    return "\n\n".join([first, *translated[start + 1 : start + len(chunks)]]).strip() or None


def previous_speaker_turn(turns: list[Turn], turn: Turn) -> Turn | None:
    """The turn ``turn`` answers: the nearest one before it by another speaker."""
    for earlier in reversed(turns[: turn.index]):
        if earlier.speaker != turn.speaker:
            return earlier
    return None


def speaker_matches(wanted: str, speaker: str) -> bool:
    """``wanted`` (as a user writes it: "Putin", "Путин", "Ilya Doronov", "doronov") names ``speaker``."""
    words = tokens(wanted)
    if not words:
        return False
    return listed_name(wanted).casefold() == speaker.casefold() or tokens(speaker)[-len(words) :] == words


def within_speakers(item: dict, names: tuple[str, ...]) -> dict:
    """``item`` as a watch limited to ``names`` sees it: only the words of their turns (labels left out), no
    title; paragraphs outside their turns are blanked, so paragraph indices stay the item's."""
    chosen = [t for t in turns_of(item) if any(speaker_matches(n, t.speaker) for n in names)]
    count = len(item.get("paragraphs") or []) if chosen else 0  # most items: no transcript, nothing to lay out
    paragraphs, english = [""] * count, [""] * count
    for turn in chosen:
        if turn.start is None:
            continue
        for offset, chunk in enumerate(turn.paragraphs):
            paragraphs[turn.start + offset] = chunk
        for offset, chunk in enumerate(turn.paragraphs_en[: len(turn.paragraphs)]):
            english[turn.start + offset] = chunk
    view = {k: item.get(k) for k in ("id", "source", "section", "section_key", "lang")}
    view.update(
        {
            "text": "\n\n".join(t.text for t in chosen),
            "paragraphs": paragraphs,
            "text_en": "\n\n".join(t.text_en for t in chosen if t.text_en) if item.get("lang") != "en" else None,
            "paragraphs_en": english if item.get("lang") != "en" else None,
        }
    )
    return view
