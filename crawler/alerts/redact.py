"""Keeping secrets inside notification URLs (passwords, tokens, webhook keys) out of every log line.

``protect(url)`` registers the URL's secret parts; a log-record factory, installed once, replaces them with
``****`` in every record of every logger (ours, Apprise's, urllib3's) before any handler sees it.
``display(url)`` is the form shown to people: scheme and host, secrets masked.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import parse_qsl, unquote, urlsplit

MASK = "****"
MIN_TOKEN = 8            # path segments and query values this long are treated as secrets

_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def secrets_of(url: str) -> set[str]:
    """The parts of ``url`` that may be secret: password, user, long path segments and query values."""
    try:
        parts = urlsplit(url)
        found = {parts.password, parts.username}
    except ValueError:
        return {url}
    found |= {seg for seg in parts.path.split("/") if len(seg) >= MIN_TOKEN}
    found |= {v for _k, v in parse_qsl(parts.query) if len(v) >= MIN_TOKEN}
    if "@" not in (parts.netloc or "") and parts.scheme not in ("json", "xml", "form", "jsons", "xmls", "forms",
                                                                  "mailto", "mailtos", "http", "https"):
        # slack://TOKEN/…, tgram://BOT_ID:BOT_TOKEN/…: the "host" is a token
        found |= {parts.netloc, *parts.netloc.split(":")}
    found = {s for s in found if s and len(s) >= 3}
    return found | {unquote(s) for s in found}


def protect(url: str) -> None:
    global _installed
    with _lock:
        _secrets.update(secrets_of(url))
        if not _installed:
            _install()
            _installed = True


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def display(url: str) -> str:
    """``scheme://host/…`` with every secret masked, for messages and listings."""
    text = url
    for secret in sorted(secrets_of(url), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def _install() -> None:
    previous = logging.getLogRecordFactory()
    formatter = logging.Formatter()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        if not _secrets:
            return record
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call: leave it to logging's own error report
            return record
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info:
            record.exc_text = redact(formatter.formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(factory)
