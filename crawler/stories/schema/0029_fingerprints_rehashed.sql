-- Shingles are hashed another way (from their words' hashes, in numpy): a stored signature cannot be compared
-- with a new one. Every item leaves the LSH index and keeps its story; the next stories stage fingerprints
-- again those fetched within [stories] index_days (stage.pending: an item in the window, not indexed).
--
-- Signatures move to a table of their own, one row per item in the index, deleted when the item leaves it:
-- set to NULL in story_items they left each row's page (two signatures took most of a page) allocated and
-- nearly empty for good, about 4 KB per item the index ever held. Dropping the columns rewrites the table
-- compactly.
DELETE FROM story_bands;
ALTER TABLE story_items DROP COLUMN signature;
ALTER TABLE story_items DROP COLUMN signature_en;
UPDATE story_items SET indexed = 0;
CREATE TABLE IF NOT EXISTS story_signatures (
    no           INTEGER PRIMARY KEY,          -- story_items.no of an item in the LSH index
    signature    BLOB,                         -- MinHash of the original text (uint32 little-endian), NULL if too short
    signature_en BLOB                          -- MinHash of the English text, NULL if none (yet)
);
