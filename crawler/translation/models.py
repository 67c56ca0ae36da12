"""Argos Translate packages: where they are, which are installed, and installing them.

A package is a zip (``.argosmodel``) of one directory holding ``metadata.json``, ``model/`` (CTranslate2) and
``sentencepiece.model``. Metadata is read with ``argostranslate.package`` (so packages installed by
``argospm`` are found), but installing is done here: Argos' ``install_from_path`` imports
``argostranslate.translate`` afterwards, which pulls stanza and torch — exactly what newsmon avoids.

Where packages live, first that is set: ``[translation] packages_dir``, ``$ARGOS_PACKAGES_DIR``, Argos'
default (``~/.local/share/argos-translate/packages``, under ``$XDG_DATA_HOME`` if set).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from crawler.exceptions import ModelMissing

log = logging.getLogger(__name__)

INSTALL_HINT = "newsmon models install {langs}   (offline: newsmon models install --file PATH.argosmodel)"
DOWNLOAD_TIMEOUT = 60


@dataclass(frozen=True)
class ModelPackage:
    path: Path
    from_code: str
    to_code: str
    name: str            # argospm name, e.g. "translate-zh_en"
    version: str
    target_prefix: str = ""

    @property
    def model_dir(self) -> Path:
        return self.path / "model"

    @property
    def sp_model(self) -> Path:
        return self.path / "sentencepiece.model"

    @property
    def ref(self) -> dict:
        """What an item records in ``translation.model``."""
        return {"name": self.name, "version": self.version}


def package_dirs(configured: str = "") -> list[Path]:
    if configured:
        return [Path(configured).expanduser()]
    if os.environ.get("ARGOS_PACKAGES_DIR"):
        return [Path(os.environ["ARGOS_PACKAGES_DIR"]).expanduser()]
    from argostranslate import settings as argos_settings   # creates Argos' data dirs on import
    return list(argos_settings.package_dirs)


def install_dir(configured: str = "") -> Path:
    return package_dirs(configured)[0]


def installed(dirs: list[Path]) -> list[ModelPackage]:
    """Every readable translation package in ``dirs`` (a broken directory is logged and skipped)."""
    found = []
    for directory in dirs:
        if not directory.is_dir():
            continue
        for path in sorted(directory.iterdir()):
            if path.is_dir() and not path.name.startswith("."):
                package = _read_package(path)
                if package is not None:
                    found.append(package)
    return found


def _read_package(path: Path) -> ModelPackage | None:
    from argostranslate.package import Package, argospm_package_name
    try:
        pkg = Package(path)
    except (OSError, ValueError) as exc:
        log.warning("ignoring %s: not a readable Argos package (%s)", path, exc)
        return None
    if pkg.type != "translate" or not pkg.from_code or not pkg.to_code:
        return None
    if not (path / "sentencepiece.model").is_file() or not (path / "model" / "model.bin").is_file():
        log.warning("ignoring %s: newsmon needs model/model.bin and sentencepiece.model", path)
        return None
    return ModelPackage(path, pkg.from_code, pkg.to_code, argospm_package_name(pkg),
                        pkg.package_version or "0", pkg.target_prefix or "")


def find(lang: str, target: str, dirs: list[Path]) -> ModelPackage | None:
    """The installed lang → target package with the highest version, or None."""
    from packaging.version import InvalidVersion, Version

    def key(p: ModelPackage):
        try:
            return Version(p.version)
        except InvalidVersion:
            return Version("0")
    candidates = [p for p in installed(dirs) if p.from_code == lang and p.to_code == target]
    return max(candidates, key=key) if candidates else None


def install_file(archive: str | Path, dest: Path) -> ModelPackage:
    """Install an ``.argosmodel`` file into ``dest`` (replacing an installed copy of the same directory)."""
    archive = Path(archive)
    if not archive.is_file():
        raise ModelMissing(f"{archive}: no such file")
    if not zipfile.is_zipfile(archive):
        raise ModelMissing(f"{archive}: not an Argos package (an .argosmodel file is a zip archive)")
    with zipfile.ZipFile(archive) as zf:
        top = _check_archive(zf, archive)
        dest.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".installing-", dir=dest))
        try:
            zf.extractall(staging)
            package = _read_package(staging / top)
            if package is None:
                raise ModelMissing(f"{archive}: not a translation package newsmon can run")
            target = dest / top
            if target.exists():
                shutil.rmtree(target)
            os.replace(staging / top, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    installed_package = _read_package(target)
    log.info("installed %s %s (%s → %s) in %s", installed_package.name, installed_package.version,
             installed_package.from_code, installed_package.to_code, target)
    return installed_package


def _check_archive(zf: zipfile.ZipFile, archive: Path) -> str:
    names = [PurePosixPath(n) for n in zf.namelist()]
    tops = {n.parts[0] for n in names if n.parts}
    unsafe = [str(n) for n in names if n.is_absolute() or ".." in n.parts]
    if unsafe or len(tops) != 1:
        raise ModelMissing(f"{archive}: not an Argos package (expected one top directory, found "
                           f"{sorted(tops)[:3]}{' and unsafe paths' if unsafe else ''})")
    top = tops.pop()
    have = {str(n) for n in names}
    for required in ("metadata.json", "model/model.bin", "sentencepiece.model"):
        if f"{top}/{required}" not in have:
            extra = " (bpe.model packages are not supported)" if required == "sentencepiece.model" else ""
            raise ModelMissing(f"{archive}: not a package newsmon can run: {top}/{required} missing{extra}")
    return top


def index_url() -> str:
    from argostranslate import settings as argos_settings   # honours $ARGOS_PACKAGE_INDEX
    return argos_settings.remote_package_index


def fetch_index(url: str) -> list[dict]:
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:
            return json.loads(response.read())
    except (OSError, ValueError) as exc:
        raise ModelMissing(f"cannot read the Argos package index at {url} ({exc}); installing from the index "
                           f"needs the Internet — on an air-gapped machine copy the .argosmodel file over "
                           f"and run: newsmon models install --file PATH.argosmodel") from None


def pick_from_index(index: list[dict], lang: str, target: str) -> dict:
    from argostranslate.package import AvailablePackage
    from packaging.version import Version

    candidates = [m for m in index if isinstance(m, dict) and m.get("type", "translate") == "translate"
                  and m.get("from_code") == lang and m.get("to_code") == target and m.get("links")]
    if not candidates:
        pairs = sorted({f"{m.get('from_code')}" for m in index if isinstance(m, dict)
                        and m.get("to_code") == target})
        raise ModelMissing(f"the Argos index has no {lang}→{target} package (it has: {', '.join(pairs)})")
    best = max(candidates, key=lambda m: Version(AvailablePackage(m).package_version or "0"))
    return best


def download(metadata: dict, dest: Path) -> Path:
    """Download a package file next to ``dest`` (a temporary file) and return its path."""
    dest.mkdir(parents=True, exist_ok=True)
    errors = []
    for link in metadata["links"]:
        fd, tmp = tempfile.mkstemp(prefix=".download-", suffix=".argosmodel", dir=dest)
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(link, timeout=DOWNLOAD_TIMEOUT) as response:
                shutil.copyfileobj(response, out, 1 << 20)
            return Path(tmp)
        except OSError as exc:
            errors.append(f"{link}: {exc}")
            Path(tmp).unlink(missing_ok=True)
    raise ModelMissing(f"download failed ({'; '.join(errors)}); on an air-gapped machine use "
                       f"newsmon models install --file PATH.argosmodel")


def install_from_index(langs: list[str], target: str, dest: Path, url: str | None = None) -> list[ModelPackage]:
    url = url or index_url()
    index = fetch_index(url)
    done = []
    for lang in langs:
        metadata = pick_from_index(index, lang, target)
        log.info("downloading %s→%s %s from %s", lang, target, metadata.get("package_version", ""),
                 metadata["links"][0])
        path = download(metadata, dest)
        try:
            done.append(install_file(path, dest))
        finally:
            path.unlink(missing_ok=True)
    return done
