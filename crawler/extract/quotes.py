"""Quotes: the transcript turns where phrases occur, each with the question it answers. Pure, no I/O.

Phrases are read by ``crawler.phrases`` (the syntax of watch phrases: "Путин*", "Chinese cars", "习近平") and
searched in each turn's words (not its label) and in their English; the question is the nearest earlier turn
by another speaker (``crawler.extract.speakers.previous_speaker_turn``).
"""

from __future__ import annotations

from dataclasses import dataclass

from crawler.extract.speakers import Turn, previous_speaker_turn, speaker_matches, turns_of
from crawler.phrases import Phrase, parse


@dataclass(frozen=True)
class Quote:
    item: dict
    turn: Turn
    question: Turn | None
    phrases: tuple[str, ...]  # the phrases found, as written
    fields: tuple[str, ...]  # "text" (the original words), "text_en" (their English)

    @property
    def day(self) -> str:
        return item_day(self.item)

    def matching_paragraphs(self) -> list[int]:
        """Indices of the turn's paragraphs where a phrase occurs (original or English), all when none does."""
        parsed = [parse(p) for p in self.phrases]
        english = self.turn.paragraphs_en
        found = [
            i
            for i, text in enumerate(self.turn.paragraphs)
            if _any(parsed, text) or (i < len(english) and _any(parsed, english[i]))
        ]
        return found or list(range(len(self.turn.paragraphs)))


def item_day(item: dict) -> str:
    """The day a transcript is dated: its publication, else its fetch."""
    return (item.get("published_at") or item.get("fetched_at") or "")[:10]


def _any(phrases: list[Phrase], text: str | None) -> bool:
    return bool(text) and any(p.search(text) for p in phrases if text)


def quotes_in(item: dict, phrases: list[str], speakers: list[str] | tuple[str, ...] = ()) -> list[Quote]:
    """Every turn of ``item`` (by one of ``speakers``, when given) where any of ``phrases`` occurs."""
    parsed = [parse(p) for p in phrases]
    turns = turns_of(item)
    out = []
    for turn in turns:
        if speakers and not any(speaker_matches(s, turn.speaker) for s in speakers):
            continue
        found = tuple(p.text for p in parsed if _any([p], turn.text) or _any([p], turn.text_en))
        if not found:
            continue
        fields = tuple(
            f
            for f, text in (("text", turn.text), ("text_en", turn.text_en))
            if text and _any(parsed, text) and not (f == "text_en" and item.get("lang") == "en")
        )
        out.append(Quote(item, turn, previous_speaker_turn(turns, turn), found, fields))
    return out
