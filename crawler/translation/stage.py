"""The translation stage: after the crawl, translate every pending item (also ``newsmon translate --pending``).

Why a stage after the crawl rather than a thread beside the reactor: items land during the crawl with status
``pending`` (nothing waits for a model, and a crash in translation can lose no fetched item); the crawl on
this 2-core machine is itself CPU-bound in extraction, so a model running beside it would slow it, not hide
behind it; a stage sees every item of the cycle at once, so batches are full and length-sorted across items;
and the items are written once per chunk, through the item store (the day files follow at the run's export).

Which items: the indexed translation queue (``items.translation_status``), counted per language first, so
only the items of languages with an installed model are read — with no model, a run reads no item at all.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from crawler import state
from crawler.progress import Progress
from crawler.translation import models, store
from crawler.translation.glossary import load_glossary
from crawler.translation.memory import TranslationMemory
from crawler.translation.settings import TranslationSettings, settings_of as translation_settings
from crawler.translation.translator import Translator, item_lang

log = logging.getLogger(__name__)


def run_stage(ctx) -> dict:
    """Post-crawl stage contract (``crawler.runner``): translate what is pending; return a summary."""
    settings = translation_settings(ctx.config)
    if not settings.enabled:
        return {"enabled": False}
    return translate_pending(settings, ctx.output_dir)


def translate_pending(settings: TranslationSettings, output_dir: str | Path,
                      statuses: tuple[str, ...] = ("pending",), progress: Progress | None = None) -> dict:
    started = time.monotonic()
    conn = state.connect(output_dir)
    try:
        counts = {lang: n for lang, n in store.pending_counts(conn, statuses).items() if lang in settings.languages}
        summary = {"items": sum(counts.values()), "done": 0, "failed": 0, "pending": 0, "missing_models": []}
        if counts:
            _translate(settings, Path(output_dir), conn, statuses, counts, summary,
                       progress or Progress("translate: sentences", 0))
    finally:
        conn.close()
    summary["seconds"] = round(time.monotonic() - started, 2)
    return summary


def _translate(settings, output_dir, conn, statuses, counts, summary, progress) -> None:
    dirs = models.package_dirs(settings.packages_dir)
    packages = {lang: pkg for lang in sorted(counts) if (pkg := models.find(lang, settings.target, dirs))}
    missing = [lang for lang in sorted(counts) if lang not in packages]
    if missing:
        log.warning("no %s model installed: %s item(s) stay pending; install with: %s",
                    ", ".join(f"{lang}→{settings.target}" for lang in missing),
                    sum(counts[lang] for lang in missing), models.INSTALL_HINT.format(langs=" ".join(missing)))
    summary["pending"] = sum(counts[lang] for lang in missing)
    summary["missing_models"] = missing
    if not packages:
        return
    workable = [(day, item) for day, item in store.pending_items(conn, statuses, tuple(packages))
                if item_lang(item) in packages]
    if not workable:
        return
    memory = TranslationMemory(settings.memory_path(output_dir))
    translator = Translator(settings, load_glossary(settings.glossary or None), memory, packages)
    try:
        for start in range(0, len(workable), settings.items_per_chunk):
            _chunk(translator, conn, output_dir, workable[start:start + settings.items_per_chunk], summary,
                   progress)
    finally:
        if progress.total:
            progress.finish()
        memory.close()
    summary.update(translator.stats, model_calls=translator.model_calls,
                   models={lang: p.ref for lang, p in packages.items()})


def _chunk(translator, conn, output_dir, chunk, summary, progress) -> None:
    outcomes = translator.translate([item for _day, item in chunk], progress)
    updates = {}
    for (_day, item), outcome in zip(chunk, outcomes):
        updates[outcome.item_id] = (item.get("content_hash"), outcome.fields)
        summary[outcome.status] += 1
    store.save(conn, updates)
