"""Landing an article: raw page, then the state DB rows — so that a kill at any instant loses no fetched
item and duplicates none.

Order of writes, and what a kill between them leaves:

1. the raw page, compressed (see "Raw pages" below), written to a temp file and renamed (then those of a
   multi-page article's further pages, ``<id>.p2.html.zst`` …): a kill leaves at most orphan raw files
   (overwritten when the article is fetched again next run, since nothing says it was stored) and temp files
   (swept at the next start);
2. ``articles`` + ``items`` rows (through the item store) and the further pages' ``article_pages`` rows in one
   transaction — the commit point: from here on the article counts as stored and is never fetched again,
   and it can never land on a second day;
3. its line appended to the day file, the early view of it (``crawler.store.dayfiles``): the export at the
   end of the run — or of the next run, after a kill or a full disk — writes the file from the DB.

A write that fails for lack of space (or any I/O error) raises ``StorageError`` naming the path: the crawl
stops storing, the run ends with that line, and a later run with space lands everything.

Durability: the crawl's raw pages are not fsync'd one by one. The commit of step 2 is the landing point,
and what a crash can take from before it depends on the crash. A killed process (SIGKILL, the OOM killer,
a crash of Python) takes nothing the kernel was given — the page cache outlives the process — so the
temp file and the rename are all a kill needs: the guarantees above hold with or without fsync. Only a
power cut (or a kernel crash) loses writes still in the page cache; then a raw page whose row did reach
the disk is named by ``newsmon verify`` ("raw page of item … missing"), while the item — its text, its
day-file line — is the DB's and intact. The DB itself runs WAL with ``synchronous=NORMAL``, so its last
commits may be lost to a power cut too; a row that is lost leaves an orphan raw page, overwritten when
the article is fetched again. What an fsync per page bought was a narrower window for that one kind of
damage, at the price of one flush of the disk's write cache per article (milliseconds on a disk or a
consumer SSD, more than the rest of storing costs). Instead ``Store`` syncs the output's file system once
every RAW_SYNC_PAGES raw pages and when the crawler closes (``syncfs``: one cache flush for the batch),
which bounds the window to the pages of one batch. Callers outside the crawl (the article re-checks,
a few pages a run) keep ``save_raw``'s fsync per page.

Raw pages: kept byte-exact, compressed as their name says — ``.html.zst`` (what the crawl writes) is
Zstandard, ``.html.gz`` gzip (what newsmon wrote before, and still writes where a caller names a ``.gz``
path); ``read_raw`` reads both, by their content. The pages of one site share most of their markup, which a
page compressed alone pays for every time: once a source has ``DICT_FIRST`` pages, a Zstandard dictionary is
trained on its newest pages and every later page is compressed with it (on ``benchmarks/bench_storage.py``'s
pages about a third of gzip's size); the pages written before it are compressed again with it, and a new
dictionary is trained each time the source has ``DICT_GROWTH`` times the pages the last one was trained at
(sites change their templates). A dictionary is a file beside the pages,
``raw/<source>/zstd-<pages>-<id>.dict``, fsync'd before any page uses it and never changed or removed: a
page's frame names the dictionary it needs, so every page stays readable whatever dictionaries follow.
"""

from __future__ import annotations

import ctypes
import gzip
import logging
import os
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from crawler import state
from crawler.config import Section
from crawler.extract.continuation import INCOMPLETE, PAGES
from crawler.items import canonicalize_url, content_hash, empty_translation, item_id, utc_now
from crawler.store import items as item_store
from crawler.store import zstd
from crawler.store.dayfiles import Appender, items_path
from crawler.store.diskspace import StorageError, is_disk_full, storage_error, write_atomic
from crawler.store.published import normalised

log = logging.getLogger(__name__)

# Raw pages a crawler writes between two syncs of the output's file system (module docstring: Durability).
RAW_SYNC_PAGES = 100

# One appender per day file per process: its in-memory id set is what prevents duplicate lines, so
# two crawlers of one cycle (sections run one after another or side by side) must share it.
_APPENDERS: dict[Path, Appender] = {}


# The first storing failure of this process's cycle (a full disk): once set, nothing more is stored and the
# runner starts no further crawl; it ends the run with this line.
_STORAGE_FAILURE: list[StorageError] = []


def note_storage_failure(exc: StorageError) -> None:
    if not _STORAGE_FAILURE:
        _STORAGE_FAILURE.append(exc)
        log.error("%s", exc)


def storage_failure() -> StorageError | None:
    return _STORAGE_FAILURE[0] if _STORAGE_FAILURE else None


@dataclass
class FetchedPage:
    """An article page as fetched: what the spider hands to the pipelines."""

    section: Section
    requested_url: str  # the link as found on the section's entry point
    url: str  # final URL after redirects
    body: bytes  # raw bytes as served
    text: str  # decoded by Scrapy (response.text), charset lies corrected
    encoding: str  # the codec that produced ``text``
    fetched_at: str
    etag: str | None = None
    last_modified: str | None = None

    @property
    def canonical_url(self) -> str:
        return canonicalize_url(self.requested_url)


def appender(path: Path) -> Appender:
    path = Path(path)
    if path not in _APPENDERS:
        _APPENDERS[path] = Appender(path)
    return _APPENDERS[path]


def raw_relpath(source: str, ident: str, page: int = 1) -> str:
    """Where the raw page goes: ``raw/<source>/<id>.html.zst``, a further page ``<id>.p<n>.html.zst``."""
    return f"raw/{source}/{ident}.html.zst" if page == 1 else f"raw/{source}/{ident}.p{page}.html.zst"


# ---------------------------------------------------------------- raw pages (module docstring: Raw pages)

GZIP_MAGIC, ZSTD_MAGIC = b"\x1f\x8b", b"\x28\xb5\x2f\xfd"
# zstd's default. With a dictionary, level 9 made raw pages 16% smaller (0.6 MB per 1,000 items, 3% of the archive)
# for four times the CPU (0.43 against 0.11 ms a page): a sixth of what storing an article costs.
ZSTD_LEVEL = 3
DICT_SIZE = 112 * 1024  # zstd's usual size; 64 KB dictionaries left pages ~15% bigger on the bench
DICT_FIRST = 64  # pages of a source before its first dictionary (trained on 32: pages ~40% bigger)
DICT_GROWTH = 8  # a new dictionary at 8× the pages the last one was trained at: 64, 512, 4096 …
DICT_SAMPLES = 256  # the newest pages a dictionary is trained on
_DICT_NAME = re.compile(r"^zstd-(?P<pages>\d+)-(?P<id>\d+)\.dict$")


class RawPageError(OSError):
    """A raw page that cannot be decompressed (damaged, or the dictionary it names is missing)."""


class _Folder:
    """The raw pages of one source: its dictionaries, the current one, and how many pages it has."""

    def __init__(self, path: Path):
        self.path = path
        self.lock = threading.RLock()
        self.dicts: dict[int, Path] = {}  # dictionary id → file
        self.current: tuple[int, int] | None = None  # (pages it was trained at, id)
        self.pages = 0
        self.loaded = False
        self.failed_at = 0  # pages when training last failed

    def load(self, again: bool = False) -> None:
        if self.loaded and not again:
            return
        self.dicts, self.current, self.pages = {}, None, 0
        try:
            entries = list(os.scandir(self.path))
        except FileNotFoundError:
            entries = []
        for entry in entries:
            match = _DICT_NAME.match(entry.name)
            if match:
                pages, ident = int(match["pages"]), int(match["id"])
                self.dicts[ident] = Path(entry.path)
                if self.current is None or pages > self.current[0]:
                    self.current = (pages, ident)
            elif entry.name.endswith(".html.zst") and not entry.name.startswith("."):
                self.pages += 1
        self.loaded = True

    def dictionary(self, ident: int) -> zstd.ZstdDict:
        with self.lock:
            self.load()
            if ident not in self.dicts:  # trained by another process since this one looked
                self.load(again=True)
            if ident not in self.dicts:
                raise RawPageError(f"the zstd dictionary {ident} this page needs is missing from {self.path}")
            return _dictionary(self.dicts[ident])

    def compress(self, body: bytes) -> bytes:
        with self.lock:
            self.load()
            if self.current is None:
                return zstd.compress(body, ZSTD_LEVEL)
            return zstd.compress(body, ZSTD_LEVEL, zstd_dict=self.dictionary(self.current[1]).as_digested_dict)

    def saved(self) -> None:
        """A page was written: train a dictionary when the source has reached the next threshold (a failed
        training is tried again once the pages have doubled)."""
        with self.lock:
            self.pages += 1
            due = DICT_FIRST if self.current is None else self.current[0] * DICT_GROWTH
            if self.pages >= max(due, 2 * self.failed_at):
                self._train()

    def _train(self) -> None:
        started = time.monotonic()
        pages = sorted(
            (e for e in os.scandir(self.path) if e.name.endswith(".html.zst") and not e.name.startswith(".")),
            key=lambda e: e.stat().st_mtime,
            reverse=True,
        )
        try:
            samples = [_decompress(Path(e.path).read_bytes(), self) for e in pages[:DICT_SAMPLES]]
            trained = zstd.train_dict(samples, DICT_SIZE)
        except (OSError, zstd.ZstdError) as exc:
            self.failed_at = self.pages
            log.warning(
                "raw pages of %s: no zstd dictionary trained (%s); pages are compressed without one until it has %d",
                self.path,
                exc,
                2 * self.pages,
            )
            return
        first = self.current is None
        path = self.path / f"zstd-{self.pages}-{trained.dict_id}.dict"
        write_atomic(path, trained.dict_content, fsync=True)
        self.dicts[trained.dict_id] = path
        self.current = (self.pages, trained.dict_id)
        again = self._recompress_dictless(pages) if first else 0
        log.info(
            "raw pages of %s: zstd dictionary %s trained on %d pages in %.1f s%s",
            self.path,
            trained.dict_id,
            len(samples),
            time.monotonic() - started,
            f"; {again} earlier pages compressed again with it" if again else "",
        )

    def _recompress_dictless(self, pages: list[os.DirEntry]) -> int:
        """The pages written before the first dictionary, compressed with it: each is checked to decompress
        to the same bytes before it replaces its file (fsync'd: it now depends on the dictionary)."""
        done = 0
        for entry in pages:
            path = Path(entry.path)
            try:
                data = path.read_bytes()
                if data[:4] != ZSTD_MAGIC or zstd.get_frame_info(data).dictionary_id != 0:
                    continue
                body = zstd.decompress(data)
                again = self.compress(body)
                if len(again) < len(data) and _decompress(again, self) == body:
                    write_atomic(path, again, fsync=True)
                    done += 1
            except (OSError, zstd.ZstdError) as exc:  # the page stays as it was, readable
                log.warning("raw page %s: not compressed again: %s", path, exc)
        return done


_FOLDERS: dict[Path, _Folder] = {}
_DICTIONARIES: dict[Path, zstd.ZstdDict] = {}
_LOCK = threading.Lock()


def _folder(path: Path) -> _Folder:
    path = Path(os.path.abspath(path))
    with _LOCK:
        if path not in _FOLDERS:
            _FOLDERS[path] = _Folder(path)
        return _FOLDERS[path]


def _dictionary(path: Path) -> zstd.ZstdDict:
    with _LOCK:
        if path not in _DICTIONARIES:
            _DICTIONARIES[path] = zstd.ZstdDict(path.read_bytes())
        return _DICTIONARIES[path]


def _decompress(data: bytes, folder: _Folder) -> bytes:
    try:
        if data[:2] == GZIP_MAGIC:
            return gzip.decompress(data)
        if data[:4] != ZSTD_MAGIC:
            raise RawPageError("neither gzip nor zstd data")
        ident = zstd.get_frame_info(data).dictionary_id
        return zstd.decompress(data, zstd_dict=folder.dictionary(ident)) if ident else zstd.decompress(data)
    except (EOFError, ValueError, zstd.ZstdError, gzip.BadGzipFile) as exc:
        raise RawPageError(str(exc) or type(exc).__name__) from None


def save_raw(output_dir: Path, relpath: str, body: bytes, fsync: bool = True) -> None:
    """Write a raw page atomically, compressed as its name says (``.zst``: Zstandard, with the source's
    dictionary once it has one; ``.gz``: gzip). ``fsync=False``: the caller syncs later, a batch at a time
    (``sync_file_system``; module docstring: Durability)."""
    path = Path(output_dir) / relpath
    if relpath.endswith(".gz"):
        # Level 6, not gzip's default 9: level 9 took ~55% longer on a 144 KB page for ~1% smaller files.
        write_atomic(path, gzip.compress(body, compresslevel=6, mtime=0), fsync)
        return
    folder = _folder(path.parent)
    write_atomic(path, folder.compress(body), fsync)
    folder.saved()


def read_raw(output_dir: Path, relpath: str) -> bytes:
    """A stored raw page's bytes as served, whichever way it is compressed. ``FileNotFoundError`` when it is
    missing, ``RawPageError`` (an ``OSError``) when it cannot be decompressed."""
    path = Path(output_dir) / relpath
    return _decompress(path.read_bytes(), _folder(path.parent))


def _libc_syncfs():
    try:
        syncfs = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):  # not Linux: no syncfs(2)
        return None
    syncfs.argtypes = [ctypes.c_int]
    return syncfs


_SYNCFS = _libc_syncfs()


def sync_file_system(fd: int) -> None:
    """Write everything cached for the file system holding the open ``fd`` to the disk: ``syncfs(2)`` (one
    flush of the disk's cache, errors of writes since ``fd`` was opened reported), ``sync(2)`` where the
    system has no syncfs."""
    if _SYNCFS is None:
        os.sync()
    elif _SYNCFS(fd) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def build_item(page: FetchedPage, extracted, lang, raw_path: str) -> dict:
    """The JSONL object (field order = the schema in docs/output.md), translation fields empty."""
    sec = page.section
    paragraphs = list(extracted.paragraphs)
    item = {
        "id": item_id(page.canonical_url),
        "source": sec.source_id,
        "section": sec.id,
        "section_key": sec.key,
        "url": page.url,
        "canonical_url": page.canonical_url,
        "fetched_at": page.fetched_at,
        "published_at": extracted.published_at,
        "title": extracted.title,
        "text": "\n\n".join(paragraphs),
        "paragraphs": paragraphs,
        "lang": lang.lang,
        "lang_confidence": lang.confidence,
        "paragraph_langs": lang.paragraph_langs,
        "authors": list(extracted.authors),
        "content_hash": content_hash(extracted.title, paragraphs),
        "raw_path": raw_path,
        "raw_encoding": page.encoding,
        "version": 1,
        "extras": dict(extracted.extras or {}),
        "extractor": extracted.extractor,
    }
    item.update(empty_translation(lang.lang))
    return item


def save_further_pages(item: dict, further: list[FetchedPage], output_dir: Path, fsync: bool = True) -> int:
    """Raw copies of a multi-page article's further pages (``further``, in the order of
    ``extras["pages"][1:]``), their paths and encodings recorded in those entries. Returns how many."""
    if not item["extras"].get(PAGES):
        return 0
    pages = item["extras"][PAGES] = [dict(entry) for entry in item["extras"][PAGES]]  # the item's own
    saved = 0
    for number, (entry, page) in enumerate(zip(pages[1:], further), start=2):
        entry["raw_path"] = raw_relpath(item["source"], item["id"], number)
        entry["raw_encoding"] = page.encoding
        save_raw(output_dir, entry["raw_path"], page.body, fsync=fsync)
        saved += 1
    return saved


def page_rows(item: dict) -> list[tuple[str, str]]:
    """``article_pages`` rows of an item: every further page, merged or missing, as (canonical URL, id)."""
    extras = item["extras"]
    urls = [p["url"] for p in (extras.get(PAGES) or [])[1:]] + [m["url"] for m in extras.get(INCOMPLETE) or []]
    return [(canonicalize_url(url), item["id"]) for url in urls]


def known_urls(conn: sqlite3.Connection, canonical_urls: list[str]) -> set[str]:
    """Which of these canonical URLs are already stored: an article, or a further page of one."""
    found: set[str] = set()
    for start in range(0, len(canonical_urls), 500):
        chunk = canonical_urls[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT canonical_url FROM articles WHERE canonical_url IN ({marks}) UNION "
            f"SELECT canonical_url FROM article_pages WHERE canonical_url IN ({marks})",
            chunk * 2,
        )
        found.update(r["canonical_url"] for r in rows)
    return found


class Store:
    """Lands articles of one run into ``output_dir`` (one instance per crawler)."""

    def __init__(self, output_dir: str | Path, run_id: int, day: str):
        self.output_dir = Path(output_dir)
        self.run_id, self.day = run_id, day
        self.conn = state.connect(self.output_dir)
        self._dir_fd: int | None = None  # opened before the first raw page: syncfs reports from there
        self._unsynced = 0  # raw pages written since the last sync

    def close(self) -> None:
        try:
            self.sync_raw()
        finally:
            if self._dir_fd is not None:
                os.close(self._dir_fd)
                self._dir_fd = None
            self.conn.close()

    def sync_raw(self) -> None:
        """The raw pages written so far, to the disk (module docstring: Durability). A failure is logged:
        the items are stored; what it may cost is raw pages, which ``newsmon verify`` checks."""
        if not self._unsynced or self._dir_fd is None:
            return
        try:
            sync_file_system(self._dir_fd)
        except OSError as exc:
            log.error(
                "%s: raw pages written by this crawl may not be on disk (%s); `newsmon verify` names "
                "any that are missing",
                self.output_dir / "raw",
                exc.strerror or exc,
            )
        self._unsynced = 0

    def save(self, page: FetchedPage, extracted, lang, further: list[FetchedPage] = ()) -> dict | None:
        """Land one article (``further``: the further pages merged into ``extracted``, in order).
        Returns the item, or None when it was already stored (a duplicate link)."""
        if self._stored(page.canonical_url):
            # A duplicate link or --refetch: the stored item's raw pages stay the ones it was extracted from
            # (a further page missing this time would shift the others onto its raw path).
            return None
        ident = item_id(page.canonical_url)
        raw_path = raw_relpath(page.section.source_id, ident)
        # In the stored form (``published_at``, ``published_precision``), so the line appended to the day file
        # is the items row's JSON exactly: the export then never rewrites a line a reader has seen.
        item = normalised(build_item(page, extracted, lang, raw_path))
        if self._dir_fd is None:
            self._dir_fd = os.open(self.output_dir, os.O_RDONLY)
        save_raw(self.output_dir, raw_path, page.body, fsync=False)
        self._unsynced += 1 + save_further_pages(item, list(further), self.output_dir, fsync=False)
        try:
            if not self._record(page, item):
                return None
        except sqlite3.OperationalError as exc:
            if is_disk_full(exc):
                raise storage_error(exc, state.db_path(self.output_dir)) from exc
            raise
        appender(items_path(self.output_dir, self.day)).append(item)
        if self._unsynced >= RAW_SYNC_PAGES:
            self.sync_raw()
        return item

    def _stored(self, canonical_url: str) -> bool:
        return (
            self.conn.execute("SELECT 1 FROM articles WHERE canonical_url = ?", (canonical_url,)).fetchone() is not None
        )

    def _record(self, page: FetchedPage, item: dict) -> bool:
        with state.transaction(self.conn):
            return item_store.insert_article(
                self.conn,
                item,
                self.day,
                run_id=self.run_id,
                first_seen=page.fetched_at,
                etag=page.etag,
                last_modified=page.last_modified,
                further_pages=page_rows(item),
            )


def close_interrupted_runs(conn: sqlite3.Connection, current_run_id: int) -> list[int]:
    """Runs a kill left ``running``: recorded as ``interrupted`` (their items are stored; the day-file export
    of this run writes whatever of them never reached a file)."""
    runs = [r["id"] for r in conn.execute("SELECT id FROM runs WHERE status = 'running' AND id < ?", (current_run_id,))]
    for run_id in runs:
        conn.execute(
            "UPDATE runs SET status = 'interrupted', finished_at = COALESCE(finished_at, ?) WHERE id = ?",
            (utc_now(), run_id),
        )
    return runs
