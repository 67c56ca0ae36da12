"""Offline zh/ru → en translation.

Argos Translate packages are found, installed and removed by newsmon itself, in Argos' own layout and places
(``argos``: its conventions; no ``argostranslate`` package, whose dependencies pull stanza and torch); the
runtime loads each package's CTranslate2 model and SentencePiece model directly.

Modules: ``settings`` (the ``[translation]`` table), ``argos`` (Argos' settings, directories,
index and metadata), ``models`` (discovery, install, removal), ``splitter`` (sentences),
``glossary`` (fixed renderings of names), ``memory`` (SQLite translation memory), ``engine`` (batched
CTranslate2), ``translator`` (items → sentences → memory/engine → aligned English), ``store`` (pending items
in the state DB and their JSONL lines), ``stage`` (the post-crawl stage and ``newsmon translate``).
"""
