-- Stories (crawler/stories): near-duplicate copies of one story across outlets and languages.
--
-- Every fingerprinted item has a story_items row: its MinHash signatures and the story it belongs to
-- (story_id = the id of the story's first item, i.e. the first one fetched). story_bands is the LSH index:
-- one row per band of a signature, so the candidates of a new item are an index lookup of its band keys,
-- not a scan of the archive. Times are Unix seconds (UTC).

CREATE TABLE IF NOT EXISTS story_items (
    no           INTEGER PRIMARY KEY,          -- what story_bands refers to (smaller than the id text)
    item_id      TEXT NOT NULL UNIQUE,         -- items.id
    day          TEXT NOT NULL,                -- items.day: the items.jsonl holding its line
    at           INTEGER NOT NULL,             -- when it was first fetched: the look-back window compares this
    source       TEXT NOT NULL,
    section      TEXT NOT NULL,                -- section key "source/section"
    lang         TEXT NOT NULL,                -- 'und' when unknown
    content_hash TEXT,                         -- the version fingerprinted (an edit is fingerprinted again)
    english      INTEGER NOT NULL DEFAULT 0,   -- 1: English text existed when fingerprinted (translated later: again)
    signature    BLOB,                         -- MinHash of the original text (uint32 little-endian), NULL if too short
    signature_en BLOB,                         -- MinHash of the English text, NULL if none (yet)
    story_id     TEXT NOT NULL,
    indexed      INTEGER NOT NULL DEFAULT 1,   -- 0 once its bands left the index ([stories] index_days)
    synced       INTEGER NOT NULL DEFAULT 0    -- 1: the item's JSON (items row + items.jsonl line) shows its story
);
CREATE INDEX IF NOT EXISTS story_items_story ON story_items(story_id);
CREATE INDEX IF NOT EXISTS story_items_at ON story_items(at);
CREATE INDEX IF NOT EXISTS story_items_unsynced ON story_items(synced) WHERE synced = 0;

-- key: 64-bit hash of (scheme, language space, band number, the band's hash values).
CREATE TABLE IF NOT EXISTS story_bands (
    key  INTEGER NOT NULL,
    item INTEGER NOT NULL,                     -- story_items.no
    PRIMARY KEY (key, item)
) WITHOUT ROWID;
