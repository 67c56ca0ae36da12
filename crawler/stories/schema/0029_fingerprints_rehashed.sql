-- Shingles are hashed another way (from their words' hashes, in numpy): a stored signature cannot be compared
-- with a new one. Every item leaves the LSH index and keeps its story; the next stories stage fingerprints
-- again those fetched within [stories] index_days (stage.pending: an item in the window, not indexed).
--
-- Signatures move to a table of their own, one row per item in the index, deleted when the item leaves it:
-- set to NULL in story_items they left each row's page (two signatures took most of a page) allocated and
-- nearly empty for good, about 4 KB per item the index ever held. story_items is copied into a table without
-- them, which packs its rows.
DELETE FROM story_bands;
CREATE TABLE story_items_compact (
    no           INTEGER PRIMARY KEY,          -- what story_bands and story_signatures refer to
    item_id      TEXT NOT NULL UNIQUE,         -- items.id
    day          TEXT NOT NULL,                -- items.day: the items.jsonl holding its line
    at           INTEGER NOT NULL,             -- when it was first fetched: the look-back window compares this
    source       TEXT NOT NULL,
    section      TEXT NOT NULL,                -- section key "source/section"
    lang         TEXT NOT NULL,                -- 'und' when unknown
    content_hash TEXT,                         -- the version fingerprinted (an edit is fingerprinted again)
    english      INTEGER NOT NULL DEFAULT 0,   -- 1: English text existed when fingerprinted (translated later: again)
    story_id     TEXT NOT NULL,
    indexed      INTEGER NOT NULL DEFAULT 1,   -- 0 once its bands left the index ([stories] index_days)
    synced       INTEGER NOT NULL DEFAULT 0    -- 1: the item's JSON (items row + items.jsonl line) shows its story
);
INSERT INTO story_items_compact(no, item_id, day, at, source, section, lang, content_hash, english, story_id,
                                indexed, synced)
    SELECT no, item_id, day, at, source, section, lang, content_hash, english, story_id, 0, synced
    FROM story_items;
DROP TABLE story_items;
ALTER TABLE story_items_compact RENAME TO story_items;
CREATE INDEX story_items_story ON story_items(story_id);
CREATE INDEX story_items_at ON story_items(at);
CREATE INDEX story_items_unsynced ON story_items(synced) WHERE synced = 0;
CREATE TABLE story_signatures (
    no           INTEGER PRIMARY KEY,          -- story_items.no of an item in the LSH index
    signature    BLOB,                         -- MinHash of the original text (uint32 little-endian), NULL if too short
    signature_en BLOB                          -- MinHash of the English text, NULL if none (yet)
);
