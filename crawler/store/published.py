"""``published_at`` in one stored form, so that every reader (day files, export, pandas) parses one format.

Pages give a date alone (``2012-06-04``) or a moment with the site's UTC offset (``2016-09-29T15:10:00+03:00``),
sometimes without an offset or with fractions of a second. The item store keeps every one as

    published_at         YYYY-MM-DDTHH:MM:SS±HH:MM   the site's own offset (its [:10] is the day as published);
                                                     no offset given: UTC; a date alone: T00:00:00+00:00
    published_precision  "time" | "date"            "date": only the day was known (the time is not real)

so ``published_at[:10]`` stays the publication day everywhere it is read, and the precision says whether the
time means anything. An item without a date keeps ``published_at`` null and has no precision; a value that
is not a date at all (from an older import) is kept as it was, without precision. Pure functions.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

DATE, TIME = "date", "time"
_STORED = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")


def published_form(value: object) -> tuple[str | None, str | None] | None:
    """``(published_at, precision)`` in the stored form; None when ``value`` is no date (kept as it is)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return f"{date.fromisoformat(text).isoformat()}T00:00:00+00:00", DATE
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    stamp = moment.replace(microsecond=0).isoformat()
    return (stamp, TIME) if _STORED.match(stamp) else None  # an offset with seconds: not one of ours


def normalised(item: dict) -> dict:
    """``item`` with ``published_at`` in the stored form and ``published_precision`` right after it (a new
    dict; ``item`` itself when it is in that form already)."""
    value, precision = item.get("published_at"), item.get("published_precision")
    if isinstance(value, str) and _STORED.match(value) and precision in (DATE, TIME):
        return item  # stored before (a date alone stays a date)
    form = published_form(value)
    if form is None:
        return item
    stamp, precision = form
    if stamp == value and precision == item.get("published_precision"):
        return item  # no date
    out: dict = {}
    for key, old in item.items():
        if key == "published_precision":
            continue
        out[key] = stamp if key == "published_at" else old
        if key == "published_at" and precision:
            out["published_precision"] = precision
    return out
