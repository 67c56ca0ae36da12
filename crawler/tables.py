"""Validating a feature's config table (``[lifecycle]``, ``[alerts]``): defaults, types, one clear error."""

from __future__ import annotations

from typing import Any

from crawler.exceptions import ConfigError

# key → (allowed types, default, minimum or None)
Spec = dict[str, tuple[tuple[type, ...], Any, float | None]]


def read_table(table: dict[str, Any], spec: Spec, name: str, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """The table with defaults filled in; ``ConfigError`` naming ``[name] key`` on a bad or unknown key."""
    out = {}
    for key, value in table.items():
        if key not in spec and key not in extra:
            raise ConfigError(f"[{name}] {key}: unknown key (allowed: {', '.join(sorted([*spec, *extra]))})")
    for key, (types, default, minimum) in spec.items():
        value = table.get(key, default)
        out[key] = check_value(value, types, minimum, f"[{name}] {key}") if key in table else value
    return out


def check_value(value: Any, types: tuple[type, ...], minimum: float | None, where: str) -> Any:
    if isinstance(value, bool) and bool not in types or not isinstance(value, types):
        want = " or ".join(t.__name__ for t in types)
        raise ConfigError(f"{where}: expected {want}, got {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{where}: must be ≥ {minimum:g}, got {value!r}")
    return value
