"""The runtime: a package's CTranslate2 model and SentencePiece model, loaded directly, batched.

Sentences from many items arrive together; they are tokenized, sorted by length (so a batch holds sentences
of similar length and little padding) and sent to ``translate_batch`` one batch at a time. CTranslate2 does
the work in C++ threads (``intra_threads``) and releases the GIL. ``calls`` and ``sentences`` count what
really reached the model, so the cache can be shown to spare it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any

from crawler import heap
from crawler.exceptions import ConfigError
from crawler.translation.models import ModelPackage
from crawler.translation.settings import TranslationSettings

log = logging.getLogger(__name__)


class SentenceFailed(Exception):
    """The model could not translate one sentence (kept per sentence so other items are unaffected)."""


class Engine:
    def __init__(self, package: ModelPackage, settings: TranslationSettings):
        import ctranslate2
        import sentencepiece

        started = time.monotonic()
        self.package = package
        self.batch_size = settings.batch_size
        self.device = device_of(settings.device, ctranslate2.get_cuda_device_count())
        check_compute_type(settings.compute_type, self.device, ctranslate2.get_supported_compute_types(self.device))
        self.translator = ctranslate2.Translator(
            str(package.model_dir),
            device=self.device,
            compute_type=settings.compute_type,
            inter_threads=1,
            intra_threads=settings.threads or (os.cpu_count() or 1),
        )
        self.sp: Any = sentencepiece.SentencePieceProcessor(model_file=str(package.sp_model))  # None once closed
        self.options = translate_options(settings)
        self.prefix = [package.target_prefix] if package.target_prefix else None
        self.calls = 0
        self.sentences = 0
        log.info("loaded %s %s on %s in %.2f s", package.name, package.version, self.device, time.monotonic() - started)

    def close(self) -> None:
        """Free the model now. The CTranslate2 translator owns the weights and the buffers its decoding
        grew; dropping the one reference frees them (``calls`` and ``sentences`` stay readable)."""
        self.translator = None
        self.sp = None

    def tokenize(self, sentence: str) -> list[str]:
        return self.sp.encode(sentence, out_type=str)

    def detokenize(self, tokens: list[str]) -> str:
        if self.prefix and tokens[:1] == self.prefix:
            tokens = tokens[1:]
        return self.sp.decode_pieces(tokens).strip()

    def translate(
        self, sentences: list[str], progress: Callable[[int], None] | None = None
    ) -> list[str | SentenceFailed]:
        """English for each sentence, in order; a sentence the model rejects gets a ``SentenceFailed``."""
        tokens = [self.tokenize(s) for s in sentences]
        order = sorted(range(len(sentences)), key=lambda i: len(tokens[i]))
        results: list[str | SentenceFailed] = [SentenceFailed("not translated")] * len(sentences)
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            for i, text in zip(batch, self._batch([tokens[i] for i in batch])):
                results[i] = text
            if progress:
                progress(len(batch))
        return results

    def _batch(self, batch: list[list[str]]) -> list[str | SentenceFailed]:
        try:
            return [self.detokenize(r.hypotheses[0]) for r in self._call(batch)]
        except (RuntimeError, ValueError) as exc:
            if len(batch) == 1:
                log.warning("the model failed on a sentence of %s tokens: %s", len(batch[0]), exc)
                return [SentenceFailed(f"{type(exc).__name__}: {exc}")]
            log.warning("a batch of %s sentences failed (%s); retrying them one by one", len(batch), exc)
            return [self._batch([one])[0] for one in batch]

    def _call(self, batch: list[list[str]]):
        self.calls += 1
        self.sentences += len(batch)
        prefix = [self.prefix] * len(batch) if self.prefix else None
        return self.translator.translate_batch(batch, target_prefix=prefix, **self.options)


def device_of(setting: str, cuda_devices: int) -> str:
    """The CTranslate2 device for ``[translation] device``: "auto" takes the GPU when there is one."""
    if setting == "auto":
        return "cuda" if cuda_devices > 0 else "cpu"
    if setting == "cuda" and cuda_devices == 0:
        raise ConfigError(
            '[translation] device = "cuda": CTranslate2 finds no CUDA device on this machine '
            '(no GPU, no NVIDIA driver, or no CUDA libraries); set device = "auto" or "cpu"'
        )
    return setting


def check_compute_type(compute_type: str, device: str, supported: set[str]) -> None:
    """CTranslate2 refuses a weight type the device lacks with a ValueError that would read as a broken
    model: say it is the setting instead."""
    if compute_type not in ("auto", "default") and compute_type not in supported:
        raise ConfigError(
            f'[translation] compute_type = "{compute_type}": not supported on {device} here '
            f'(supported: {", ".join(sorted(supported))}, or "auto")'
        )


def release_memory() -> None:
    """Hand the memory a freed model leaves in the C heap back to the system. glibc keeps freed blocks for
    reuse (CTranslate2's decoding buffers land there, in the arena of each of its threads), so without a trim
    the next model would be loaded on top of the last one's leftovers. Elsewhere than glibc: nothing to do."""
    heap.give_back()


def translate_options(settings: TranslationSettings) -> dict:
    """The decoding options newsmon uses (the benchmark passes the same ones to the raw baseline)."""
    return {
        "beam_size": settings.beam_size,
        "max_batch_size": settings.batch_size,
        "max_decoding_length": settings.max_decoding_length,
        "replace_unknowns": True,
        "length_penalty": 0.2,
        "num_hypotheses": 1,
    }
