"""The ``[translation]`` table of the config, validated (an error names the exact key)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from crawler.exceptions import ConfigError

COMPUTE_TYPES = ("int8", "int8_float32", "int16", "float32", "auto", "default")


@dataclass(frozen=True)
class TranslationSettings:
    enabled: bool = True
    languages: tuple[str, ...] = ("zh", "ru")
    target: str = "en"
    packages_dir: str = ""                 # "" → $ARGOS_PACKAGES_DIR, else Argos' own default directory
    beam_size: int = 4
    batch_size: int = 32
    threads: int = 0                       # 0 → every core
    compute_type: str = "int8"
    max_decoding_length: int = 256
    max_sentence_chars: int = 400
    items_per_chunk: int = 200             # items translated (and saved) together
    memory: str = "translation-memory.sqlite"   # relative to the output dir; "" disables the memory
    glossary: str = ""                     # user glossary file merged over the shipped one

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> "TranslationSettings":
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in table.items():
            if key not in known:
                raise ConfigError(f"[translation].{key}: unknown key (allowed: {', '.join(sorted(known))})")
            values[key] = _check(key, value, getattr(cls, key))
        return cls(**values)

    @classmethod
    def from_config(cls, config) -> "TranslationSettings":
        return cls.from_table(config.table("translation"))

    def memory_path(self, output_dir: str | Path) -> Path | None:
        return Path(output_dir) / self.memory if self.memory else None


def _check(key: str, value: Any, default: Any) -> Any:
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"[translation].{key}: expected a list of language codes, got {value!r}")
        return tuple(value)
    if type(value) is not type(default):
        raise ConfigError(f"[translation].{key}: expected {type(default).__name__}, "
                          f"got {type(value).__name__} {value!r}")
    if isinstance(value, int) and not isinstance(value, bool) and value < (0 if key == "threads" else 1):
        raise ConfigError(f"[translation].{key}: must be ≥ {0 if key == 'threads' else 1}, got {value}")
    if key == "compute_type" and value not in COMPUTE_TYPES:
        raise ConfigError(f"[translation].compute_type: expected one of {', '.join(COMPUTE_TYPES)}, got {value!r}")
    return value
