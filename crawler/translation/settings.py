"""The ``[translation]`` table of the config, validated (an error names the exact key)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from crawler.exceptions import ConfigError
from crawler.tables import Spec, config_table, read_table

DEVICES = ("cpu", "cuda", "auto")  # auto: cuda when CTranslate2 sees a CUDA device, else cpu
# CTranslate2's weight types; the *16 ones are for GPUs (which ones a device has is checked as a model loads).
COMPUTE_TYPES = (
    "int8",
    "int8_float32",
    "int16",
    "float32",
    "float16",
    "int8_float16",
    "bfloat16",
    "int8_bfloat16",
    "auto",
    "default",
)
CHOICES = {"compute_type": COMPUTE_TYPES, "device": DEVICES}


@dataclass(frozen=True)
class TranslationSettings:
    enabled: bool = True
    languages: tuple[str, ...] = ("zh", "ru")
    target: str = "en"
    packages_dir: str = ""  # "" → $ARGOS_PACKAGES_DIR, else Argos' own default directory
    beam_size: int = 4
    batch_size: int = 32
    threads: int = 0  # 0 → every core
    device: str = "cpu"  # the same output on every machine unless a GPU is asked for
    compute_type: str = "int8"
    max_decoding_length: int = 256
    max_sentence_chars: int = 400
    items_per_chunk: int = 200  # items translated (and saved) together
    memory: str = "translation-memory.sqlite"  # relative to the output dir; "" disables the memory
    glossary: str = ""  # user glossary file merged over the shipped one

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> TranslationSettings:
        return cls._of(read_table(table, SPEC, "translation", choices=CHOICES))

    @classmethod
    def _of(cls, values: dict[str, Any]) -> TranslationSettings:
        return cls(**{**values, "languages": _language_codes(values["languages"])})

    def memory_path(self, output_dir: str | Path) -> Path | None:
        return Path(output_dir) / self.memory if self.memory else None


def settings_of(config) -> TranslationSettings:
    """The ``[translation]`` table of ``config``, validated (an error names the key's file:line)."""
    return TranslationSettings._of(config_table(config, "translation", SPEC, choices=CHOICES))


def _spec() -> Spec:
    """From the dataclass: each key's type and default; counts are ≥ 1 (``threads`` 0 = every core)."""
    spec: Spec = {}
    for f in fields(TranslationSettings):
        types = (list, tuple) if isinstance(f.default, tuple) else (type(f.default),)
        minimum = (0 if f.name == "threads" else 1) if types == (int,) else None
        spec[f.name] = (types, f.default, minimum)
    return spec


def _language_codes(value: list | tuple) -> tuple[str, ...]:
    if not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"[translation] languages: expected a list of language codes, got {value!r}")
    return tuple(value)


SPEC = _spec()
