"""Argos Translate's conventions, read without the ``argostranslate`` package: where its packages live, where
its package index is, what a package's ``metadata.json`` says and how argospm names a package.

They follow argostranslate 1.11 (``settings.py``, ``package.py``), so a package installed by argospm and one
installed by ``newsmon models install`` are the same directory in the same place, and each tool finds the
other's. A setting is read as Argos reads it: the environment variable first, else the key in Argos'
``settings.json`` (``$XDG_CONFIG_HOME/argos-translate/settings.json``).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_INDEX = "https://raw.githubusercontent.com/argosopentech/argospm-index/main/"


def setting(key: str) -> str | None:
    """An Argos setting (``ARGOS_PACKAGES_DIR``, ``ARGOS_PACKAGE_INDEX``): the environment, else settings.json."""
    if os.environ.get(key):
        return os.environ[key]
    path = _config_dir() / "settings.json"
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:  # Argos prints and goes on with its defaults: so do we
        log.warning("ignoring %s: %s", path, exc)
        return None
    value = stored.get(key) if isinstance(stored, dict) else None
    return str(value) if value else None


def packages_dir() -> Path:
    """Where Argos installs packages: ``ARGOS_PACKAGES_DIR``, else ``$XDG_DATA_HOME/argos-translate/packages``
    (``~/.local/share/argos-translate/packages``). Nothing is created here (Argos creates it on import)."""
    configured = setting("ARGOS_PACKAGES_DIR")
    return Path(configured).expanduser() if configured else _data_dir() / "packages"


def index_url() -> str:
    """The package index: ``ARGOS_PACKAGE_INDEX`` is a base URL ending in ``/``, as in Argos."""
    return (setting("ARGOS_PACKAGE_INDEX") or DEFAULT_INDEX) + "index.json"


def read_metadata(package_dir: Path) -> dict[str, Any]:
    """A package directory's ``metadata.json`` (OSError when missing, ValueError when not a JSON object)."""
    metadata = json.loads((package_dir / "metadata.json").read_text(encoding="utf-8"))
    if not isinstance(metadata, dict):
        raise ValueError("metadata.json is not a JSON object")
    return metadata


def package_type(metadata: dict[str, Any]) -> str:
    return metadata.get("type") or "translate"


def package_name(metadata: dict[str, Any]) -> str:
    """argospm's name of a package: ``translate-zh_en``."""
    name = package_type(metadata)
    if metadata.get("from_code") and metadata.get("to_code"):
        name += f"-{metadata['from_code']}_{metadata['to_code']}"
    return name


def _home() -> Path:
    snap_home = os.environ.get("SNAP_USER_DATA") if "SNAP" in os.environ else None  # inside a snap
    return Path(snap_home) if snap_home else Path.home()


def _data_dir() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or _home() / ".local" / "share") / "argos-translate"


def _config_dir() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or _home() / ".config") / "argos-translate"
