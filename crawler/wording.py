"""Counts in words: ``plural(1, "section")`` → "1 section", ``plural(2, "section")`` → "2 sections"."""

from __future__ import annotations


def plural(count: int, word: str, many: str | None = None) -> str:
    """``count`` and ``word``, in the plural (``many``, else ``word`` + "s") unless ``count`` is 1."""
    return f"{count} {word if count == 1 else many or word + 's'}"
