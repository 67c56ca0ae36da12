"""Per-item flags: what an analyst should know about one item before quoting it. Pure functions, no I/O.

An item's top-level ``flags`` list (absent when empty) holds, in this order:
- ``dateline_lag``: published ``[analysis] dateline_lag_days`` or more days after its dateline
  (``extras.dateline``, crawler/extract/dateline.py) — held back, often to appear beside other coverage;
- ``off_subject``: in a section with a ``subject``, an item whose original and English title and text
  mention none of its phrases (the same matching as the section's ``section_off_subject`` judgement).
Flags other features may add are kept as they are.
"""

from __future__ import annotations

from crawler.exceptions import NewsmonError
from crawler.items import section_key
from crawler.lifecycle.subject import matcher_of, phrases_in_words
from crawler.watch.matcher import Texts

DATELINE_LAG, OFF_SUBJECT = "dateline_lag", "off_subject"
OURS = (DATELINE_LAG, OFF_SUBJECT)


def subjects_of(config) -> dict[str, tuple[str, ...]]:
    """Section key → its subject phrases, for the sections of ``config`` that have one."""
    return {s.key: tuple(s.subject) for s in config.sections if s.subject}


def held_days(item: dict) -> int | None:
    """Days between the item's dateline and its publication (None without both)."""
    dateline = (item.get("extras") or {}).get("dateline")
    lag = dateline.get("lag_days") if isinstance(dateline, dict) else None
    return lag if isinstance(lag, int) and not isinstance(lag, bool) else None


def mentions(item: dict, subject: tuple[str, ...]) -> bool:
    return matcher_of(subject).match(Texts(item)) is not None


def flags_of(item: dict, subject: tuple[str, ...], lag_days_min: int) -> list[str]:
    """The item's flags as they should be now: ours recomputed, any other kept."""
    ours = []
    lag = held_days(item)
    if lag is not None and lag >= lag_days_min:
        ours.append(DATELINE_LAG)
    if subject and not mentions(item, subject):
        ours.append(OFF_SUBJECT)
    others = [f for f in item.get("flags") or [] if f not in OURS]
    return ours + others


def held_words(item: dict) -> str:
    """'HELD 3 DAYS': the digest's flag of a held item."""
    lag = held_days(item) or 0
    return f"HELD {lag} DAY{'S' if lag != 1 else ''}"


def dateline_words(item: dict) -> str:
    """'datelined Vladivostok 2025-09-08 (新华社符拉迪沃斯托克9月8日电), published 2025-09-11'."""
    dateline = (item.get("extras") or {}).get("dateline") or {}
    published = (item.get("published_at") or "")[:10]
    return f"datelined {dateline.get('place')} {dateline.get('date')} ({dateline.get('raw')}), published {published}"


def off_subject_words(section_name: str, subject: tuple[str, ...]) -> str:
    """'in Russia section, no mention of 俄罗斯, 俄, Russia*, …'."""
    return f"in {section_name} section, no mention of {phrases_in_words(tuple(subject))}"


def digest_flags(item: dict) -> list[str]:
    """The digest's words for the item's flags: "HELD 3 DAYS", "OFF-SUBJECT"."""
    flags = item.get("flags") or []
    return ([held_words(item)] if DATELINE_LAG in flags else []) + (["OFF-SUBJECT"] if OFF_SUBJECT in flags else [])


def notes_of(item: dict, section_name: str | None, subject: tuple[str, ...]) -> list[str]:
    """What the flags mean for this item, in words, shown under its title."""
    flags, notes = item.get("flags") or [], []
    if DATELINE_LAG in flags:
        notes.append(f"{held_words(item)}: {dateline_words(item)}")
    if OFF_SUBJECT in flags:
        name = section_name or section_key(item)
        notes.append(off_subject_words(name, subject) if subject else f"in {name} section, off its subject")
    return notes


def check_flag(flag: str) -> None:
    """A flag newsmon sets, else ``NewsmonError`` naming the ones it knows."""
    if flag not in OURS:
        raise NewsmonError(f"--flag {flag!r}: not a flag newsmon sets (known: {', '.join(OURS)})")
