"""The translation stage: after the crawl, translate every pending item (also ``newsmon translate --pending``).

Why a stage after the crawl rather than a thread beside the reactor: items land during the crawl with status
``pending`` (nothing waits for a model, and a crash in translation can lose no fetched item); the crawl on
this 2-core machine is itself CPU-bound in extraction, so a model running beside it would slow it, not hide
behind it; a stage sees every item of the cycle at once, so batches are full and length-sorted across items;
and each day's JSONL file is rewritten once per chunk, never while the crawl is appending to it.
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
        pending = store.pending_items(conn, statuses, settings.languages)
        summary = {"items": len(pending), "done": 0, "failed": 0, "pending": 0, "missing_models": []}
        if pending:
            _translate(settings, Path(output_dir), conn, pending, summary,
                       progress or Progress("translate: sentences", 0))
    finally:
        conn.close()
    summary["seconds"] = round(time.monotonic() - started, 2)
    return summary


def _translate(settings, output_dir, conn, pending, summary, progress) -> None:
    langs = sorted({item_lang(item) for _day, item in pending} & set(settings.languages))
    dirs = models.package_dirs(settings.packages_dir)
    packages = {lang: pkg for lang in langs if (pkg := models.find(lang, settings.target, dirs))}
    missing = [lang for lang in langs if lang not in packages]
    if missing:
        log.warning("no %s model installed: %s item(s) stay pending; install with: %s",
                    ", ".join(f"{lang}→{settings.target}" for lang in missing),
                    sum(item_lang(i) in missing for _d, i in pending),
                    models.INSTALL_HINT.format(langs=" ".join(missing)))
    workable = [(day, item) for day, item in pending if item_lang(item) in packages]
    summary["pending"] = len(pending) - len(workable)
    summary["missing_models"] = missing
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
    by_day: dict[str, dict] = {}
    for (day, item), outcome in zip(chunk, outcomes):
        by_day.setdefault(day, {})[outcome.item_id] = (item.get("content_hash"), outcome.fields)
        summary[outcome.status] += 1
    for day, updates in by_day.items():
        try:
            store.save(conn, output_dir, day, updates)
        except OSError as exc:   # one unwritable day loses no other day; its items stay pending
            log.error("could not save the translations of %s (%s items): %s", day, len(updates), exc)
            for _hash, fields in updates.values():
                summary[fields["translation"]["status"]] -= 1
            summary["pending"] += len(updates)
