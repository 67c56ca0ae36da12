-- Archive search: every item, full text in the original and in English.
--
-- search_docs holds one row per item (the fields search shows and filters on); search_fts indexes its text
-- with the trigram tokenizer, so any substring of three or more characters matches (Chinese has no
-- spaces between words) and case is folded (Latin and Cyrillic). search_fts is an external-content
-- table of search_docs: written `content="search_docs"` exactly, as Datasette looks for that text to put a
-- search box on the search_docs page.

CREATE TABLE IF NOT EXISTS search_docs (
    rowid       INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,          -- the item id
    day         TEXT NOT NULL,                 -- YYYY-MM-DD of the items.jsonl holding it
    date        TEXT NOT NULL,                 -- publication date (YYYY-MM-DD), else the crawl day
    source      TEXT NOT NULL,
    section     TEXT NOT NULL,                 -- section key "source/section"
    lang        TEXT,
    url         TEXT NOT NULL,
    title       TEXT,
    title_en    TEXT,
    text        TEXT,
    text_en     TEXT,
    translation TEXT,                          -- translation status: done | pending | not_needed | failed
    version     INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS search_docs_date ON search_docs(date);
CREATE INDEX IF NOT EXISTS search_docs_section ON search_docs(section);

CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
    title, title_en, text, text_en,
    content="search_docs", content_rowid="rowid", tokenize="trigram"
);

-- Keep the index in step with search_docs (the usual external-content triggers).
CREATE TRIGGER IF NOT EXISTS search_docs_ai AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_fts(rowid, title, title_en, text, text_en)
    VALUES (new.rowid, new.title, new.title_en, new.text, new.text_en);
END;
CREATE TRIGGER IF NOT EXISTS search_docs_ad AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_fts(search_fts, rowid, title, title_en, text, text_en)
    VALUES ('delete', old.rowid, old.title, old.title_en, old.text, old.text_en);
END;
CREATE TRIGGER IF NOT EXISTS search_docs_au AFTER UPDATE ON search_docs BEGIN
    INSERT INTO search_fts(search_fts, rowid, title, title_en, text, text_en)
    VALUES ('delete', old.rowid, old.title, old.title_en, old.text, old.text_en);
    INSERT INTO search_fts(rowid, title, title_en, text, text_en)
    VALUES (new.rowid, new.title, new.title_en, new.text, new.text_en);
END;

-- Items written or rewritten since the index was last brought up to date (by anyone: the store, the
-- translation stage, edits, re-extraction). The digest stage indexes them and empties the queue.
CREATE TABLE IF NOT EXISTS search_pending (
    id TEXT PRIMARY KEY
);
CREATE TRIGGER IF NOT EXISTS search_items_ai AFTER INSERT ON items BEGIN
    INSERT OR IGNORE INTO search_pending(id) VALUES (new.id);
END;
CREATE TRIGGER IF NOT EXISTS search_items_au AFTER UPDATE ON items BEGIN
    INSERT OR IGNORE INTO search_pending(id) VALUES (new.id);
END;
CREATE TRIGGER IF NOT EXISTS search_items_ad AFTER DELETE ON items BEGIN
    INSERT OR IGNORE INTO search_pending(id) VALUES (old.id);
END;
