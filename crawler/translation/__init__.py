"""Offline zh/ru → en translation.

Argos Translate packages are discovered and installed with ``argostranslate.package`` (light: it needs only
sentencepiece and packaging); the runtime loads each package's CTranslate2 model and SentencePiece model
directly and never imports ``argostranslate.translate`` (which pulls stanza and torch, and whose sentence
splitter downloads a model at first use).

Modules: ``settings`` (the ``[translation]`` table), ``models`` (discovery, install), ``splitter`` (sentences),
``glossary`` (fixed renderings of names), ``memory`` (SQLite translation memory), ``engine`` (batched
CTranslate2), ``translator`` (items → sentences → memory/engine → aligned English), ``store`` (pending items
in the state DB and their JSONL lines), ``stage`` (the post-crawl stage and ``newsmon translate``).
"""
