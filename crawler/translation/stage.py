"""The translation stage: after the crawl, translate every pending item (also ``newsmon translate --pending``).

Why a stage after the crawl rather than a thread beside the reactor: items land during the crawl with status
``pending`` (nothing waits for a model, and a crash in translation can lose no fetched item); the crawl on
this 2-core machine is itself CPU-bound in extraction, so a model running beside it would slow it, not hide
behind it; a stage sees every item of the cycle at once, so batches are full and length-sorted across items;
and the items are written once per chunk, through the item store (the day files follow at the run's export).

Which items: the indexed translation queue (``items.translation_status``), counted per language first, so
only the items of languages with an installed model are read — with no model, a run reads no item at all.

Memory: in ``newsmon run`` the models are loaded in a process of their own (``translate_apart``), started
for the stage and ended with it, so that they never sit on top of what the crawl holds (Scrapy, Twisted,
lxml and the pages read stay in the run's process to its end: Python gives little of it back); inside it one
model at a time (``translator``). The process is started only when a model may be needed (items pending in a
language whose model is installed); otherwise the stage runs in the run's process and loads nothing. Its log
records come back to the run's own handlers (console, log file, secret masking), its summary as the stage's.
A failure there (an exception, a crash, a kill by the kernel's out-of-memory killer) is one error line; the
items it had not saved stay pending for the next run. ``newsmon translate`` is a process of its own already
and translates in it.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import asdict
from pathlib import Path

from crawler import heap, state
from crawler.progress import Progress
from crawler.translation import models, store
from crawler.translation.glossary import load_glossary
from crawler.translation.memory import TranslationMemory
from crawler.translation.settings import TranslationSettings
from crawler.translation.settings import settings_of as translation_settings
from crawler.translation.translator import Translator, item_lang

log = logging.getLogger(__name__)


def run_stage(ctx) -> dict:
    """Post-crawl stage contract (``crawler.runner``): translate what is pending; return a summary."""
    settings = translation_settings(ctx.config)
    if not settings.enabled:
        return {"enabled": False}
    if not model_work(settings, ctx.output_dir):
        return translate_pending(settings, ctx.output_dir)  # no model to load: nothing worth a process
    return translate_apart(settings, ctx.output_dir)


def model_work(
    settings: TranslationSettings, output_dir: str | Path, statuses: tuple[str, ...] = ("pending",)
) -> dict[str, int]:
    """Language → pending items, for the languages with both pending items and an installed model."""
    conn = state.connect(output_dir)
    try:
        counts = {lang: n for lang, n in store.pending_counts(conn, statuses).items() if lang in settings.languages}
    finally:
        conn.close()
    if not counts:
        return {}
    dirs = models.package_dirs(settings.packages_dir)
    return {lang: n for lang, n in counts.items() if models.find(lang, settings.target, dirs)}


def translate_apart(settings: TranslationSettings, output_dir: str | Path) -> dict:
    """``translate_pending`` in a new Python process (``python -c``, ``child_main``), this one waiting.

    The request (settings, output dir, log level) goes on the command line as JSON; log records and the
    summary come back as JSON lines on a pipe of their own (the child's stdout and stderr stay the run's, for
    the progress lines). Ctrl-C or SIGTERM while waiting ends the child before the interrupt goes on."""
    started = time.monotonic()
    give_back_freed_memory()
    request = {
        "settings": {**asdict(settings), "languages": list(settings.languages)},
        "output_dir": str(output_dir),
        "level": logging.getLogger().getEffectiveLevel(),
    }
    # The child imports this very checkout of newsmon, installed or not.
    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r}); "
        "from crawler.translation.stage import child_main; child_main()"
    )
    read_fd, write_fd = os.pipe()
    try:
        url = state.database_url()  # the child opens the database this process does (a config's URL too)
        child = subprocess.Popen(
            [sys.executable, "-c", code, str(write_fd), json.dumps(request)],
            pass_fds=(write_fd,),
            stdin=subprocess.DEVNULL,
            env=dict(os.environ, **{state.ENV_URL: url}) if url else None,
        )
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)  # the child's copy is the only writer left: EOF when it ends
    summary = failure = None
    try:
        with os.fdopen(read_fd, "r", encoding="utf-8") as messages:
            for line in messages:
                try:
                    message = json.loads(line)
                except ValueError:  # the last line of a process killed while writing it
                    continue
                if "log" in message:
                    _emit(message["log"])
                elif "summary" in message:
                    summary = message["summary"]
                elif "failed" in message:
                    failure = message["failed"]
                    log.debug("translation process traceback:\n%s", message.get("traceback", ""))
        child.wait()
    finally:
        _end(child)
    if summary is not None:  # the work is saved, whatever happened to the process after it
        return summary
    return _failed(settings, output_dir, failure or _death(child.returncode), started)


def give_back_freed_memory() -> None:
    """Return to the system what the crawl no longer needs, before the model process starts beside this one:
    langdetect's profiles (reloaded if a later stage detects a language), the crawl's last cycles (Python's
    collector), then the free pages of the heaps (glibc's ``malloc_trim``; a no-op elsewhere)."""
    from crawler.extract import profiles

    profiles.unload()
    heap.give_back()


def _emit(fields: dict) -> None:
    """A log record of the child, handled here as if logged here (this process's handlers and levels)."""
    record = logging.makeLogRecord(fields)
    logger = logging.getLogger(record.name)
    if logger.isEnabledFor(record.levelno):
        logger.handle(record)


def _end(child: subprocess.Popen) -> None:
    """Make sure the child is gone (an interrupt while waiting, or a reader that failed)."""
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _death(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        name = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else str(-returncode)
        why = " (the system ran out of memory?)" if -returncode == signal.SIGKILL else ""
        return f"the translation process was killed by {name}{why}"
    return f"the translation process exited with status {returncode} without a summary"


def _failed(settings: TranslationSettings, output_dir: str | Path, cause: str, started: float) -> dict:
    """One error line, and the stage's summary: what stays pending (items saved before the failure are done)."""
    left = sum(model_work(settings, output_dir).values())
    error = f"translation failed: {cause}; {left} item(s) stay pending (the next run translates them)"
    log.error("%s", error)
    return {"error": error, "pending": left, "seconds": round(time.monotonic() - started, 2)}


def child_main() -> None:
    """The translation process: ``argv`` = [fd of the message pipe, the request as JSON]."""
    # Ctrl-C reaches the whole process group: the run's process decides, and ends this one.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = os.fdopen(int(sys.argv[1]), "w", encoding="utf-8")
    request = json.loads(sys.argv[2])
    root = logging.getLogger()
    root.handlers[:] = [_PipeHandler(out)]
    root.setLevel(request["level"])
    logging.captureWarnings(True)
    values = request["settings"]
    try:
        settings = TranslationSettings(**{**values, "languages": tuple(values["languages"])})
        message = {"summary": translate_pending(settings, request["output_dir"])}
    except BaseException as exc:  # one clear line in the run's log; the traceback at debug level
        message = {"failed": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
    out.write(json.dumps(message) + "\n")
    out.close()


class _PipeHandler(logging.Handler):
    """Sends each record to the run's process, its message formatted here (arguments may not be JSON)."""

    def __init__(self, out):
        super().__init__()
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields = {k: v for k, v in record.__dict__.items() if k not in ("args", "exc_info", "msg", "message")}
            fields["msg"] = record.getMessage()
            if record.exc_info and not record.exc_text:
                fields["exc_text"] = logging.Formatter().formatException(record.exc_info)
            self.out.write(json.dumps({"log": fields}, default=str) + "\n")
            self.out.flush()
        except Exception:  # a record that cannot be sent is lost, never the translation
            self.handleError(record)


def translate_pending(
    settings: TranslationSettings,
    output_dir: str | Path,
    statuses: tuple[str, ...] = ("pending",),
    progress: Progress | None = None,
) -> dict:
    started = time.monotonic()
    conn = state.connect(output_dir)
    try:
        counts = {lang: n for lang, n in store.pending_counts(conn, statuses).items() if lang in settings.languages}
        summary = {"items": sum(counts.values()), "done": 0, "failed": 0, "pending": 0, "missing_models": []}
        if counts:
            _translate(
                settings,
                Path(output_dir),
                conn,
                statuses,
                counts,
                summary,
                progress or Progress("translate: sentences", 0),
            )
    finally:
        conn.close()
    summary["seconds"] = round(time.monotonic() - started, 2)
    return summary


def _translate(settings, output_dir, conn, statuses, counts, summary, progress) -> None:
    dirs = models.package_dirs(settings.packages_dir)
    packages = {lang: pkg for lang in sorted(counts) if (pkg := models.find(lang, settings.target, dirs))}
    missing = [lang for lang in sorted(counts) if lang not in packages]
    if missing:
        log.warning(
            "no %s model installed: %s item(s) stay pending; install with: %s",
            ", ".join(f"{lang}→{settings.target}" for lang in missing),
            sum(counts[lang] for lang in missing),
            models.INSTALL_HINT.format(langs=" ".join(missing)),
        )
    summary["pending"] = sum(counts[lang] for lang in missing)
    summary["missing_models"] = missing
    if not packages:
        return
    workable = [
        (day, item) for day, item in store.pending_items(conn, statuses, tuple(packages)) if item_lang(item) in packages
    ]
    if not workable:
        return
    memory = TranslationMemory(settings.memory_path(output_dir))
    translator = Translator(settings, load_glossary(settings.glossary or None), memory, packages)
    try:
        for start in range(0, len(workable), settings.items_per_chunk):
            _chunk(translator, conn, output_dir, workable[start : start + settings.items_per_chunk], summary, progress)
    finally:
        if progress.total:
            progress.finish()
        memory.close()
        translator.release()  # the model goes with the stage, not when this process ends
    summary.update(
        translator.stats, model_calls=translator.model_calls, models={lang: p.ref for lang, p in packages.items()}
    )


def _chunk(translator, conn, output_dir, chunk, summary, progress) -> None:
    outcomes = translator.translate([item for _day, item in chunk], progress)
    updates = {}
    for (_day, item), outcome in zip(chunk, outcomes):
        updates[outcome.item_id] = (item.get("content_hash"), outcome.fields)
        summary[outcome.status] += 1
    store.save(conn, updates)
