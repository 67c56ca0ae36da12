"""Wire-copy datelines: where and on which day a story was filed, as its first words say.

Xinhua and People's Daily open with 新华社符拉迪沃斯托克9月8日电 / 本报莫斯科9月8日电, TASS with «МОСКВА, 8 сентября.
/ТАСС/.» or "MOSCOW, September 8. /TASS/.", Xinhua's English service with "BEIJING, Sept. 8 (Xinhua) --". A
dateline has no year: it is the year that puts the day closest before the publication date (a dateline of
31 December on a page published on 2 January is of the year before). Pure functions, no I/O.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

# A wire story is never filed after it is published; a day of slack covers time zones (a Moscow
# dateline on a page whose timestamp is Beijing's next morning).
AHEAD = timedelta(days=1)
# The words read for a dateline: the first paragraphs, then the start of each.
PARAGRAPHS_READ = 2
HEAD_CHARS = 160

_ZH_AGENCY = "新华社|本报|人民网|人民日报|中新社|中新网|央视网|央广网|国际在线|环球网|光明网|中国日报网"
ZH = re.compile(
    rf"^[【\[（(]?\s*(?:{_ZH_AGENCY})(?:记者)?\s*(?P<place>[\u4e00-\u9fff·]{{1,16}}?)\s*"
    r"(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*日\s*(?:电|讯|消息)"
)

RU_MONTHS = {
    "янв": 1,
    "фев": 2,
    "мар": 3,
    "апр": 4,
    "ма": 5,
    "июн": 6,
    "июл": 7,
    "авг": 8,
    "сен": 9,
    "окт": 10,
    "ноя": 11,
    "дек": 12,
}
_RU_MONTH = r"(?:янв|фев|мар|апр|ма[йя]|июн|июл|авг|сен|окт|ноя|дек)[а-я]*\.?"
# «МОСКВА, 8 сентября. /ТАСС/.», «ВЛАДИВОСТОК, 5 сентября. /Корр. ТАСС Иван Петров/.», «МОСКВА, 8 сен — РИА Новости»
RU = re.compile(
    rf"^(?P<place>[А-ЯЁ][А-ЯЁ\- ]{{1,40}}?)\s*,\s*(?P<day>\d{{1,2}})\s+(?P<month>{_RU_MONTH})"
    r"(?:\s+\d{4}(?:\s*г(?:ода|\.)?)?)?\s*(?:\.\s*/[^/]{1,80}/|[—–-]\s*\w)"
)

EN_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_EN_MONTH = (
    r"(?:Jan(?:uary|\.)?|Feb(?:ruary|\.)?|Mar(?:ch|\.)?|Apr(?:il|\.)?|May|June?|July?|Aug(?:ust|\.)?|"
    r"Sep(?:t(?:ember|\.)?|\.)?|Oct(?:ober|\.)?|Nov(?:ember|\.)?|Dec(?:ember|\.)?)"
)
# "MOSCOW, September 8. /TASS/.", "BEIJING, Sept. 8 (Xinhua) --", "UNITED NATIONS, Sept 8 (Reuters) -"
EN = re.compile(
    rf"^(?P<place>[A-Z][A-Z.'\- ]{{1,40}}?)(?:,\s*[A-Z][a-zA-Z.]+)?\s*,\s*(?P<month>{_EN_MONTH})\s*"
    r"(?P<day>\d{1,2})(?:\s*,\s*\d{4})?\s*(?:\.\s*/[^/]{1,80}/|\([A-Za-z .]{2,30}\)\s*[—–-]|[—–-]{1,2}\s)"
)


def find_dateline(paragraphs: list[str], published_at: str | None) -> dict | None:
    """``{place, date, raw, lag_days}`` of the dateline the article opens with, or None. ``date`` is ISO
    (None without a publication date to take the year from); ``lag_days`` = publication day − dateline day
    (None likewise), the publication day as the page states it (its own time zone)."""
    for paragraph in paragraphs[:PARAGRAPHS_READ]:
        found = _match(paragraph.strip()[:HEAD_CHARS])
        if found is not None:
            place, month, day, raw = found
            published = publication_day(published_at)
            filed = dated(month, day, published) if published else None
            lag = (published - filed).days if filed and published else None
            return {"place": place, "date": filed.isoformat() if filed else None, "raw": raw, "lag_days": lag}
    return None


def _match(head: str) -> tuple[str, int, int, str] | None:
    """(place, month, day, the dateline as printed) of the first pattern that reads ``head``."""
    if m := ZH.match(head):
        return m["place"], int(m["month"]), int(m["day"]), m.group(0).lstrip("【[（(").strip()
    for pattern, months in ((RU, RU_MONTHS), (EN, EN_MONTHS)):
        if m := pattern.match(head):
            month = month_number(m["month"], months)
            raw = head[: _date_end(m)] + _tail(head, m)
            return place_name(m["place"]), month, int(m["day"]), raw.strip()
    return None


def _date_end(m: re.Match) -> int:
    return max(m.end("day"), m.end("month"))


def _tail(head: str, m: re.Match) -> str:
    """The agency slug after the date (". /TASS/", " (Xinhua)"): part of the dateline as printed."""
    rest = head[_date_end(m) : m.end()]
    slug = re.match(r"(?:\s*,\s*\d{4})?\s*(?:\.\s*/[^/]+/|\([^)]*\))?", rest)
    return slug.group(0) if slug else ""


def month_number(word: str, months: dict[str, int]) -> int:
    """The month of a Russian or English month word (the longest stem it starts with)."""
    word = word.lower().rstrip(".")
    return max(((len(stem), n) for stem, n in months.items() if word.startswith(stem)), default=(0, 0))[1]


def place_name(printed: str) -> str:
    """ "ВЛАДИВОСТОК" → "Владивосток", "UNITED NATIONS" → "United Nations": capitals are the wire's style."""
    printed = " ".join(printed.split())
    return printed.title() if printed.isupper() else printed


def publication_day(published_at: str | None) -> date | None:
    """The calendar day of an ISO date or datetime, as written (in the publisher's own time zone)."""
    if not published_at:
        return None
    try:
        return date.fromisoformat(published_at[:10])
    except ValueError:
        return None


def dated(month: int, day: int, published: date) -> date | None:
    """The day ``month``/``day`` of the year that puts it closest before ``published`` (at most ``AHEAD``
    after it); None for an impossible day (a 31 September)."""
    candidates = []
    for year in (published.year - 1, published.year, published.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    before = [d for d in candidates if d <= published + AHEAD]
    return max(before) if before else None
