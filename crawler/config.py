"""Configuration: the shipped, commented ``defaults.toml``, then the user's file, then flags.

Precedence (written down once): command-line flags > user file (``--config PATH``) > ``defaults.toml``.
A user file overrides only the keys it sets: tables merge key by key, ``[[sources]]`` merge by ``id``
and their ``[[sources.sections]]`` by ``id``; a source or section with a new id extends the list.
A source with ``enabled = false`` is dropped.
"""

from __future__ import annotations

import copy
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.exceptions import ConfigError
from crawler.phrases import PhraseError
from crawler.phrases import normalise as normalise_phrase

ENTRY_KINDS = ("listing", "feed", "sitemap")
# [crawler] output_dir when no file sets it (the rest of [crawler]: crawler.crawl.settings).
DEFAULT_OUTPUT_DIR = "output"

# Keys a section may carry, with their expected Python type(s). Anything else is a typo we name.
SECTION_KEYS: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "name": (str,),
    "kind": (str,),
    "url": (str,),
    "link_css": (str,),
    "link_xpath": (str,),
    "link_pattern": (str,),
    "next_css": (str,),
    "max_pages": (int,),
    "languages": (list,),
    "body_css": (str,),
    "parser": (str,),
    "ignore_patterns": (list,),
    "cadence_hours": (int, float),
    "subject": (list,),
    "cron": (str,),
    "download_delay": (int, float),
    "max_page_bytes": (int,),
    "max_links": (int,),
    "proxy": (str,),
    "enabled": (bool,),
}
SOURCE_KEYS: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "name": (str,),
    "homepage": (str,),
    "parser": (str,),
    "download_delay": (int, float),
    "max_page_bytes": (int,),
    "max_links": (int,),
    "proxy": (str,),
    "enabled": (bool,),
    "sections": (list,),
}
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


# A section's CSS selectors and XPath: compiled by ``newsmon sources check`` (``crawler.checks``), evaluated by the
# crawl (``crawler.crawl.links``); loading a config does not compile them.
RULE_KEYS = ("link_css", "link_xpath", "next_css", "body_css")


@dataclass(frozen=True)
class SectionRules:
    """The selectors of a section left out of a config for another problem: still checked, so that one pass
    names every bad one."""

    source_id: str
    id: str
    rules: dict[str, str]

    @property
    def key(self) -> str:
        return f"{self.source_id}/{self.id}"


class ConfigProblems(ConfigError):
    """Every problem of the sources and sections of a config, found in one pass. Its message is the first
    problem and how many more there are (a command's one error line); ``newsmon sources check`` prints each
    of ``problems`` and goes on to check the rest: ``config`` (the sources and sections without a problem)
    and ``unloaded`` (the selectors of the sections left out)."""

    def __init__(self, problems: list[str], config: Config, unloaded: list[SectionRules]) -> None:
        more = (
            (
                f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''}: "
                "`newsmon sources check` lists them all)"
            )
            if len(problems) > 1
            else ""
        )
        super().__init__(problems[0] + more)
        self.problems = problems
        self.config = config
        self.unloaded = unloaded


class _Collect:
    """``with collect:`` adds a ``ConfigError`` raised inside to ``problems`` instead of raising it, so that
    one pass over a file finds all of its problems."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.unloaded: list[SectionRules] = []  # the selectors of the sections left out

    def __enter__(self) -> _Collect:
        return self

    def __exit__(self, kind, exc, _tb) -> bool:
        if isinstance(exc, _AlreadyNamed):
            return True
        if isinstance(exc, ConfigError):
            self.problems.append(str(exc))
            return True
        return False


class _AlreadyNamed(ConfigError):
    """Stops the checks of a table whose problem has been collected already (an ``id`` of the wrong type)."""


@dataclass(frozen=True)
class Section:
    """One followed section: an entry point plus the rule that recognises its article links."""

    source_id: str
    source_name: str
    id: str
    name: str
    kind: str
    url: str
    link_css: str | None = None
    link_xpath: str | None = None
    link_pattern: str | None = None
    next_css: str | None = None
    max_pages: int = 1
    languages: tuple[str, ...] = ()
    body_css: str | None = None
    parser: str | None = None
    ignore_patterns: tuple[str, ...] = ()
    cadence_hours: float | None = None
    subject: tuple[str, ...] = ()  # watch-phrase syntax; empty: the section's subject is never judged
    cron: str | None = None
    download_delay: float | None = None
    max_page_bytes: int | None = None  # None: [crawler] max_page_bytes
    max_links: int | None = None  # None: [crawler] max_links
    proxy: str | None = None  # http(s)://[user:password@]host:port, every request of the section goes through it

    @property
    def key(self) -> str:
        """Globally unique id, ``source/section``: the name used in state, output and alerts."""
        return f"{self.source_id}/{self.id}"

    def link_rule(self) -> str:
        """The link rule in words, for messages such as 'the rule finds nothing'."""
        parts = [
            f"css {self.link_css!r}" if self.link_css else "",
            f"xpath {self.link_xpath!r}" if self.link_xpath else "",
            f"url pattern {self.link_pattern!r}" if self.link_pattern else "",
        ]
        return " and ".join(p for p in parts if p) or "all links"


@dataclass(frozen=True)
class Source:
    id: str
    name: str
    sections: tuple[Section, ...]
    homepage: str | None = None


@dataclass
class Config:
    """The merged configuration. ``raw`` keeps every table for the modules that own them."""

    raw: dict[str, Any]
    sources: tuple[Source, ...]
    files: tuple[str, ...] = ()

    def table(self, name: str) -> dict[str, Any]:
        """A top-level table such as ``crawler``, ``translation``, ``alerts``, ``schedule``."""
        return self.raw.get(name, {})

    @property
    def sections(self) -> list[Section]:
        return [s for src in self.sources for s in src.sections]

    @property
    def output_dir(self) -> Path:
        return Path(self.table("crawler").get("output_dir", DEFAULT_OUTPUT_DIR))

    def select(self, source_ids: list[str] | None) -> Config:
        """A copy restricted to the given source ids (or ``source/section`` keys)."""
        if not source_ids:
            return self
        known = {s.id for s in self.sources} | {sec.key for sec in self.sections}
        unknown = [i for i in source_ids if i not in known]
        if unknown:
            raise ConfigError(f"unknown source(s): {', '.join(unknown)} (see `newsmon sources list`)")
        picked = []
        for src in self.sources:
            if src.id in source_ids:
                picked.append(src)
                continue
            secs = tuple(s for s in src.sections if s.key in source_ids)
            if secs:
                picked.append(Source(src.id, src.name, secs, src.homepage))
        return Config(self.raw, tuple(picked), self.files)


def defaults_text() -> str:
    return resources.files("crawler").joinpath("defaults.toml").read_text(encoding="utf-8")


def load_config(
    path: str | Path | None = None, *, output_dir: str | Path | None = None, include_defaults_sources: bool = True
) -> Config:
    """Load defaults, merge the user file at ``path`` over them, apply flags, validate."""
    raw = _parse(defaults_text(), "defaults.toml")
    files = ["defaults.toml"]
    if path is not None:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read config file: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
        user = _parse(text, str(path))
        if user.get("replace_default_sources") or not include_defaults_sources:
            raw["sources"] = []
        raw = merge(raw, user)
        files.append(str(path))
        source_text = (text, str(path))
    else:
        source_text = (defaults_text(), "defaults.toml")
    if output_dir is not None:
        raw.setdefault("crawler", {})["output_dir"] = str(output_dir)
    collect = _Collect()
    sources = _build_sources(raw.get("sources", []), *source_text, collect)
    config = Config(raw, sources, tuple(files))
    if collect.problems:
        raise ConfigProblems(collect.problems, config, collect.unloaded)
    global _last_loaded
    _last_loaded = config  # its [state] url is the database this process's connections open
    return config


_last_loaded: Config | None = None


def last_loaded() -> Config | None:
    """The config this process loaded last (``crawler.state`` reads its ``[state] url``)."""
    return _last_loaded


def key_location(config: Config, table: str, key: str) -> str:
    """``file:line`` of ``key`` in ``[table]`` of the last config file that sets it (the user's file wins)."""
    for name in reversed(config.files):
        try:
            text = defaults_text() if name == "defaults.toml" else Path(name).read_text(encoding="utf-8")
        except OSError:
            continue
        line = _table_key_line(text, table, key)
        if line:
            return f"{name}:{line}"
    return config.files[-1] if config.files else "config"


def section_key_location(config: Config, section: Section | SectionRules, key: str | None = None) -> str:
    """``file:line`` of ``key`` in ``section``'s table (of the section's table when it has no such key) in the
    last config file that names the section."""
    for name in reversed(config.files):
        try:
            text = defaults_text() if name == "defaults.toml" else Path(name).read_text(encoding="utf-8")
        except OSError:
            continue
        line = _line_of(text, (section.source_id, section.id), key)
        if line:
            return f"{name}:{line}"
    return config.files[-1] if config.files else "config"


def _table_key_line(text: str, table: str, key: str) -> int | None:
    inside = False
    key_re = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            inside = stripped == f"[{table}]"
        elif inside and key_re.match(line):
            return number
    return None


def _parse(text: str, name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already carries "(at line L, column C)".
        raise ConfigError(f"{name}: TOML syntax error: {exc}") from None


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Merge ``over`` into a copy of ``base``: tables key by key, id-keyed lists by id."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if key == "replace_default_sources":
            continue
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        elif key in ("sources", "sections") and isinstance(value, list) and isinstance(out.get(key), list):
            out[key] = _merge_by_id(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _merge_by_id(base: list, over: list) -> list:
    merged = list(base)
    index = {item.get("id"): i for i, item in enumerate(merged) if isinstance(item, dict)}
    for item in over:
        if isinstance(item, dict) and item.get("id") in index:
            i = index[item["id"]]
            merged[i] = merge(merged[i], item)
        else:
            merged.append(copy.deepcopy(item))
    return merged


def _line_of(text: str, ids: tuple[str, ...], key: str | None = None) -> int | None:
    """Line number of a table (found by its ``id = "…"`` lines, outer to inner) or of one of its keys.

    Outer ids anchor inner ones, so section "news" of source "tass" is not confused with another
    source's "news"; a key is looked up within the table that holds the innermost id.
    """
    lines, start, found = text.splitlines(), 0, None
    for ident in ids:
        pattern = re.compile(rf"""^\s*id\s*=\s*["']{re.escape(ident)}["']""")
        hit = next((i for i in range(start, len(lines)) if pattern.match(lines[i])), None)
        if hit is None:
            break
        start = found = hit
    if key is None or found is None:
        return None if found is None else found + 1
    head = next((i for i in range(found, -1, -1) if lines[i].lstrip().startswith("[")), 0)
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for i in range(head, len(lines)):
        if i > head and lines[i].lstrip().startswith("["):
            break
        if pattern.match(lines[i]):
            return i + 1
    return found + 1


def _where(text: str, filename: str, ids: tuple[str, ...], key: str | None = None) -> str:
    line = _line_of(text, ids, key)
    return f"{filename}:{line}" if line else filename


def _check_keys(table: dict, allowed: dict, path: str, where, collect: _Collect) -> dict:
    """``table`` without the keys that have a problem (each collected): an unknown key, a wrong type."""
    good = {}
    for key, value in table.items():
        with collect:
            if key not in allowed:
                raise ConfigError(f"{where(key)}: {path}.{key}: unknown key (allowed: {', '.join(sorted(allowed))})")
            types = allowed[key]
            if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
                want = " or ".join(t.__name__ for t in types)
                raise ConfigError(f"{where(key)}: {path}.{key}: expected {want}, got {type(value).__name__} {value!r}")
            good[key] = value
    return good


def _build_sources(entries: list, text: str, filename: str, collect: _Collect) -> tuple[Source, ...]:
    """The enabled sources; a source or section with a problem is left out and its problems collected."""
    if not isinstance(entries, list):
        with collect:
            raise ConfigError(f"{filename}: 'sources' must be an array of tables ([[sources]])")
        return ()
    sources, seen = [], set()
    for n, entry in enumerate(entries):
        path = f"sources[{entry.get('id', n) if isinstance(entry, dict) else n}]"
        with collect:
            source = _source(entry, n, path, seen, text, filename, collect)
            if source is not None:
                sources.append(source)
    return tuple(sources)


def _source(entry: Any, n: int, path: str, seen: set, text: str, filename: str, collect: _Collect) -> Source | None:
    if not isinstance(entry, dict):
        raise ConfigError(f"{filename}: {path}: expected a table")
    before = len(collect.problems)
    checked = _check_keys(entry, SOURCE_KEYS, path, _key_locator(text, filename, (), entry, n), collect)
    sid = _require_id(checked, path, text, filename, (), n, named="id" in entry)
    entry = checked
    if sid in seen:
        raise ConfigError(f"{_nth_id_line(text, filename, (), sid, 2)}: {path}: duplicate source id {sid!r}")
    seen.add(sid)
    if entry.get("enabled", True) is False:
        return None
    sections = _build_sections(entry, path, text, filename, collect)
    # A section with a problem is left out, the source kept with the sections that loaded (``newsmon sources
    # check`` checks those further); a source with a problem and no section left is left out.
    left_out = len(collect.problems) > before and not sections
    return None if left_out else Source(sid, entry.get("name", sid), sections, entry.get("homepage"))


def _build_sections(src: dict, path: str, text: str, filename: str, collect: _Collect) -> tuple[Section, ...]:
    out, seen, before = [], set(), len(collect.problems)
    sections = src.get("sections", [])
    for n, sec in enumerate(sections if isinstance(sections, list) else []):
        spath = f"{path}.sections[{sec.get('id', n) if isinstance(sec, dict) else n}]"
        with collect:
            section = _one_section(src, sec, n, spath, seen, text, filename, collect)
            if section is not None:
                out.append(section)
    if not out and len(collect.problems) == before and src.get("enabled", True):
        raise ConfigError(f"{_where(text, filename, (src['id'],))}: {path}: a source needs at least one section")
    return tuple(out)


def _one_section(
    src: dict, sec: Any, n: int, spath: str, seen: set, text: str, filename: str, collect: _Collect
) -> Section | None:
    if not isinstance(sec, dict):
        raise ConfigError(f"{filename}: {spath}: expected a table")
    checked = _check_keys(sec, SECTION_KEYS, spath, _key_locator(text, filename, (src["id"],), sec, n), collect)
    sid = _require_id(checked, spath, text, filename, (src["id"],), n, named="id" in sec)
    sec = checked
    if sid in seen:
        raise ConfigError(
            f"{_nth_id_line(text, filename, (src['id'],), sid, 2)}: {spath}: duplicate section id {sid!r}"
        )
    seen.add(sid)
    if sec.get("enabled", True) is False:
        return None
    section = _section(src, sec, spath, text, filename, collect)
    if section is None:
        rules = {key: sec[key] for key in RULE_KEYS if isinstance(sec.get(key), str)}
        collect.unloaded.append(SectionRules(src["id"], sid, rules))
    return section


def _require_id(
    table: dict, path: str, text: str, filename: str, outer: tuple[str, ...], n: int, named: bool = False
) -> str:
    """The table's id; ``named``: the table had an ``id`` that ``_check_keys`` refused (its type), said already."""
    value = table.get("id")
    if value is None and named:
        raise _AlreadyNamed()
    if not isinstance(value, str) or not ID_RE.match(value):
        where = (
            _where(text, filename, (*outer, value))
            if isinstance(value, str) and value
            else _nth_table_line(text, filename, outer, n)
        )
        raise ConfigError(f"{where}: {path}.id: required, lowercase letters, digits, '-' or '_' (got {value!r})")
    return value


def _nth_id_line(text: str, filename: str, outer: tuple[str, ...], ident: str, nth: int) -> str:
    """``file:line`` of the ``nth`` ``id = "ident"`` line after the outer ids' (a duplicate: its second one)."""
    first = _line_of(text, (*outer, ident)) if not outer or _line_of(text, outer) else None
    if first is None:
        return filename
    pattern = re.compile(rf"""^\s*id\s*=\s*["']{re.escape(ident)}["']""")
    lines = text.splitlines()
    later = next((i + 1 for i in range(first, len(lines)) if pattern.match(lines[i])), None)
    return f"{filename}:{later or first}" if nth > 1 else f"{filename}:{first}"


def _nth_table_line(text: str, filename: str, outer: tuple[str, ...], n: int, key: str | None = None) -> str:
    """``file:line`` of the ``n``-th (from 0) ``[[sources]]`` table, or of the ``n``-th ``[[sources.sections]]``
    after the source whose id is ``outer`` (of its ``key`` when given): where a table without a usable id is."""
    start = (_line_of(text, outer) or 0) if outer else 0
    header = "[[sources.sections]]" if outer else "[[sources]]"
    lines = text.splitlines()
    found = [i for i in range(start, len(lines)) if lines[i].strip() == header]
    if outer:  # only this source's sections: up to the next [[sources]]
        stop = next((i for i in range(start, len(lines)) if lines[i].strip() == "[[sources]]"), len(lines))
        found = [i for i in found if i < stop]
    if n >= len(found):
        return filename
    head = found[n]
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=") if key else None
    for i in range(head + 1, len(lines)):
        if lines[i].lstrip().startswith("["):
            break
        if pattern and pattern.match(lines[i]):
            return f"{filename}:{i + 1}"
    return f"{filename}:{head + 1}"


def _key_locator(text: str, filename: str, outer: tuple[str, ...], table: dict, n: int):
    """``key → file:line`` within a table: found by its id when it has a string one, else by its position."""
    ident = table.get("id")
    if isinstance(ident, str) and ident:
        return lambda key: _where(text, filename, (*outer, ident), key)
    return lambda key: _nth_table_line(text, filename, outer, n, key)


def _section(src: dict, sec: dict, path: str, text: str, filename: str, collect: _Collect) -> Section | None:
    """The section, or None when a key has a problem (each problem collected, not only the first)."""

    def at(key: str | None = None) -> str:
        return _where(text, filename, (src["id"], sec["id"]), key)

    before = len(collect.problems)
    kind, url = sec.get("kind"), sec.get("url")
    subject: tuple[str, ...] = ()
    with collect:
        if kind not in ENTRY_KINDS:
            raise ConfigError(f"{at('kind')}: {path}.kind: expected one of {', '.join(ENTRY_KINDS)}, got {kind!r}")
    with collect:
        if not isinstance(url, str) or not re.match(r"^https?://", url):
            raise ConfigError(f"{at('url')}: {path}.url: expected an http(s) URL, got {url!r}")
    with collect:
        if sec.get("link_pattern"):
            _check_regex(sec["link_pattern"], f"{path}.link_pattern", at("link_pattern"))
    for pattern in sec.get("ignore_patterns", []):
        with collect:
            _check_regex(pattern, f"{path}.ignore_patterns", at("ignore_patterns"))
    with collect:
        subject = _subject(sec.get("subject"), f"{path}.subject", at("subject")) if "subject" in sec else ()
    parser = sec.get("parser", src.get("parser"))
    with collect:
        if parser is not None:
            _check_parser(parser, f"{path}.parser", at("parser"))
    with collect:
        if isinstance(sec.get("max_pages", 1), int) and sec.get("max_pages", 1) < 1:
            raise ConfigError(f"{at('max_pages')}: {path}.max_pages: must be ≥ 1")
    for key in ("max_page_bytes", "max_links"):
        value = sec.get(key, src.get(key))
        with collect:
            if isinstance(value, int) and value < 1:
                where, named = (
                    (at(key), path)
                    if key in sec
                    else (_where(text, filename, (src["id"],), key), f"sources[{src['id']}]")
                )
                raise ConfigError(f"{where}: {named}.{key}: must be ≥ 1, got {value!r}")
    with collect:
        if kind == "listing" and not (sec.get("link_css") or sec.get("link_xpath") or sec.get("link_pattern")):
            raise ConfigError(f"{at()}: {path}: a listing section needs link_css, link_xpath or link_pattern")
    proxy = sec.get("proxy", src.get("proxy"))
    with collect:
        if proxy is not None:
            where = at("proxy") if "proxy" in sec else _where(text, filename, (src["id"],), "proxy")
            _check_proxy(
                proxy,
                url if isinstance(url, str) else "",
                f"{path}.proxy" if "proxy" in sec else f"sources[{src['id']}].proxy",
                where,
            )
    if len(collect.problems) > before:
        return None
    return Section(
        source_id=src["id"],
        source_name=src.get("name", src["id"]),
        id=sec["id"],
        name=sec.get("name", sec["id"]),
        kind=kind,
        url=url,
        link_css=sec.get("link_css"),
        link_xpath=sec.get("link_xpath"),
        link_pattern=sec.get("link_pattern"),
        next_css=sec.get("next_css"),
        max_pages=sec.get("max_pages", 1),
        languages=tuple(sec.get("languages", ())),
        body_css=sec.get("body_css"),
        parser=sec.get("parser", src.get("parser")),
        ignore_patterns=tuple(sec.get("ignore_patterns", ())),
        cadence_hours=sec.get("cadence_hours"),
        subject=subject,
        cron=sec.get("cron"),
        max_page_bytes=sec.get("max_page_bytes", src.get("max_page_bytes")),
        max_links=sec.get("max_links", src.get("max_links")),
        download_delay=sec.get("download_delay", src.get("download_delay")),
        proxy=proxy,
    )


def _check_proxy(proxy: str, section_url: str, path: str, where: str) -> None:
    """``http(s)://[user:password@]host:port``; its password is registered as a secret at once (nothing newsmon
    writes shows it, this message included)."""
    from crawler.alerts.redact import display, protect

    protect(proxy)
    parts = urlsplit(proxy)

    def fail(problem: str) -> ConfigError:
        return ConfigError(f"{where}: {path}: {problem}, got {display(proxy)!r}")

    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise fail('expected a proxy URL such as "http://user:password@host:3128"')
    try:
        port = parts.port
    except ValueError:
        raise fail("expected a port between 1 and 65535") from None
    if not port:
        raise fail("expected the proxy's port (host:port)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise fail("expected no path, query or fragment after host:port")
    if (parts.username is None) != (parts.password is None) or parts.username == "":
        raise fail("expected both a user and a password (user:password@) or neither")
    if parts.scheme == "https" and section_url.startswith("https:"):
        # Scrapy opens a tunnel to an https page through a plain-HTTP proxy connection only.
        raise fail("an https:// proxy cannot carry this section's https:// pages; use the proxy's http:// address")


def _check_regex(pattern: Any, path: str, where: str) -> None:
    if not isinstance(pattern, str):
        raise ConfigError(f"{where}: {path}: expected a regular expression string, got {pattern!r}")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"{where}: {path}: invalid regular expression {pattern!r}: {exc}") from None


def _subject(phrases: list, path: str, where: str) -> tuple[str, ...]:
    """The section's subject phrases, checked as watch phrases are (``check_phrase``)."""

    def fail(problem: str) -> ConfigError:
        return ConfigError(f"{where}: {path}: {problem}")

    if not phrases:
        raise fail('expected a non-empty list of phrases such as ["俄罗斯", "Russia*"] (or no subject key)')
    return tuple(check_phrase(p, fail) for p in phrases)


def check_phrase(value: Any, fail) -> str:
    """One phrase in NFC with single spaces, or ``fail(problem)`` raised: a ``[[watch]]`` phrase
    (``crawler.watch.settings``) or a section's ``subject``; its syntax is ``crawler.phrases``'."""
    try:
        return normalise_phrase(value)
    except PhraseError as exc:
        raise fail(str(exc)) from None


def _check_parser(name: str, path: str, where: str) -> None:
    from crawler.extract.parsers import known_parsers  # imported late: parsers pull in lxml and trafilatura

    if name not in known_parsers():
        raise ConfigError(f"{where}: {path}: unknown parser {name!r} (known: {', '.join(known_parsers())})")
