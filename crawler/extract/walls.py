"""Bot walls and JavaScript-only pages: an article URL answering 200 with a challenge, a captcha or an
"enable JavaScript" shell instead of the article.

Such a page must not land as an item whose text is "Checking your browser…": when extraction found no more
article text than a wall may have (``could_be_wall``), ``extract_article`` asks ``suspected_wall`` and confirms
the suspicion with that text (``Wall.holds``), and raises ``ExtractionError`` with the cause, so the crawl
reports a failed page and an article re-check sees an inconclusive answer, not an edit.

A marker alone proves nothing — real articles carry reCAPTCHA comment forms, Cloudflare's injected scripts
and "enable JavaScript to see the comments" notices — so a page is a wall only when it also has little
text. Two measures, both of which must be small: the article text that extraction finds on the page, which
decides (``Wall.holds``) and clears almost every page before anything else is looked at; and the visible text
(outside scripts, styles and ``<noscript>``; an article page, with its menus and footer, says more than
``MARKUP_MAX_CHARS`` characters). The visible measure alone misses text a
browser would hide but extraction reads — a ``<noscript>`` left unclosed swallows the whole article into
itself — and such a page is an article, not a wall.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

# How much text a page may have and still be a wall — its visible text (stripped text nodes of <body>,
# outside scripts, styles and <noscript>) and the article text extraction finds — by the kind of marker
# found: a vendor's markup is proof on a page that says little; wording that could also be a sentence of an
# article needs a page that says less; an "enable JavaScript" notice (common in <noscript> on real pages)
# or a bare <noscript> needs an all but empty page.
MARKUP_MAX_CHARS = 1000
WORDING_MAX_CHARS = 500
SHELL_MAX_CHARS = 200
WALL_MAX_CHARS = max(MARKUP_MAX_CHARS, WORDING_MAX_CHARS, SHELL_MAX_CHARS)  # no wall has more article text
HIDDEN = {"script", "style", "noscript", "template"}
CAUSE = "bot wall or JavaScript-only page"

# (what it is, up to how many visible characters it counts, pattern over the page source). Vendor markers
# are the class names, script variables and cookie names of their challenge pages; the wording is what
# challenge pages and JS-only sites show, in English, Russian and Chinese.
MARKERS = [
    (
        "Cloudflare challenge",
        MARKUP_MAX_CHARS,
        r"cf-browser-verification|cf_chl_opt|_cf_chl|cf-challenge|challenge-platform/h/|"
        r"<title>\s*just a moment\.\.\.|attention required! \| cloudflare",
    ),
    ("DDoS-Guard check", MARKUP_MAX_CHARS, r"ddos-guard|__ddg\d_|ddgjs"),
    ("Qrator check", MARKUP_MAX_CHARS, r"qrator"),
    ("captcha", MARKUP_MAX_CHARS, r"<form[^>]+captcha|g-recaptcha|h-captcha|smartcaptcha|showcaptcha|geetest"),
    ("captcha", WORDING_MAX_CHARS, r"are you a robot|not a robot|не робот|人机验证"),
    (
        "browser check",
        WORDING_MAX_CHARS,
        r"checking (if the site connection is secure|your browser)|проверк\w+ (вашего )?браузера|"
        r"正在(检查|验证)您的浏览器|浏览器安全检查",
    ),
    (
        "asks to enable JavaScript",
        SHELL_MAX_CHARS,
        r"(enable|turn on|activate) javascript|javascript (is )?(disabled|required)|requires javascript|"
        r"(включите|включить|разрешите) javascript|javascript (отключ|выключ)|"
        r"(开启|启用|打开|允许)\s*javascript|javascript\s*(已被)?(禁用|被禁止)",
    ),
]
MARKER_RE = [(what, most, re.compile(pattern, re.I)) for what, most, pattern in MARKERS]
NOSCRIPT_RE = re.compile(r"<noscript", re.I)


@dataclass(frozen=True)
class Wall:
    """A page that looks like a wall by its markers and visible text; ``holds`` once its article text is known."""

    what: str  # the kind of marker ("Cloudflare challenge", "<noscript> notice" …)
    most: int  # up to how many characters of article text the page may have and still be a wall
    visible: int  # characters of visible text (counted up to just past MARKUP_MAX_CHARS)
    found: str = ""  # the marker as the page writes it

    def holds(self, text_chars: int) -> bool:
        """Whether the page is a wall, given the characters of article text extraction found on it."""
        return text_chars <= self.most

    def cause(self, text_chars: int) -> str:
        """``bot wall or JavaScript-only page (Cloudflare challenge: "cf_chl_opt"; 0 characters of text)``."""
        if self.found:
            return f'{CAUSE} ({self.what}: "{self.found}"; {text_chars} characters of text)'
        return f"{CAUSE} ({self.what}, {text_chars} characters of text)"


def could_be_wall(text_chars: int) -> bool:
    """Whether a page with this much article text may be a wall at all (more: an article, whatever its markers)."""
    return text_chars <= WALL_MAX_CHARS


def suspected_wall(html: str, tree) -> Wall | None:
    """The wall the page looks like by its markers and its visible text, else None; ``tree`` is the parsed
    ``html``, intact (extraction prunes it). Confirm with ``Wall.holds`` on the extracted text."""
    body = tree.find(".//body")
    chars = visible_chars(body, MARKUP_MAX_CHARS) if body is not None else 0
    if chars > MARKUP_MAX_CHARS:
        return None
    for what, most, pattern in MARKER_RE:
        found = pattern.search(html) if chars <= most else None
        if found:
            return Wall(what, most, chars, " ".join(found.group(0).split()))
    if chars <= SHELL_MAX_CHARS and NOSCRIPT_RE.search(html):
        return Wall("<noscript> notice", SHELL_MAX_CHARS, chars)
    return None


def find_wall(html: str, tree, text_chars: int | None = None) -> str | None:
    """The cause in words (``bot wall or JavaScript-only page (Cloudflare challenge: "cf_chl_opt"; 0 characters
    of text)``) when the page is a wall or a JavaScript-only shell, else None. ``tree`` is the parsed ``html``.
    ``text_chars`` is the characters of article text extraction found on the page (``Extracted.text_chars``),
    the measure that decides; without it the page is judged by its markers and visible text alone — the
    suspicion ``extract_article`` confirms or clears with what it extracted."""
    wall = suspected_wall(html, tree)
    if wall is None:
        return None
    chars = wall.visible if text_chars is None else text_chars
    return wall.cause(chars) if wall.holds(chars) else None


def visible_chars(body, limit: int) -> int:
    """Characters of the text a reader sees in ``body`` (scripts, styles, <noscript>, comments left out),
    counted up to just past ``limit``: an article page stops the walk at its menus."""
    total, hidden = 0, 0
    for event, el in etree.iterwalk(body, events=("start", "end")):
        invisible = not isinstance(el.tag, str) or el.tag in HIDDEN
        if event == "start":
            if invisible:
                hidden += 1
            elif not hidden and el.text:
                total += len(el.text.strip())
        else:
            if invisible:
                hidden -= 1
            if not hidden and el is not body and el.tail:
                total += len(el.tail.strip())
        if total > limit:
            break
    return total
