"""Choosing how a fetched page is decoded, on top of Scrapy's own choice.

Scrapy (w3lib) decodes by HTTP header, then BOM, then the page's declared charset, and maps gb2312/gbk to
GB18030 as browsers do: that is what extraction gets (``response.text``), never raw bytes. Real-world lies
are corrected here, each with one log line by the caller:

* a legacy label (GB2312, windows-1251, KOI8-R …) over bytes that are valid UTF-8 (saved copies, CMS
  migrations): decoding them as the label says produces mojibake, so the bytes win;
* an HTTP header or meta charset whose decode yields replacement characters, while the page's other
  declaration (or UTF-8, GB18030, windows-1251) decodes cleanly. A page decoded as UTF-8 is re-decoded only
  when more than 1% of its non-ASCII bytes are not UTF-8: a UTF-8 page with a few stray bytes (a
  windows-1252 quote pasted into the CMS, a truncated character) stays UTF-8, each bad byte a U+FFFD, and
  the note counts them — windows-1251 "decodes" any such page without an error, as mojibake;
* windows-1251 and KOI8-R swapped. Both decode any byte, so no replacement character betrays them, but
  each puts lowercase Cyrillic where the other puts capitals: Russian read through the wrong one comes
  out ~96% capitals (real text: under 10%). The twin decode that reads as lowercase wins.
"""

from __future__ import annotations

import codecs
import logging
import re

from scrapy.http import TextResponse
from w3lib.encoding import html_body_declared_encoding, resolve_encoding

log = logging.getLogger(__name__)

# Share of U+FFFD in a decoded page above which a decode is considered wrong.
BAD_DECODE_RATIO = 0.001
# Share of a page's non-ASCII bytes that must belong to valid UTF-8 sequences for a UTF-8 decode to stand.
# Counted in bytes, over the non-ASCII ones only: ASCII decodes the same in every candidate charset and a
# page is mostly ASCII markup and scripts, so a share of characters (U+FFFD per character of the page) says
# more about the page's size than about its text — the same 10 stray bytes pass on a large page and fail on
# a short one. Legacy text is almost never valid UTF-8 (a legacy letter would have to be followed by exactly
# the right continuation bytes), so a page whose Cyrillic or Han bytes are 99% valid UTF-8 is UTF-8.
UTF8_MIN_VALID_SHARE = 0.99
_ASCII = bytes(range(0x80))
_ESCAPED = re.compile("[\udc80-\udcff]")  # one per byte that is not part of a valid UTF-8 sequence
# Single-byte Cyrillic code pages that are each other's case mirror (codecs names).
CYRILLIC_TWINS = {"cp1251": "koi8-r", "koi8-r": "cp1251"}
# Share of capitals among Cyrillic letters above which a decode is read as the wrong twin, and how many
# letters it takes to judge (a page with a few Cyrillic words says nothing).
CAPITALS_MAX, CYRILLIC_MIN = 0.5, 200
_LOWER, _UPPER = re.compile("[а-яё]"), re.compile("[А-ЯЁ]")


def _norm(name: str | None) -> str | None:
    if not name:
        return None
    resolved = resolve_encoding(name)
    return codecs.lookup(resolved).name if resolved else None


_LABEL = re.compile(rb"""(?:charset|encoding)\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)


def declared_label(body: bytes) -> str | None:
    """The charset label as the page writes it (``GB2312``), for messages; None when undeclared."""
    match = _LABEL.search(body[:4096])
    return match.group(1).decode("ascii") if match else None


def replacement_ratio(text: str) -> float:
    return text.count("\ufffd") / max(len(text), 1)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return any(b > 0x7F for b in body)


def utf8_damage(body: bytes) -> tuple[int, int]:
    """(bytes that are not part of a valid UTF-8 sequence, non-ASCII bytes) of ``body``.

    ``surrogateescape`` turns each undecodable byte into exactly one lone surrogate (``replace`` may fold a
    truncated sequence into one U+FFFD), so the count is in bytes."""
    bad = len(_ESCAPED.findall(body.decode("utf-8", errors="surrogateescape")))
    return bad, len(body.translate(None, _ASCII))  # deleting the ASCII bytes leaves the others


def _shouts(text: str) -> bool:
    """Mostly capital Cyrillic letters: the mark of windows-1251 read as KOI8-R or the reverse."""
    lower, upper = len(_LOWER.findall(text)), len(_UPPER.findall(text))
    return lower + upper >= CYRILLIC_MIN and upper / (lower + upper) > CAPITALS_MAX


def _decodes_cleanly(body: bytes, encoding: str | None) -> bool:
    if not encoding:
        return False
    try:
        body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def best_response(response: TextResponse) -> tuple[TextResponse, str | None]:
    """``(response, None)`` when Scrapy's decoding is right, else ``(re-decoded response, note)``;
    the note says in words what was wrong, for one warning line."""
    used = _norm(response.encoding)
    body = response.body
    if used != "utf-8" and _is_utf8(body):
        # Legacy text that happens to be valid UTF-8 is vanishingly rare, while a legacy decode of UTF-8
        # often "succeeds" with mojibake: the bytes decide.
        label = declared_label(body) or response.encoding
        return response.replace(encoding="utf-8"), f"labelled {label} but the bytes are UTF-8; decoded as UTF-8"
    twin = CYRILLIC_TWINS.get(used)
    if twin and _shouts(response.text) and not _shouts(body.decode(twin, errors="replace")):
        return (
            response.replace(encoding=twin),
            f"{response.encoding} decoding reads as capitals only; decoded as {twin}",
        )
    if used == "utf-8":
        if "\ufffd" not in response.text:  # no byte needed replacing: the bytes are valid UTF-8 (the common case)
            return response, None
        bad, non_ascii = utf8_damage(body)
        if not bad:
            return response, None
        if bad <= non_ascii * (1 - UTF8_MIN_VALID_SHARE):
            return response, (
                f"{bad} of {non_ascii} non-ASCII bytes are not valid UTF-8; kept UTF-8, the bad bytes read as U+FFFD"
            )
    elif replacement_ratio(response.text) <= BAD_DECODE_RATIO:
        return response, None
    declared = _norm(html_body_declared_encoding(body))
    for candidate in (declared, "utf-8", "gb18030", "cp1251"):
        if candidate and candidate != used and _decodes_cleanly(body, candidate):
            fixed = response.replace(encoding=candidate)
            return fixed, f"{response.encoding} decoding gave replacement characters; decoded as {candidate}"
    return response, f"{response.encoding} decoding gave replacement characters; no better charset found"


def decode(body: bytes, url: str, content_type: str | None = None) -> tuple[str, str]:
    """``(text, encoding)`` of bytes read outside a crawl (an article re-check, a raw copy without its
    encoding), decoded as the crawl decodes: Scrapy's choice, then ``best_response`` (a correction logged)."""
    from scrapy.http import HtmlResponse

    headers = {"Content-Type": content_type} if content_type else {}
    response, note = best_response(HtmlResponse(url=url, body=body, headers=headers))
    if note:
        log.info("%s: %s", url, note)
    return response.text, response.encoding
