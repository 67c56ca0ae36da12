"""The crawl's raw pages reach the disk a batch at a time: no fsync per page, one sync of the output's file
system every RAW_SYNC_PAGES pages and when the crawler closes; other writers of raw pages fsync each."""

from __future__ import annotations

import gzip
import logging
import os

import pytest

from crawler.config import Section
from crawler.crawl import store as store_module
from crawler.crawl.store import RAW_SYNC_PAGES, FetchedPage, Store, read_raw, save_raw, sync_file_system
from crawler.extract.extracted import Extracted
from crawler.extract.language import LangResult
from crawler.runner import start_run

SECTION = Section(source_id="s", source_name="S", id="x", name="X", kind="listing", url="http://h/")


def fetched(n: int) -> FetchedPage:
    url = f"http://h/article/{n}"
    return FetchedPage(
        SECTION, url, url, f"<p>article {n}</p>".encode(), f"<p>article {n}</p>", "utf-8", "2026-11-02T10:00:00+00:00"
    )


def extracted(n: int) -> Extracted:
    return Extracted(title=f"Title {n}", paragraphs=[f"Paragraph of article {n}."], published_at=None)


@pytest.fixture
def calls(monkeypatch):
    seen = {"fsync": 0, "sync": 0}
    real_fsync = os.fsync

    def fsync(fd):
        seen["fsync"] += 1
        real_fsync(fd)

    def sync(fd):
        seen["sync"] += 1
        sync_file_system(fd)

    monkeypatch.setattr(store_module.os, "fsync", fsync)
    monkeypatch.setattr(store_module, "sync_file_system", sync)
    return seen


def test_the_crawl_syncs_raw_pages_by_the_batch_and_at_close(tmp_path, calls, monkeypatch):
    # No zstd dictionary here: training one is a one-off per source that fsyncs the dictionary and the pages
    # compressed again with it (tests/test_storage.py).
    monkeypatch.setattr(store_module, "DICT_FIRST", 10 * RAW_SYNC_PAGES)
    store = Store(tmp_path, start_run(tmp_path), "2026-11-02")
    count = 2 * RAW_SYNC_PAGES + 7
    items = [store.save(fetched(n), extracted(n), LangResult("en", 0.99)) for n in range(count)]
    assert calls == {"fsync": 0, "sync": 2}
    store.close()
    assert calls == {"fsync": 0, "sync": 3}
    assert all(read_raw(tmp_path, it["raw_path"]).startswith(b"<p>article") for it in items)


def test_a_crawl_that_wrote_no_raw_page_does_not_sync(tmp_path, calls):
    Store(tmp_path, start_run(tmp_path), "2026-11-02").close()
    assert calls == {"fsync": 0, "sync": 0}


def test_other_writers_of_raw_pages_fsync_each(tmp_path, calls):
    save_raw(tmp_path, "raw/s/one.html.gz", b"<p>re-checked</p>")
    assert calls == {"fsync": 1, "sync": 0}
    assert gzip.decompress((tmp_path / "raw/s/one.html.gz").read_bytes()) == b"<p>re-checked</p>"


def test_a_failed_sync_is_logged_and_the_items_stay_stored(tmp_path, monkeypatch, caplog):
    def broken(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(store_module, "sync_file_system", broken)
    store = Store(tmp_path, start_run(tmp_path), "2026-11-02")
    item = store.save(fetched(1), extracted(1), LangResult("en", 0.99))
    with caplog.at_level(logging.ERROR, logger="crawler.crawl.store"):
        store.close()
    assert item is not None and "may not be on disk (Input/output error)" in caplog.text
    assert "newsmon verify" in caplog.text
