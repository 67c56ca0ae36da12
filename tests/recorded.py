"""Recorded pages by their name in ``tests/resources/recorded/pages.json`` (``kremlin-en/news-63953.html``).

The Kremlin pages that `newsmon demo` bundles live in the package (crawler/demo/kremlin-en/, installed with
it) and nowhere else: the tests read them there. Every other recorded page is in tests/resources/recorded/.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

RECORDED = Path(__file__).resolve().parent / "resources" / "recorded"
BUNDLED = Path(str(resources.files("crawler").joinpath("demo")))


def recorded(name: str) -> Path:
    bundled = BUNDLED / name
    return bundled if bundled.is_file() else RECORDED / name
