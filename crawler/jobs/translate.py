"""One translation job: a batch of pending items translated with the models this worker keeps loaded.

A translation worker (``newsmon worker --queue translation``, on the machine with the GPU when there is
one: ``[translation] device``) keeps its translator — the loaded model, the glossary, the translation
memory — from one batch to the next: loading the model is what a batch would otherwise pay first. Every
batch runs on one thread (``EXECUTOR``), so the model and the memory's SQLite connection are only ever used
from that thread and two batches never share the model at once.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from crawler import state
from crawler.config import Config
from crawler.progress import Progress
from crawler.translation import models, store
from crawler.translation.glossary import load_glossary
from crawler.translation.memory import TranslationMemory
from crawler.translation.settings import TranslationSettings, settings_of
from crawler.translation.translator import Translator, item_lang

log = logging.getLogger(__name__)
EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="translation")
_loaded: dict[tuple, Translator] = {}  # (output dir, settings, models) → this worker's translator


def installed_packages(settings: TranslationSettings) -> dict:
    dirs = models.package_dirs(settings.packages_dir)
    return {lang: pkg for lang in settings.languages if (pkg := models.find(lang, settings.target, dirs))}


def workable_items(settings: TranslationSettings, output_dir: str | Path) -> list[tuple[str, dict]]:
    """``(day, item)`` of every pending item in a language with an installed model."""
    packages = installed_packages(settings)
    if not packages:
        return []
    conn = state.connect(output_dir)
    try:
        pending = store.pending_items(conn, ("pending",), tuple(packages))
    finally:
        conn.close()
    return [(day, item) for day, item in pending if item_lang(item) in packages]


def translator_for(settings: TranslationSettings, output_dir: Path, packages: dict) -> Translator:
    key = (str(output_dir), repr(settings), repr({lang: packages[lang].ref for lang in sorted(packages)}))
    if key not in _loaded:
        for old in _loaded.values():
            old.release()
            old.memory.close()
        _loaded.clear()
        memory = TranslationMemory(settings.memory_path(output_dir))
        _loaded[key] = Translator(settings, load_glossary(settings.glossary or None), memory, packages)
    return _loaded[key]


def translate_items(config: Config, item_ids: list[str]) -> dict:
    """Translate those of ``item_ids`` still pending (an item translated or edited meanwhile is left as it
    is); a summary."""
    started = time.monotonic()
    settings = settings_of(config)
    wanted = set(item_ids)
    workable = [pair for pair in workable_items(settings, config.output_dir) if pair[1]["id"] in wanted]
    summary: dict[str, float] = {"items": len(workable), "done": 0, "failed": 0, "not_needed": 0, "pending": 0}
    if workable:
        translator = translator_for(settings, config.output_dir, installed_packages(settings))
        outcomes = translator.translate([item for _day, item in workable], Progress("translate: sentences", 0))
        updates: dict = {}  # item id → (the content hash it was translated from, fields)
        for (_day, item), outcome in zip(workable, outcomes):
            updates[outcome.item_id] = (item.get("content_hash"), outcome.fields)
            summary[outcome.status] = summary.get(outcome.status, 0) + 1
        conn = state.connect(config.output_dir)
        try:
            store.save(conn, updates)
        finally:
            conn.close()
    summary["seconds"] = round(time.monotonic() - started, 2)
    return summary
