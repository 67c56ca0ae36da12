"""``[[watch]]`` entries of the user's config, validated, each problem located at ``file:line``.

    [[watch]]
    name = "Kremlin"                         # the flag is watch:Kremlin (letters, digits, '-', '_', '.')
    phrases = ["Putin*", "Путин*", "普京"]    # any language; a trailing * matches any word ending
    sections = ["kremlin-*/*", "tass-ru/*"]  # optional: fnmatch on "source/section"
    exclude = ["Putin Street"]               # optional: an item with any of these is not a hit
    speakers = ["Vladimir Putin"]            # optional: match only inside these speakers' transcript turns

``[[watch]]`` is an array of tables, not a table, so ``crawler.tables.config_table`` cannot read it whole;
each entry goes through ``check_value`` (the same types and wording) and is located here by counting
``[[watch]]`` headers in the file that defines them (a user file replaces the shipped list, which is empty).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawler.config import Config, check_phrase, defaults_text
from crawler.exceptions import ConfigError
from crawler.tables import check_value

TABLE = "watch"
KEYS: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "phrases": (list,),
    "sections": (list,),
    "exclude": (list,),
    "speakers": (list,),
    "enabled": (bool,),
}
# One word, so that the digest flag watch:<name> is one grep-able token; any script.
NAME_RE = re.compile(r"^\w[\w.-]*$")
HEADER_RE = re.compile(r"^\s*\[\[\s*watch\s*\]\]\s*(#.*)?$")


@dataclass(frozen=True)
class Watch:
    name: str
    phrases: tuple[str, ...]
    sections: tuple[str, ...] = ()  # fnmatch patterns on "source/section"; empty: every section
    exclude: tuple[str, ...] = ()
    speakers: tuple[str, ...] = ()  # names of transcript speakers (crawler.extract.speakers); empty: all text


def watches_of(config: Config) -> list[Watch]:
    """Every enabled ``[[watch]]`` entry; a ``ConfigError`` naming ``file:line`` for the first bad one."""
    raw = config.raw.get(TABLE, [])
    if not isinstance(raw, list):
        raise ConfigError(
            f"{_file_of(config)}: [watch]: expected an array of tables ([[watch]]), got a {type(raw).__name__}"
        )
    watches, seen = [], {}
    for n, entry in enumerate(raw):
        watch = _entry(config, entry, n)
        if watch is None:
            continue
        if watch.name in seen:
            raise ConfigError(
                f"{entry_location(config, n, 'name')}: [[watch]] #{n + 1}.name: duplicate name "
                f"{watch.name!r} (also entry #{seen[watch.name] + 1})"
            )
        seen[watch.name] = n
        watches.append(watch)
    return watches


def _entry(config: Config, entry: Any, n: int) -> Watch | None:
    where = f"[[watch]] #{n + 1}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{entry_location(config, n)}: {where}: expected a table")

    def fail(key: str | None, problem: str) -> ConfigError:
        return ConfigError(f"{entry_location(config, n, key)}: {where}{'.' + key if key else ''}: {problem}")

    for key, value in entry.items():
        if key not in KEYS:
            raise fail(key, f"unknown key (allowed: {', '.join(sorted(KEYS))})")
        try:
            check_value(value, KEYS[key], None, key)
        except ConfigError as exc:
            raise fail(key, str(exc).split(": ", 1)[1]) from None
    name = entry.get("name")
    if not name or not NAME_RE.match(name):
        raise fail(
            "name" if "name" in entry else None,
            f"required: one word of letters, digits, '-', '_' or '.' (it becomes the digest flag "
            f"watch:<name>), got {name!r}",
        )
    if entry.get("enabled", True) is False:
        return None
    if not entry.get("phrases"):
        raise fail("phrases" if "phrases" in entry else None, "required: a non-empty list of phrases")
    phrases = tuple(check_phrase(p, lambda problem: fail("phrases", problem)) for p in entry["phrases"])
    exclude = tuple(check_phrase(p, lambda problem: fail("exclude", problem)) for p in entry.get("exclude", []))
    for pattern in entry.get("sections", []):
        if not isinstance(pattern, str) or not pattern.strip():
            raise fail(
                "sections", f'expected fnmatch patterns on "source/section" such as "kremlin-*/*", got {pattern!r}'
            )
    for speaker in entry.get("speakers", []):
        if not isinstance(speaker, str) or not speaker.strip():
            raise fail("speakers", f'expected speakers\' names such as "Vladimir Putin", got {speaker!r}')
    speakers = tuple(" ".join(s.split()) for s in entry.get("speakers", []))
    return Watch(name, phrases, tuple(entry.get("sections", [])), exclude, speakers)


# ---------------------------------------------------------------- where an entry is written


def entry_location(config: Config, n: int, key: str | None = None) -> str:
    """``file:line`` of the ``n``-th ``[[watch]]`` entry (or of its ``key``) in the file defining them."""
    for name, text in _texts(config):
        headers = [i for i, line in enumerate(text.splitlines()) if HEADER_RE.match(line)]
        if not headers:
            continue
        if n >= len(headers):
            return name
        return f"{name}:{_key_line(text.splitlines(), headers[n], key)}"
    return _file_of(config)


def _key_line(lines: list[str], head: int, key: str | None) -> int:
    if key is not None:
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for i in range(head + 1, len(lines)):
            if lines[i].lstrip().startswith("["):
                break
            if pattern.match(lines[i]):
                return i + 1
    return head + 1


def _texts(config: Config):
    """(file name, text) of the config files, the user's first (it replaces the shipped list)."""
    for name in reversed(config.files):
        try:
            yield name, defaults_text() if name == "defaults.toml" else Path(name).read_text(encoding="utf-8")
        except OSError:
            continue


def _file_of(config: Config) -> str:
    return config.files[-1] if config.files else "config"
