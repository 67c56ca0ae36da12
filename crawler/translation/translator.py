"""Items → sentences → translation memory / model → English fields, aligned paragraph by paragraph.

One language after the other, each in two rounds batched across every item of the chunk in that language:
(1) every sentence (names protected by the glossary) goes to the memory, and the misses to the model in one
length-sorted run; (2) the few sentences whose output lost a glossary name are translated again in pieces
around the names. At most one model is loaded at a time: a language's model is freed before the next one's
is loaded (languages share no sentence, memory entry or model call, so the order changes no output). An item
whose data is malformed, or one of whose sentences the model rejected, is ``failed`` with the reason; the
others are done.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version

from crawler.items import utc_now
from crawler.translation.engine import Engine, SentenceFailed, release_memory
from crawler.translation.glossary import Glossary
from crawler.translation.memory import TranslationMemory
from crawler.translation.models import ModelPackage
from crawler.translation.settings import TranslationSettings
from crawler.translation.splitter import split_sentences

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sentence:
    lang: str
    protected: str  # the model input: the sentence with glossary names in English
    expected: tuple[str, ...]  # the English names that must appear in its translation


@dataclass
class Plan:
    item: dict
    lang: str
    texts: list = field(default_factory=list)  # [title, paragraph 0, …]: list[Sentence] | str (kept) | None
    error: str | None = None


@dataclass
class Outcome:
    item_id: str
    status: str  # done | failed
    fields: dict  # title_en, text_en, paragraphs_en, translation


class Translator:
    def __init__(
        self,
        settings: TranslationSettings,
        glossary: Glossary,
        memory: TranslationMemory,
        packages: dict[str, ModelPackage],
        engine_factory: Callable = Engine,
    ):
        self.settings, self.glossary, self.memory, self.packages = settings, glossary, memory, packages
        self.engine_factory = engine_factory
        self.engines: dict[str, Engine] = {}  # the loaded model: one language at most
        self.broken: dict[str, SentenceFailed] = {}
        self.stats: Counter = Counter(from_memory=0, by_model=0, glossary_fallbacks=0)
        self.engine_name = f"ctranslate2 {version('ctranslate2')}"
        self.released_calls = 0  # model calls of the engines already freed

    @property
    def model_calls(self) -> int:
        return self.released_calls + sum(e.calls for e in self.engines.values())

    def engine(self, lang: str) -> Engine:
        """Loaded on first need only: a run served entirely from memory never loads a model. Another
        language's model is freed first, so that two models never take memory at once."""
        if lang in self.broken:
            raise self.broken[lang]
        if lang not in self.engines:
            self.release()
            package = self.packages[lang]
            try:
                self.engines[lang] = self.engine_factory(package, self.settings)
            except (RuntimeError, OSError, ValueError) as exc:
                self.broken[lang] = SentenceFailed(
                    f"cannot load model {package.name} {package.version} from "
                    f"{package.path}: {exc} (reinstall it: newsmon models install)"
                )
                log.error("%s", self.broken[lang])
                raise self.broken[lang] from None
        return self.engines[lang]

    def release(self) -> None:
        """Free the loaded model (its weights and CTranslate2's buffers) now."""
        for lang in list(self.engines):
            engine = self.engines.pop(lang)
            self.released_calls += engine.calls
            engine.close()
        release_memory()

    def translate(self, items: list[dict], progress=None) -> list[Outcome]:
        plans = [self.plan(item) for item in items]
        results: dict[tuple[str, str], str | SentenceFailed] = {}
        for lang in self.language_order(plans):
            own = [plan for plan in plans if plan.lang == lang]
            self.resolve({(s.lang, s.protected) for s in _sentences(own)}, results, progress)
            self.resolve(self.fallback_pieces(own, results), results, progress)
        return [self.assemble(plan, results) for plan in plans]

    def language_order(self, plans: list[Plan]) -> list[str]:
        """The languages to translate, the loaded model's first (the next chunk starts where this one ended,
        without loading that model again)."""
        return sorted({s.lang for s in _sentences(plans)}, key=lambda lang: (lang not in self.engines, lang))

    # -- planning ---------------------------------------------------------------------------------------
    def plan(self, item: dict) -> Plan:
        lang = item_lang(item)
        plan = Plan(item, lang)
        try:
            paragraphs, title = item.get("paragraphs"), item.get("title")
            if not isinstance(paragraphs, list) or not all(isinstance(p, str) for p in paragraphs):
                raise ValueError("'paragraphs' is not a list of strings")
            if title is not None and not isinstance(title, str):
                raise ValueError("'title' is not a string")
            langs = item.get("paragraph_langs")
            langs = langs if isinstance(langs, list) and len(langs) == len(paragraphs) else [None] * len(paragraphs)
            plan.texts = [self.sentences(title, lang) if title is not None else None]
            plan.texts += [
                p if p_lang == self.settings.target else self.sentences(p, lang) for p, p_lang in zip(paragraphs, langs)
            ]
        except ValueError as exc:
            plan.error = f"malformed item: {exc}"
        return plan

    def sentences(self, text: str, lang: str) -> list[Sentence]:
        out = []
        for sentence in split_sentences(text, lang, self.settings.max_sentence_chars):
            protected, expected = self.glossary.protect(sentence, lang)
            out.append(Sentence(lang, protected, tuple(expected)))
        return out

    # -- memory and model -------------------------------------------------------------------------------
    def resolve(self, needed: set[tuple[str, str]], results: dict, progress=None) -> None:
        by_lang: dict[str, list[str]] = {}
        for lang, text in needed - results.keys():
            by_lang.setdefault(lang, []).append(text)
        for lang, texts in sorted(by_lang.items()):
            model = self.packages[lang].ref
            found = self.memory.lookup(model, texts)
            self.stats["from_memory"] += len(found)
            results.update(((lang, s), t) for s, t in found.items())
            misses = sorted(set(texts) - found.keys())
            if misses:
                self.translate_misses(lang, misses, results, progress)

    def translate_misses(self, lang: str, misses: list[str], results: dict, progress) -> None:
        try:
            engine = self.engine(lang)
        except SentenceFailed as exc:  # a broken package fails its language's items, not the others
            results.update(((lang, s), exc) for s in misses)
            return
        if progress:
            progress.total += len(misses)
        outputs = engine.translate(misses, progress.advance if progress else None)
        self.stats["by_model"] += len(misses)
        good = {s: t for s, t in zip(misses, outputs) if isinstance(t, str)}
        self.memory.store(self.packages[lang].ref, good)
        results.update(((lang, s), t) for s, t in zip(misses, outputs))

    def fallback_pieces(self, plans: list[Plan], results: dict) -> set[tuple[str, str]]:
        """Pieces to translate for the sentences whose output lost a glossary name."""
        pieces = set()
        for s in _sentences(plans):
            out = results.get((s.lang, s.protected))
            if s.expected and isinstance(out, str) and self.glossary.repair(out, list(s.expected), s.lang) is None:
                self.stats["glossary_fallbacks"] += 1
                pieces.update(
                    (s.lang, text)
                    for text, is_name in Glossary.segments(s.protected, list(s.expected))
                    if not is_name and not Glossary.punctuation_only(text)
                )
        return pieces

    # -- assembling -------------------------------------------------------------------------------------
    def assemble(self, plan: Plan, results: dict) -> Outcome:
        item_id = plan.item.get("id")
        if plan.error is None:
            try:
                rendered = [self.render_text(t, results) for t in plan.texts]
                return self.done(item_id, plan.lang, rendered)
            except SentenceFailed as exc:
                if any(exc is broken for broken in self.broken.values()):  # logged once, not per item
                    return self.failed(item_id, plan.lang, str(exc), quiet=True)
                plan.error = f"the model failed on a sentence: {exc}"
        return self.failed(item_id, plan.lang, plan.error)

    def render_text(self, text, results: dict) -> str | None:
        if text is None or isinstance(text, str):
            return text
        return " ".join(self.render(s, results) for s in text)

    def render(self, s: Sentence, results: dict) -> str:
        out = _value(results[(s.lang, s.protected)])
        if not s.expected:
            return out
        fixed = self.glossary.repair(out, list(s.expected), s.lang)
        if fixed is not None:
            return fixed
        parts = []
        for text, is_name in Glossary.segments(s.protected, list(s.expected)):
            if is_name:
                parts.append(text)
            elif Glossary.punctuation_only(text):
                parts.append(Glossary.english_punctuation(text))
            else:
                parts.append(_value(results[(s.lang, text)]))
        return re.sub(r"\s+([,.;:!?)])", r"\1", " ".join(p for p in parts if p))

    def done(self, item_id: str, lang: str, rendered: list) -> Outcome:
        paragraphs = rendered[1:]
        return Outcome(
            item_id,
            "done",
            {
                "title_en": rendered[0],
                "text_en": "\n\n".join(paragraphs),
                "paragraphs_en": paragraphs,
                "translation": {
                    "engine": self.engine_name,
                    "model": self.packages[lang].ref,
                    "status": "done",
                    "error": None,
                    "translated_at": utc_now(),
                },
            },
        )

    def failed(self, item_id: str, lang: str, error: str, quiet: bool = False) -> Outcome:
        (log.debug if quiet else log.warning)("item %s: translation failed: %s", item_id, error)
        package = self.packages.get(lang)
        return Outcome(
            item_id,
            "failed",
            {
                "title_en": None,
                "text_en": None,
                "paragraphs_en": None,
                "translation": {
                    "engine": self.engine_name,
                    "model": package.ref if package else None,
                    "status": "failed",
                    "error": error,
                    "translated_at": utc_now(),
                },
            },
        )


def item_lang(item: dict) -> str:
    """ "zh" for "zh", "zh-cn", "zh-tw"; "" when unknown."""
    return str(item.get("lang") or "").split("-")[0].lower()


def _sentences(plans: list[Plan]):
    for plan in plans:
        if plan.error is None:
            for text in plan.texts:
                if isinstance(text, list):
                    yield from text


def _value(result) -> str:
    if isinstance(result, SentenceFailed):
        raise result
    return result
