"""Page → article → language: trafilatura, per-site parsers, seeded langdetect."""
