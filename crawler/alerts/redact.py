"""Keeping the secrets of configured URLs (channel passwords, tokens, webhook keys; any module's proxy
credentials) out of everything newsmon writes.

The secrets are found by the URL's STRUCTURE, never by guessing from a value's length or looks alone:

* the userinfo password, for every scheme; the userinfo name where the scheme puts a token there
  (``matrix://TOKEN@host``, ``ntfy://tk_TOKEN@host``);
* the token positions of token-in-host/path schemes: ``slack://A/B/C``, ``tgram://ID:TOKEN/…``,
  ``discord://ID/TOKEN``, ``matrix://T2BOT_TOKEN``;
* the values of query keys that carry credentials (``pass``, ``password``, ``token``, ``key``, ``apikey``,
  ``secret``, ``auth``, ``access_token`` …, also as Apprise's ``-token`` request arguments) and of every
  ``+Header``;
* for webhook schemes (json, form, xml, http), path segments that are tokens (letters and digits mixed,
  12 characters or more): ``json://host/hook/AbCd0123456789``;
* for Apprise schemes without a rule here, what Apprise itself marks private.

Each secret is masked as an exact substring, whatever its length, in each form it may take in text: as
written, percent-decoded, percent-encoded (upper and lower case hex), with ``+`` for spaces, JSON- and
repr-escaped; an ``Authorization`` value's credential also alone (``Bearer X`` → ``X``), a user:password
also as its Basic-auth base64. Ordinary words are never masked: a user name ``user`` or a host stays.

``protect(url)`` registers a URL's secrets (call it before the URL is used); ``redact(text)`` masks every
registered secret; ``display(url)`` is the URL as shown to people, its own secrets masked. Once a secret is
registered, a log-record factory masks every record of every logger (ours, Apprise's, urllib3's) before
any handler sees it; ``RedactFilter`` does the same on newsmon's own handlers, and ``guarded_streams()``
masks what is written to stdout and stderr.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import re
import sys
import threading
import warnings
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus, unquote, unquote_plus

MASK = "****"

# Query keys whose value is a credential (compared lower-cased, without the "-" of an Apprise request argument).
SECRET_KEYS = frozenset(
    {
        "pass",
        "password",
        "passwd",
        "pwd",
        "token",
        "key",
        "apikey",
        "api_key",
        "secret",
        "auth",
        "access_token",
        "accesstoken",
        "apitoken",
        "api_token",
        "client_secret",
    }
)
# …and keys ending in one of these words (bot_token, x-api-key, webhook_secret, user_key).
SECRET_WORDS = frozenset({"pass", "password", "passwd", "pwd", "token", "key", "apikey", "secret"})
# Values that choose a mode rather than carry a credential (ntfy's auth=basic|token): never masked.
MODE_WORDS = frozenset({"basic", "token", "bearer", "none", "yes", "no", "true", "false", "on", "off"})
# The words before the credential of an Authorization header value ("Bearer X").
AUTH_SCHEMES = frozenset({"basic", "bearer", "digest", "token", "bot", "apikey", "key", "negotiate"})
# Schemes whose path segments are free-form and may hold a webhook token.
WEBHOOK_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls", "http", "https"})
# Schemes with a structural rule below; any other scheme also asks Apprise which of its parts are private.
KNOWN_SCHEMES = WEBHOOK_SCHEMES | {
    "mailto",
    "mailtos",
    "slack",
    "tgram",
    "discord",
    "ntfy",
    "ntfys",
    "matrix",
    "matrixs",
}
TOKEN_MIN = 12  # a free-form path segment this long mixing letters and digits is a token

_URL = re.compile(r"^\s*(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*?)\s*$", re.S)
_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern | None = None
_factory_installed = False


@dataclass
class _Parts:
    """A URL cut the way Apprise cuts it, values kept as written (percent-encoded)."""

    scheme: str
    user: str | None
    password: str | None
    host: str  # host[:port] as written
    segments: list[str]
    query: list[tuple[str, str]] = field(default_factory=list)

    def arg(self, key: str) -> str | None:
        return next((unquote(v) for k, v in self.query if unquote(k).lower() == key), None)


def _parse(url: str) -> _Parts | None:
    match = _URL.match(url)
    if not match:
        return None
    rest, _, query = match["rest"].partition("?")
    authority, _, path = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    user, colon, password = userinfo.partition(":")
    pairs = [pair.partition("=") for pair in re.split(r"[&;]", query) if pair]
    return _Parts(
        match["scheme"].lower(),
        user if at else None,
        password if colon else None,
        host,
        [s for s in path.split("/") if s],
        [(k, v) for k, _eq, v in pairs],
    )


# ---------------------------------------------------------------- where the secrets are
def secret_values(url: str) -> set[str]:
    """The secret parts of ``url`` as written in it (before any decoding)."""
    parts = _parse(url)
    if parts is None:  # not a URL at all: the whole text is what was configured as secret
        return {url.strip()} - {""}
    found = {parts.password} if parts.password else set()
    found |= _query_secrets(parts)
    rule = _RULES.get(parts.scheme)
    if rule is not None:
        found |= rule(parts)
    if parts.scheme not in KNOWN_SCHEMES:
        found |= _apprise_private(url, parts.scheme)
    return {s for s in found if s and s.strip()}


def _query_secrets(parts: _Parts) -> set[str]:
    found = set()
    for raw_key, value in parts.query:
        key = unquote(raw_key).strip()  # not unquote_plus: "+" starts a header name
        if key.startswith("+"):  # an HTTP / e-mail header: always a credential
            found.add(value)
            continue
        name = key.lstrip("-").lower()
        if key.startswith(":") or unquote_plus(value).strip().lower() in MODE_WORDS:
            continue  # a payload key renamed (its value is a key name); a mode
        if name in SECRET_KEYS or re.split(r"[-_.]", name)[-1] in SECRET_WORDS:
            found.add(value)
    return found


def _hostname(parts: _Parts) -> str:
    return parts.host.rsplit(":", 1)[0] if parts.host.count(":") == 1 else parts.host


def _webhook(parts: _Parts) -> set[str]:
    found = {s for s in parts.segments if _token_like(unquote(s))}
    host = _hostname(parts).lower()
    if host == "hooks.slack.com":  # https://hooks.slack.com/services/A/B/C
        found |= set(parts.segments[1:])
    elif host in ("discord.com", "discordapp.com") and parts.segments[:2] == ["api", "webhooks"]:
        found |= set(parts.segments[2:4])
    elif host == "api.telegram.org" and parts.segments and parts.segments[0].startswith("bot"):
        found |= _telegram_token(parts.segments[0][3:])
    return found


def _token_like(text: str) -> bool:
    return (
        len(text) >= TOKEN_MIN
        and any(c.isdigit() for c in text)
        and any(c.isalpha() for c in text)
        and not any(c.isspace() for c in text)
    )


def _slack(parts: _Parts) -> set[str]:
    # slack://TokenA/TokenB/TokenC/#channel (webhook), slack://xoxb-…/#channel (bot),
    # mode=workflow: every segment is part of the secret trigger path.
    if (parts.arg("mode") or "").lower().startswith("work"):
        return {parts.host, *parts.segments}
    if parts.host.lower().startswith("xo"):
        return {parts.host}
    return {parts.host, *parts.segments[:2]}


def _telegram_token(text: str) -> set[str]:
    """``BOT_ID:BOT_TOKEN``: the whole and the part after the colon (the bot id alone is public)."""
    match = re.match(r"[^:%]*(?::|%3[Aa])(?P<token>.+)$", text)
    return {text, match["token"]} if match else {text}


def _telegram(parts: _Parts) -> set[str]:
    # tgram://BOT_ID:BOT_TOKEN/chat…, optionally "bot"-prefixed; tgram://BOT_ID/BOT_TOKEN/chat… too.
    host = parts.host[3:] if re.match(r"bot\d", parts.host, re.I) else parts.host
    if re.search(r":|%3[Aa]", host):
        return _telegram_token(host)
    return {f"{host}:{parts.segments[0]}", parts.segments[0]} if parts.segments else set()


def _discord(parts: _Parts) -> set[str]:
    # discord://WEBHOOK_ID/WEBHOOK_TOKEN: the pair is the credential
    return {parts.host, *parts.segments[:1]}


def _ntfy(parts: _Parts) -> set[str]:
    # ntfy://tk_TOKEN@host/topic, or ?auth=token with the token as the user name
    token_mode = (parts.arg("auth") or "").lower() == "token"
    if parts.user and parts.password is None and (token_mode or unquote(parts.user).lower().startswith("tk_")):
        return {parts.user}
    return set()


def _matrix(parts: _Parts) -> set[str]:
    # matrix://TOKEN@host/#room (a user name without password is the access token);
    # matrix://T2BOT_TOKEN (no password, no room, or mode=t2bot: the host is the token)
    found = {parts.user} if parts.user and parts.password is None else set()
    if (parts.arg("mode") or "").lower() == "t2bot" or (
        parts.password is None and not parts.user and not parts.segments and not parts.arg("to")
    ):
        found.add(parts.host)
    return found


_RULES = {
    **{s: _webhook for s in WEBHOOK_SCHEMES},
    "slack": _slack,
    "tgram": _telegram,
    "discord": _discord,
    "ntfy": _ntfy,
    "ntfys": _ntfy,
    "matrix": _matrix,
    "matrixs": _matrix,
}


def _apprise_private(url: str, scheme: str) -> set[str]:
    """What Apprise's plugin for ``scheme`` marks private (its token and argument templates)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # Apprise's e-mail plugin imports imghdr
            from apprise.manager_plugins import NotificationManager

            plugin = NotificationManager()[scheme]
        parsed = plugin.parse_url(url) or {}
        names = {
            name for name, spec in {**plugin.template_tokens, **plugin.template_args}.items() if spec.get("private")
        }
    except Exception:  # no such plugin, or one that cannot parse this URL: the structural rules stand alone
        return set()
    found = set()
    for name in names:
        value = parsed.get(name)
        found |= {v for v in (value if isinstance(value, (list, tuple, set)) else [value]) if isinstance(v, str)}
    return found


# ---------------------------------------------------------------- the forms a secret takes in text
def forms(value: str, *, host: bool = False) -> set[str]:
    """``value`` (as written in a URL) in every form it may take in a log line, a message or a DB column."""
    out = set()
    for plain in {value, unquote(value), unquote_plus(value)}:
        encoded = {quote(plain, safe=""), quote(plain), quote_plus(plain), quote_plus(plain, safe="")}
        encoded |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), e) for e in encoded}
        out |= {plain, plain.replace(" ", "+"), json.dumps(plain)[1:-1], repr(plain)[1:-1], *encoded}
        if host:  # a token written as a host may be lower-cased by a parser
            out.add(plain.lower())
        head, _sp, credential = plain.strip().partition(" ")
        if head.lower() in AUTH_SCHEMES and credential.strip():  # "Bearer X": the credential alone too
            out |= forms(credential.strip())
    return {s for s in out if s.strip()}


def secrets_of(url: str) -> set[str]:
    """Every text to mask for ``url``: its secret values in all their forms."""
    parts = _parse(url)
    hosts = {parts.host} if parts else set()
    found = set()
    for value in secret_values(url):
        found |= forms(value, host=value in hosts)
    if parts and parts.user and parts.password:  # what an HTTP client sends for user:password
        basic = f"{unquote(parts.user)}:{unquote(parts.password)}"
        for encoding in ("utf-8", "latin-1"):  # requests encodes a str password as latin-1
            with contextlib.suppress(UnicodeEncodeError):
                found.add(base64.b64encode(basic.encode(encoding)).decode())
    return found


# ---------------------------------------------------------------- masking
def protect(url: str) -> None:
    """Register the secrets of ``url``: from now on nothing newsmon writes shows them."""
    global _pattern, _factory_installed
    found = secrets_of(url)
    with _lock:
        if not found - _secrets and _factory_installed:
            return
        _secrets.update(found)
        if _secrets:  # an empty alternation would match everywhere
            _pattern = _compile(_secrets)
        if not _factory_installed:
            _install_factory()
            _factory_installed = True


def _compile(secrets: set[str]) -> re.Pattern:
    # Longest first: at a position where "Bearer X" and "X" both start, the whole value is masked.
    return re.compile("|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True)))


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``MASK``."""
    pattern = _pattern
    if pattern is None or not text:
        return text
    return pattern.sub(MASK, text)


def display(url: str) -> str:
    """``url`` as shown to people: scheme, host, user, path and ordinary arguments, its secrets masked."""
    found = secrets_of(url)
    return _compile(found).sub(MASK, url) if found else url


# Formats a record's traceback so that it can be masked before any handler prints it.
_TRACEBACKS = logging.Formatter()


def _scrub(record: logging.LogRecord) -> None:
    if _pattern is None:
        return
    try:
        message = record.getMessage()
    except Exception:  # a malformed log call: leave it to logging's own error report
        return
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, ()
    if record.exc_info and not record.exc_text:
        record.exc_text = _TRACEBACKS.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class RedactFilter(logging.Filter):
    """Masks the registered secrets in a record before its handler formats it (newsmon's own handlers carry
    one, so that even a record not made by the factory below, e.g. ``logging.makeLogRecord``, is masked)."""

    def filter(self, record: logging.LogRecord) -> bool:
        _scrub(record)
        return True


def _install_factory() -> None:
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        _scrub(record)
        return record

    logging.setLogRecordFactory(factory)


class _RedactingStream:
    """A text stream that masks the registered secrets in what is written, delegating everything else."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(redact(text) if isinstance(text, str) else text)
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name):
        return getattr(self._stream, name)


@contextlib.contextmanager
def guarded_streams():
    """``sys.stdout`` and ``sys.stderr`` mask the registered secrets while the block runs (a command)."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = (s if s is None or isinstance(s, _RedactingStream) else _RedactingStream(s) for s in saved)
    yield
    # Restored only when the block ends normally: on an exception the streams stay guarded, so that the
    # traceback Python prints next is masked too.
    sys.stdout, sys.stderr = saved
