"""A wheelhouse made from the distributions installed in this interpreter, so a test can install the built
newsmon wheel into a fresh venv with ``pip install --no-index --find-links`` (no network, a few seconds).

Only what newsmon's wheel declares is taken, and what that declares in turn (markers evaluated here): a
module newsmon imports but does not declare is missing from the fresh venv, as it would be for a user. Each
installed distribution is zipped back into a wheel from its RECORD (the files it installed under
site-packages, with its own dist-info; scripts outside site-packages are left out: pip writes the console
scripts again from entry_points.txt).
"""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.tags import sys_tags
from packaging.utils import canonicalize_name

INSTALL_TIME_FILES = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}


def requirements_of_wheel(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        text = zf.read(name).decode("utf-8")
    return [Requirement(r) for r in Parser().parsestr(text).get_all("Requires-Dist") or []]


def closure(requirements: list[Requirement]) -> list[metadata.Distribution]:
    """The installed distributions that ``requirements`` need, transitively (extras followed)."""
    found: dict[str, metadata.Distribution] = {}
    todo = [(req, "") for req in requirements]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(req.name)
        dist = found.get(name)
        if dist is None:
            dist = found[name] = metadata.distribution(req.name)  # PackageNotFoundError: not installed here
            todo += [(Requirement(r), "") for r in dist.requires or []]
        for wanted in req.extras:
            todo += [(Requirement(r), wanted) for r in dist.requires or []]
    return list(found.values())


def rewheel(dist: metadata.Distribution, dest: Path) -> Path:
    """The installed distribution zipped back into ``dest/<name>-<version>-<tag>.whl``."""
    site = Path(dist.locate_file(""))
    files = [
        f
        for f in dist.files or []
        if ".." not in f.parts
        and "__pycache__" not in f.parts
        and not (f.parts[0].endswith(".dist-info") and f.name in INSTALL_TIME_FILES)
    ]
    info_dir = next(f.parts[0] for f in dist.files or [] if f.parts[0].endswith(".dist-info"))
    wheel = dest / f"{_wheel_name(dist.metadata['Name'])}-{dist.version}-{_tag(site / info_dir)}.whl"
    record = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_STORED) as zf:
        for f in files:
            path = site / f
            if not path.is_file():
                continue
            data = path.read_bytes()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            zf.writestr(f.as_posix(), data)
            record.append(f"{f.as_posix()},sha256={digest},{len(data)}")
        record.append(f"{info_dir}/RECORD,,")
        zf.writestr(f"{info_dir}/RECORD", "\n".join(record) + "\n")
    return wheel


def build(requirements: list[Requirement], dest: Path) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    return [rewheel(dist, dest) for dist in closure(requirements)]


def _wheel_name(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name)


def _tag(info_dir: Path) -> str:
    """A tag of the distribution's WHEEL file that this interpreter supports (py2.py3 wheels list py2 first)."""
    wheel_file = (info_dir / "WHEEL").read_text(encoding="utf-8")
    tags = [line.split(":", 1)[1].strip() for line in wheel_file.splitlines() if line.startswith("Tag:")]
    supported = {str(tag) for tag in sys_tags()}
    return next(tag for tag in tags if tag in supported)
