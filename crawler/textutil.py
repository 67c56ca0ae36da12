"""Small text helpers shared by the generic extractor and the site parsers."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

_SPACES = re.compile(r"[\s\u00a0\u3000\u200b\ufeff]+")
# A publication date this far ahead of "now" is a parsing accident (or an event date), not a date.
FUTURE_SLACK = timedelta(days=1)


def clean_text(text: str | None) -> str:
    """Collapse whitespace, including &nbsp; and the ideographic space Chinese pages indent with."""
    return _SPACES.sub(" ", text or "").strip()


def element_text(el) -> str:
    return clean_text(" ".join(el.itertext())) if el is not None else ""


def split_authors(value: str | None) -> list[str]:
    if not value:
        return []
    return [a for a in (clean_text(x) for x in re.split(r"[;；、]|\band\b", value)) if a]


def iso_date_or_none(value: str | None, now: datetime | None = None) -> str | None:
    """Normalise a date/datetime string to ISO-8601; None if unparseable or in the future."""
    if not value:
        return None
    parsed = _parse_iso(value.strip())
    if parsed is None:
        return None
    now = now or datetime.now(timezone.utc)
    if isinstance(parsed, datetime):
        moment = parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
        if moment > now + FUTURE_SLACK:
            return None
        return parsed.isoformat()
    if parsed > (now + FUTURE_SLACK).date():
        return None
    return parsed.isoformat()


def _parse_iso(value: str) -> date | datetime | None:
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
