-- The search index without a second copy of the text (crawler/digest/search.py).
--
-- search_docs keeps what search filters on and shows (dates, source, section, language, URL, titles,
-- translation status), no longer the article text: the text of a hit is read from its items row. text_key is
-- a hash of the indexed text (titles and text, original and English), so a change that leaves the text alone
-- (story, watch, translation status) rewrites the row and not the index.
--
-- search_fts is contentless (content='') with detail=none: it stores, for each trigram, the rows holding it
-- and nothing else — no copy of the text, no positions. That makes it about 7× smaller than the trigram
-- index with positions (detail=full), which was the largest part of the state DB. A term is looked up as
-- its trigrams ANDed, which finds a superset of the rows holding the term; search.py then keeps the rows
-- whose text really contains it (the same substring test short terms always had), so the results are the
-- same. A contentless table cannot delete a row without being handed the text it indexed, so an item whose
-- text changes gets a new rowid (AUTOINCREMENT: never reused) and a new index row; the old one is left
-- behind, matches no search_docs row, and goes when search.py compacts the index (when such rows exceed a
-- quarter of the live ones) or at `newsmon search --rebuild`.
--
-- The old tables are dropped and the search consumer's feed cursor removed: the next index update (the
-- run's digest stage, `newsmon search`, `newsmon digest`) indexes every item again, as for a DB whose index
-- never read the feed.

DROP TRIGGER IF EXISTS search_docs_ai;
DROP TRIGGER IF EXISTS search_docs_ad;
DROP TRIGGER IF EXISTS search_docs_au;
DROP TABLE IF EXISTS search_fts;
DROP TABLE IF EXISTS search_docs;

CREATE TABLE search_docs (
    rowid       INTEGER PRIMARY KEY AUTOINCREMENT,  -- = the search_fts row of the text indexed now
    id          TEXT NOT NULL UNIQUE,               -- the item id
    day         TEXT NOT NULL,                      -- YYYY-MM-DD of the items.jsonl holding it
    date        TEXT NOT NULL,                      -- publication date (YYYY-MM-DD), else the crawl day
    source      TEXT NOT NULL,
    section     TEXT NOT NULL,                      -- section key "source/section"
    lang        TEXT,
    url         TEXT NOT NULL,
    title       TEXT,
    title_en    TEXT,
    translation TEXT,                               -- translation status: done | pending | not_needed | failed
    version     INTEGER NOT NULL DEFAULT 1,
    text_key    INTEGER NOT NULL                    -- hash of the indexed text (search.py text_key)
);
CREATE INDEX search_docs_date ON search_docs(date);
CREATE INDEX search_docs_section ON search_docs(section);

CREATE VIRTUAL TABLE search_fts USING fts5(
    title, title_en, text, text_en,
    content='', detail='none', tokenize='trigram'
);

DELETE FROM feed_cursors WHERE consumer = 'search';
