-- The same step as 0029_fingerprints_rehashed.sql: PostgreSQL drops the columns in place.
DELETE FROM story_bands;
ALTER TABLE story_items DROP COLUMN signature;
ALTER TABLE story_items DROP COLUMN signature_en;
UPDATE story_items SET indexed = 0;
CREATE TABLE story_signatures (
    no           BIGINT PRIMARY KEY,           -- story_items.no of an item in the LSH index
    signature    BYTEA,                        -- MinHash of the original text (uint32 little-endian), NULL if too short
    signature_en BYTEA                         -- MinHash of the English text, NULL if none (yet)
);
