"""Zstandard: the standard library's on Python 3.14+, its backport before (the same module and API)."""

try:
    from compression.zstd import *  # noqa: F403  # Python 3.14+
except ImportError:  # pragma: no cover - depends on the Python version
    from backports.zstd import *  # noqa: F403
