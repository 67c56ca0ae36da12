"""Argos Translate packages: where they are, which are installed, installing and removing them.

A package is a zip (``.argosmodel``) of one directory holding ``metadata.json``, ``model/`` (CTranslate2) and
``sentencepiece.model`` (and maybe ``stanza/``, which newsmon does not use). Installing extracts that directory
into the packages directory, as Argos does; Argos' conventions (settings, index, names) are read in
``crawler.translation.argos``, so newsmon needs no ``argostranslate`` package and shares its packages.

Where packages live, first that is set: ``[translation] packages_dir``, ``$ARGOS_PACKAGES_DIR`` (or the key in
Argos' settings.json), Argos' default (``~/.local/share/argos-translate/packages``, under ``$XDG_DATA_HOME``
if set).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from packaging.version import InvalidVersion, Version

from crawler.exceptions import ModelMissing
from crawler.translation import argos

log = logging.getLogger(__name__)

INSTALL_HINT = "newsmon models install {langs}   (offline: newsmon models install --file PATH.argosmodel)"
DOWNLOAD_TIMEOUT = 60


@dataclass(frozen=True)
class ModelPackage:
    path: Path
    from_code: str
    to_code: str
    name: str  # argospm name, e.g. "translate-zh_en"
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
    return [argos.packages_dir()]


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
    try:
        metadata = argos.read_metadata(path)
    except (OSError, ValueError) as exc:
        log.warning("ignoring %s: not a readable Argos package (%s)", path, exc)
        return None
    from_code, to_code = metadata.get("from_code"), metadata.get("to_code")
    if argos.package_type(metadata) != "translate" or not from_code or not to_code:
        return None
    if not (path / "sentencepiece.model").is_file() or not (path / "model" / "model.bin").is_file():
        log.warning("ignoring %s: newsmon needs model/model.bin and sentencepiece.model", path)
        return None
    return ModelPackage(
        path,
        str(from_code),
        str(to_code),
        argos.package_name(metadata),
        str(metadata.get("package_version") or "0"),
        str(metadata.get("target_prefix") or ""),
    )


def find(lang: str, target: str, dirs: list[Path]) -> ModelPackage | None:
    """The installed lang → target package with the highest version, or None."""
    candidates = [p for p in installed(dirs) if p.from_code == lang and p.to_code == target]
    return max(candidates, key=lambda p: version_key(p.version)) if candidates else None


def version_key(text: object) -> Version:
    """A package version to compare (one that is not a version sorts first)."""
    try:
        return Version(str(text or "0"))
    except InvalidVersion:
        return Version("0")


def remove(lang: str, target: str, dirs: list[Path]) -> list[ModelPackage]:
    """Remove every installed lang → target package (each version) from ``dirs``; what was removed.

    A package directory is renamed to a hidden name first, so a removal cut short never leaves a half
    package that still looks installed."""
    removed = [p for p in installed(dirs) if p.from_code == lang and p.to_code == target]
    if not removed:
        raise ModelMissing(f"no {lang}→{target} package is installed in {', '.join(str(d) for d in dirs)}")
    for package in removed:
        doomed = package.path.with_name(f".removing-{package.path.name}")
        os.replace(package.path, doomed)
        shutil.rmtree(doomed)
        log.info("removed %s %s (%s → %s) from %s", package.name, package.version, lang, target, package.path)
    return removed


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
            if target.exists():  # the copy being replaced is moved into the staging dir, then dropped
                os.replace(target, staging / ".replaced")
            os.replace(staging / top, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    log.info(
        "installed %s %s (%s → %s) in %s", package.name, package.version, package.from_code, package.to_code, target
    )
    return dataclasses.replace(package, path=target)


def _check_archive(zf: zipfile.ZipFile, archive: Path) -> str:
    names = [PurePosixPath(n) for n in zf.namelist()]
    tops = {n.parts[0] for n in names if n.parts}
    unsafe = [str(n) for n in names if n.is_absolute() or ".." in n.parts]
    if unsafe or len(tops) != 1:
        raise ModelMissing(
            f"{archive}: not an Argos package (expected one top directory, found "
            f"{sorted(tops)[:3]}{' and unsafe paths' if unsafe else ''})"
        )
    top = tops.pop()
    have = {str(n) for n in names}
    for required in ("metadata.json", "model/model.bin", "sentencepiece.model"):
        if f"{top}/{required}" not in have:
            extra = " (bpe.model packages are not supported)" if required == "sentencepiece.model" else ""
            raise ModelMissing(f"{archive}: not a package newsmon can run: {top}/{required} missing{extra}")
    return top


def index_url() -> str:
    return argos.index_url()


def fetch_index(url: str) -> list[dict]:
    """The index: a JSON list of package metadata (``from_code``, ``to_code``, ``package_version``, ``links``…)."""
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:
            index = json.loads(response.read())
    except (OSError, ValueError) as exc:
        raise ModelMissing(
            f"cannot read the Argos package index at {url} ({exc}); installing from the index "
            f"needs the Internet — on an air-gapped machine copy the .argosmodel file over "
            f"and run: newsmon models install --file PATH.argosmodel"
        ) from None
    if not isinstance(index, list):
        raise ModelMissing(f"{url}: not an Argos package index (expected a JSON list of packages)")
    return index


def pick_from_index(index: list[dict], lang: str, target: str) -> dict:
    candidates = [
        m
        for m in index
        if isinstance(m, dict)
        and m.get("type", "translate") == "translate"
        and m.get("from_code") == lang
        and m.get("to_code") == target
        and isinstance(m.get("links"), list)
        and m["links"]
    ]
    if not candidates:
        pairs = sorted({f"{m.get('from_code')}" for m in index if isinstance(m, dict) and m.get("to_code") == target})
        raise ModelMissing(f"the Argos index has no {lang}→{target} package (it has: {', '.join(pairs)})")
    return max(candidates, key=lambda m: version_key(m.get("package_version")))


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
    raise ModelMissing(
        f"download failed ({'; '.join(errors)}); on an air-gapped machine use "
        f"newsmon models install --file PATH.argosmodel"
    )


def install_from_index(langs: list[str], target: str, dest: Path, url: str | None = None) -> list[ModelPackage]:
    url = url or index_url()
    index = fetch_index(url)
    done = []
    for lang in langs:
        metadata = pick_from_index(index, lang, target)
        log.info(
            "downloading %s→%s %s from %s", lang, target, metadata.get("package_version", ""), metadata["links"][0]
        )
        path = download(metadata, dest)
        try:
            done.append(install_file(path, dest))
        finally:
            path.unlink(missing_ok=True)
    return done
