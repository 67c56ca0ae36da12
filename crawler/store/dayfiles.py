"""The day files (``output/<day>/items.jsonl``): an export of the item store, reconciled from the DB.

The state DB is the one source of truth for items. A day file holds one line per item of that day — its
row's JSON exactly, in insertion order — and is rewritten whole (temp file + rename: a reader sees the old
file or the new one, never a torn line) whenever an item of that day changed. What changed is the item
change feed, read here under the consumer name ``export``: the cursor moves only once every changed day is
written, so a run that could not write (a full disk, a killed process) leaves the days to the next one, which
restores them; writing a day that is already right changes nothing.

While a crawl runs, new items are also appended to the day file as they land (``Appender``), so a reader
sees them at once; the export at the end of the run makes the file exactly the DB's again, whatever an
append could not do.

The newest day of the archive keeps a plain ``items.jsonl`` (what the crawl appends to, what a reader greps
in the morning); every earlier day's file is gzipped (``items.jsonl.gz``, about a fifth of the size:
``zgrep``, ``zcat``, ``gzip.open`` read it), as the digests of earlier days are. A day is written gzipped
once a later day exists, and rewritten gzipped when its items change later (a translation, an edit). The
gzipped file is written whole before the plain one is removed, so a crash between the two leaves both,
equal, and the next export removes the plain one.
"""

from __future__ import annotations

import errno
import gzip
import json
import logging
import os
import re
import sqlite3
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from crawler.store import items as item_store
from crawler.store.diskspace import StorageError, storage_error, sweep_temp_files, write_atomic

log = logging.getLogger(__name__)

CONSUMER = "export"
FILE_NAME = "items.jsonl"
GZIP_NAME = FILE_NAME + ".gz"
GZIP_LEVEL = 6  # level 9 makes a day's file 2% smaller for twice the time
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")  # a day folder's name


def items_path(output_dir: Path, day: str) -> Path:
    """The plain day file (the newest day's; the crawl appends to it)."""
    return Path(output_dir) / day / FILE_NAME


def gzip_path(output_dir: Path, day: str) -> Path:
    return Path(output_dir) / day / GZIP_NAME


def day_files(output_dir: Path, day: str) -> list[Path]:
    """The day's files on disk: the gzipped one, the plain one, or both (briefly, see the module docstring)."""
    return [p for p in (gzip_path(output_dir, day), items_path(output_dir, day)) if p.exists()]


def file_days(output_dir: Path) -> set[str]:
    """The days that have a day file, plain or gzipped."""
    found = {p.parent.name for name in (FILE_NAME, GZIP_NAME) for p in Path(output_dir).glob(f"*/{name}")}
    return {day for day in found if DAY.match(day)}


def read_day_file(path: Path) -> bytes:
    """The lines of a day file, gunzipped when it is the gzipped one. Raises ``OSError`` (``FileNotFoundError``
    when missing) and, for a damaged gzip file, ``DamagedDayFile``."""
    data = Path(path).read_bytes()
    if path.name != GZIP_NAME:
        return data
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as exc:
        raise DamagedDayFile(f"{path}: not a readable gzip file ({exc})") from None


def read_items(output_dir: Path, day: str) -> list[dict]:
    """The items of ``day``'s file as a reader sees them (every complete line; [] when the day has no file)."""
    files = day_files(output_dir, day)
    if not files:
        return []
    return [json.loads(raw) for raw in read_day_file(files[0]).splitlines(keepends=True) if raw.endswith(b"\n")]


ID_PREFIX = b'{"id":"'  # how a line starts: an item's id is its first key


def line_id(raw: bytes) -> str | None:
    """The id of a day file's line, read off its start without parsing it (None when it does not start with
    a plain id: such a line is parsed)."""
    if not raw.startswith(ID_PREFIX):
        return None
    end = raw.find(b'"', len(ID_PREFIX))
    value = raw[len(ID_PREFIX) : end]
    if end < 0 or b"\\" in value:  # an escape: only a parse reads it right
        return None
    return value.decode("utf-8", "replace")


class DamagedDayFile(ValueError):
    """A gzipped day file that cannot be decompressed (the export writes it again from the DB)."""


def latest_day(conn: sqlite3.Connection) -> str | None:
    """The newest day of the archive: its file stays plain, the earlier days' are gzipped."""
    row = conn.execute("SELECT max(day) FROM items").fetchone()
    return row[0] if row else None


def gzipped(day: str, latest: str | None) -> bool:
    return latest is not None and day < latest


def render_day(conn: sqlite3.Connection, day: str) -> bytes:
    """The day file as the DB says it should be (a row that cannot be read back has no line: ``verify`` names it)."""
    lines = (item_store.line(row["json"]) for row in item_store.day_rows(conn, day))
    return "".join(line + "\n" for line in lines if line is not None).encode("utf-8")


def export_day(conn: sqlite3.Connection, output_dir: Path, day: str, latest: str | None = None) -> bool:
    """Make ``day``'s file the DB's, gzipped when it is before ``latest`` (default: the archive's newest day).
    Returns True when it had to be written."""
    latest = latest_day(conn) if latest is None else latest
    plain, packed = items_path(output_dir, day), gzip_path(output_dir, day)
    path, other = (packed, plain) if gzipped(day, latest) else (plain, packed)
    data = render_day(conn, day)
    try:
        current: bytes | None = read_day_file(path)
    except (FileNotFoundError, DamagedDayFile):
        current = None
    except OSError as exc:
        raise storage_error(exc, path) from exc
    if (current == data or (current is None and not data)) and not other.exists():
        return False
    _write_day(path, other, data)
    return True


def _write_day(path: Path, other: Path, data: bytes) -> None:
    """``data`` written whole as ``path`` (gzipped when it is the gzipped file), then ``other`` removed."""
    write_atomic(path, gzip.compress(data, GZIP_LEVEL, mtime=0) if path.name == GZIP_NAME else data)
    try:
        other.unlink(missing_ok=True)
    except OSError as exc:
        raise storage_error(exc, other) from exc


def gzip_earlier_days(conn: sqlite3.Connection, output_dir: Path, latest: str | None = None) -> list[str]:
    """Gzip the plain files of the days before the newest, each only when it holds exactly what the DB holds
    (a file with lines of its own is left as it is, for ``newsmon verify`` to name). Returns the days."""
    latest = latest_day(conn) if latest is None else latest
    done = []
    for day in sorted(file_days(output_dir)):
        plain = items_path(output_dir, day)
        if not gzipped(day, latest) or not plain.exists():
            continue
        data = render_day(conn, day)
        try:
            if plain.read_bytes() != data:
                continue
        except OSError as exc:
            raise storage_error(exc, plain) from exc
        _write_day(gzip_path(output_dir, day), plain, data)
        done.append(day)
    return done


@dataclass
class ExportReport:
    days: int = 0  # days with changes
    written: list[str] = field(default_factory=list)  # days whose file was (re)written
    errors: list[str] = field(default_factory=list)  # one line per day that could not be written
    gzipped: list[str] = field(default_factory=list)  # earlier days whose unchanged plain file was gzipped

    def as_dict(self) -> dict:
        return {"days": self.days, "written": len(self.written), "gzipped": len(self.gzipped), "errors": self.errors}


def export_changed(conn: sqlite3.Connection, output_dir: Path) -> ExportReport:
    """Bring every day changed since the last export in line with the DB. Raises ``StorageError`` (after
    trying every day) when one could not be written; its days stay due for the next export."""
    days, up_to = item_store.changed_days(conn, CONSUMER)
    report = ExportReport(days=len(days))
    latest = latest_day(conn)
    first_error: StorageError | None = None
    for day in days:
        try:
            if export_day(conn, output_dir, day, latest):
                report.written.append(day)
        except StorageError as exc:
            report.errors.append(str(exc))
            first_error = first_error or exc
    if first_error is not None:
        raise first_error
    item_store.advance(conn, CONSUMER, up_to)
    try:
        report.gzipped = gzip_earlier_days(conn, output_dir, latest)
    except StorageError as exc:  # the plain files stay, whole: the next export gzips them
        log.warning("day files of earlier days not gzipped: %s", exc)
    return report


def export_now(output_dir: Path, *, sweep_first: bool = True) -> ExportReport:
    """What a command that changed items ends with: remove the temp files killed processes left (a command
    killed while writing a day file leaves one, as a killed run does), export the changed days, drop the
    feed rows every reader has read, give the state DB's free pages back (``crawler.state``). ``sweep_first=False``:
    the caller swept already (a run, at its start)."""
    from crawler import state
    from crawler.features import feed_consumers

    if sweep_first:
        sweep(output_dir)
    conn = state.connect(output_dir)
    try:
        report = export_changed(conn, output_dir)
        item_store.prune(conn, feed_consumers())
        state.release_free_pages(conn)
        return report
    finally:
        conn.close()


def sweep(output_dir: Path) -> list[Path]:
    """Temp files of killed processes removed (those of living ones are left), said in one warning."""
    swept = sweep_temp_files(output_dir)
    if swept:
        log.warning("removed %d temp file(s) left by killed processes (e.g. %s)", len(swept), swept[0])
    return swept


def export_all(conn: sqlite3.Connection, output_dir: Path) -> ExportReport:
    """Every day of the store (``newsmon verify --repair``, ``newsmon import``)."""
    for day in item_store.days(conn):
        item_store.touch_day(conn, day)
    return export_changed(conn, output_dir)


class Appender:
    """Appends the lines of items as a crawl lands them, never the same id twice: the early view of the
    day file between two exports. A failed append is logged once per file and left to the export."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.ids: set[str] | None = None
        self.failed = False

    def _load(self) -> set[str]:
        ids: set[str] = set()
        try:
            with open(self.path, "rb") as fh:
                for raw in fh:
                    if not raw.endswith(b"\n"):  # a torn last line: appending would glue onto it
                        self.failed = True
                        log.info(
                            "%s ends with a torn line; written whole from the state DB at the end of the run", self.path
                        )
                    elif (known := line_id(raw)) is not None:
                        ids.add(known)
        except FileNotFoundError:
            pass
        return ids

    def append(self, item: dict) -> bool:
        if self.ids is None:
            self.ids = self._load()
        if self.failed or item["id"] in self.ids:
            return False
        line = (item_store.dumps(item) + "\n").encode("utf-8")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _append_whole(self.path, line)
        except OSError as exc:
            self.failed = True
            log.info(
                "%s; the items are stored and the file is written from the state DB at the end of "
                "the run (or by the next run)",
                storage_error(exc, self.path, len(line)),
            )
            return False
        self.ids.add(item["id"])
        return True


def _append_whole(path: Path, line: bytes) -> None:
    """One ``O_APPEND`` write of a whole line; a short write is cut back so no torn line stays."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        start = os.fstat(fd).st_size
        try:
            written = os.write(fd, line)
        except OSError:
            os.ftruncate(fd, start)
            raise
        if written != len(line):
            os.ftruncate(fd, start)
            raise OSError(errno.ENOSPC, "No space left on device (short write)", str(path))
    finally:
        os.close(fd)
