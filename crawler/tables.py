"""Validating a feature's config table (``[crawler]``, ``[translation]``, ``[lifecycle]``, …) in one way.

Every table is described by a ``Spec`` and read with ``config_table``: defaults filled in, an unknown key,
a wrong type, a value below its minimum or outside its choices is a ``ConfigError`` worded the same for
every table — ``file:line: [table] key: problem`` — so ``newsmon sources check`` and a stage failing at
run time point at the same line.
"""

from __future__ import annotations

from typing import Any

from crawler.exceptions import ConfigError

# key → (allowed types, default, minimum or None). A feature's Spec is where its defaults are stated: its
# settings dataclass takes them with ``defaults(SPEC)``; crawler/defaults.toml repeats them for the reader
# (tests/test_defaults.py holds the two equal).
Spec = dict[str, tuple[tuple[type, ...], Any, float | None]]


def defaults(spec: Spec) -> dict[str, Any]:
    """Each key's default: ``x: int = DEFAULTS["x"]`` in a settings dataclass."""
    return {key: default for key, (_types, default, _minimum) in spec.items()}


def config_table(
    config,
    name: str,
    spec: Spec,
    *,
    extra: tuple[str, ...] = (),
    choices: dict[str, tuple] | None = None,
    maxima: dict[str, float] | None = None,
) -> dict[str, Any]:
    """``read_table`` over ``config.table(name)``, with an error located at the bad key's ``file:line``."""
    from crawler.config import key_location

    try:
        return read_table(config.table(name), spec, name, extra, choices, maxima)
    except TableKeyError as exc:
        raise ConfigError(f"{key_location(config, name, exc.key)}: {exc}") from None


def read_table(
    table: dict[str, Any],
    spec: Spec,
    name: str,
    extra: tuple[str, ...] = (),
    choices: dict[str, tuple] | None = None,
    maxima: dict[str, float] | None = None,
) -> dict[str, Any]:
    """The table with defaults filled in; ``TableKeyError`` naming ``[name] key`` on a bad or unknown key.

    ``extra`` keys are allowed but left to the caller (e.g. ``[[alerts.channels]]``); ``maxima`` bounds
    keys from above (shares: ≤ 1)."""
    for key in table:
        if key not in spec and key not in extra:
            raise TableKeyError(name, key, f"unknown key (allowed: {', '.join(sorted([*spec, *extra]))})")
    out = {}
    for key, (types, default, minimum) in spec.items():
        if key not in table:
            out[key] = default
            continue
        try:
            out[key] = check_value(
                table[key], types, minimum, f"[{name}] {key}", (choices or {}).get(key), (maxima or {}).get(key)
            )
        except ConfigError as exc:
            raise TableKeyError(name, key, str(exc).split(": ", 1)[1]) from None
    return out


def check_value(
    value: Any,
    types: tuple[type, ...],
    minimum: float | None,
    where: str,
    allowed: tuple | None = None,
    maximum: float | None = None,
) -> Any:
    if not _of_types(value, types):
        want = " or ".join(t.__name__ for t in types)
        raise ConfigError(f"{where}: expected {want}, got {type(value).__name__} {value!r}")
    if minimum is not None and isinstance(value, int | float) and value < minimum:
        raise ConfigError(f"{where}: must be ≥ {minimum:g}, got {value!r}")
    if maximum is not None and isinstance(value, int | float) and value > maximum:
        raise ConfigError(f"{where}: must be ≤ {maximum:g}, got {value!r}")
    if allowed is not None and value not in allowed:
        raise ConfigError(f"{where}: expected one of {', '.join(map(str, allowed))}, got {value!r}")
    return value


def _of_types(value: Any, types: tuple[type, ...]) -> bool:
    """``isinstance`` that does not take a bool for an int (``True`` is no number of pages)."""
    return isinstance(value, types) and not (isinstance(value, bool) and bool not in types)


class TableKeyError(ConfigError):
    """A bad key of a config table; ``key`` lets the caller say where it is."""

    def __init__(self, table: str, key: str, problem: str):
        super().__init__(f"[{table}] {key}: {problem}")
        self.table, self.key = table, key
