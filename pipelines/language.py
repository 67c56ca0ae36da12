"""Language: langdetect (seeded) over the extracted paragraphs; per-paragraph languages on mixed pages."""

from __future__ import annotations

import logging

from crawler.extract.language import LangResult, detect_language

log = logging.getLogger(__name__)


class LanguagePipeline:
    def process_item(self, item):
        if "lang" in item:  # already detected in an extraction worker process
            return item
        extracted = item["extracted"]
        try:
            item["lang"] = detect_language(extracted.paragraphs, extracted.title)
        except Exception as exc:  # no language is better than a lost item
            log.warning("%s: language detection failed: %s: %s", item["page"].url, type(exc).__name__, exc)
            item["lang"] = LangResult(None, 0.0, None)
        return item
